"""``--expect FILE``: what the page should report on the footage, and whether it did.

The format (docs/check.md is its user doc): a JSON object with any of

- ``labels``: ``{"stop": {"min_frames": 0.8, "max_frames": 1.0}}``: the share of processed
  frames that report the label at least once is within the bounds (each defaults to 0 and 1;
  an entry with neither means ``min_frames`` 1);
- ``boxes``: ``[{"label": "stop", "box": {"x", "y", "width", "height"}, "iou": 0.5,
  "min_frames": 1.0}]``: a detection of the label overlaps the box (normalised to the frame) by
  at least ``iou`` in at least ``min_frames`` of the processed frames;
- ``frames``: one entry per footage frame, ``null`` (not checked) or ``{"labels": [...],
  "boxes": [...]}``: each processed frame reports exactly that set of labels, and a detection for
  each box; ``min_frames`` beside ``frames`` (default 1) is the share of checked frames that must.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sitegen.check import CheckError, PageEvent
from sitegen.site.verify import box_iou

DEFAULT_IOU = 0.5
_BOX_KEYS = ("x", "y", "width", "height")


@dataclass(frozen=True)
class LabelShare:
    label: str
    min_frames: float
    max_frames: float


@dataclass(frozen=True)
class ExpectedBox:
    label: str
    box: dict[str, float]
    iou: float
    min_frames: float = 1.0  # whole-clip boxes only


@dataclass(frozen=True)
class FrameEntry:
    labels: frozenset[str] | None  # None: not checked
    boxes: tuple[ExpectedBox, ...]


@dataclass(frozen=True)
class Expectations:
    labels: tuple[LabelShare, ...] = ()
    boxes: tuple[ExpectedBox, ...] = ()
    frames: tuple[FrameEntry | None, ...] | None = None
    frames_min: float = 1.0

    @property
    def needs_frame_coordinates(self) -> bool:
        return bool(self.boxes) or self.frames is not None


@dataclass(frozen=True)
class Outcome:
    expectation: str  # what was asked, in words
    passed: bool
    found: str  # what the page did
    short_by: str = ""  # how far from passing, when it did not


class _Reader:
    """Reads one --expect file; every problem names where in the file it is."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, where: str, why: str) -> CheckError:
        return CheckError(f"--expect {self.path}: {where} {why}; see docs/check.md for the format")

    def share(self, value, where: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise self.fail(where, f"is {value!r}, not a share from 0 to 1 (0.8 means 80%)")
        return float(value)

    def obj(self, value, where: str, allowed: tuple[str, ...]) -> dict:
        if not isinstance(value, dict):
            raise self.fail(where, f"is {type(value).__name__}, not an object")
        unknown = sorted(set(value) - set(allowed))
        if unknown:
            raise self.fail(where, f"has unknown key {unknown[0]!r} (known: {', '.join(allowed)})")
        return value

    def label(self, value, where: str) -> str:
        if not isinstance(value, str) or not value:
            raise self.fail(where, f"is {value!r}, not a label name")
        return value

    def box(self, value, where: str, *, whole_clip: bool) -> ExpectedBox:
        keys = ("label", "box", "iou", "min_frames") if whole_clip else ("label", "box", "iou")
        entry = self.obj(value, where, keys)
        if "label" not in entry or "box" not in entry:
            raise self.fail(where, "needs a label and a box")
        area = self.obj(entry["box"], f"{where}.box", _BOX_KEYS)
        numbers = {}
        for key in _BOX_KEYS:
            number = area.get(key)
            if isinstance(number, bool) or not isinstance(number, int | float):
                raise self.fail(f"{where}.box.{key}", f"is {number!r}, not a number")
            numbers[key] = float(number)
        if numbers["width"] <= 0 or numbers["height"] <= 0:
            raise self.fail(f"{where}.box", "has no area (width and height are normalised, 0..1)")
        iou = self.share(entry.get("iou", DEFAULT_IOU), f"{where}.iou")
        min_frames = self.share(entry.get("min_frames", 1.0), f"{where}.min_frames")
        return ExpectedBox(self.label(entry["label"], f"{where}.label"), numbers, iou, min_frames)


def read_expectations(path: Path, footage_frames: int) -> Expectations:
    reader = _Reader(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CheckError(f"--expect {path} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckError(f"--expect {path} is not a JSON file ({exc})") from None
    data = reader.obj(data, "the file", ("labels", "boxes", "frames", "min_frames"))
    if not any(key in data for key in ("labels", "boxes", "frames")):
        raise reader.fail("the file", "asks for nothing: give labels, boxes or frames")
    return Expectations(
        labels=_label_shares(reader, data.get("labels", {})),
        boxes=tuple(
            reader.box(b, f"boxes[{i}]", whole_clip=True)
            for i, b in enumerate(_list(reader, data.get("boxes", []), "boxes"))
        ),
        frames=_frames(reader, data["frames"], footage_frames) if "frames" in data else None,
        frames_min=reader.share(data.get("min_frames", 1.0), "min_frames"),
    )


def _list(reader: _Reader, value, where: str) -> list:
    if not isinstance(value, list):
        raise reader.fail(where, f"is {type(value).__name__}, not a list")
    return value


def _label_shares(reader: _Reader, value) -> tuple[LabelShare, ...]:
    if not isinstance(value, dict):
        raise reader.fail("labels", "is not an object of label: {min_frames, max_frames}")
    shares = []
    for label, bounds in value.items():
        where = f"labels.{label}"
        bounds = reader.obj(bounds, where, ("min_frames", "max_frames"))
        low_default = 0.0 if "max_frames" in bounds else 1.0
        low = reader.share(bounds.get("min_frames", low_default), f"{where}.min_frames")
        high = reader.share(bounds.get("max_frames", 1.0), f"{where}.max_frames")
        if low > high:
            raise reader.fail(where, f"asks for at least {low:g} and at most {high:g}")
        shares.append(LabelShare(reader.label(label, where), low, high))
    return tuple(shares)


def _frames(reader: _Reader, value, footage_frames: int) -> tuple[FrameEntry | None, ...]:
    entries = _list(reader, value, "frames")
    if len(entries) != footage_frames:
        raise reader.fail(
            "frames", f"has {len(entries)} entries; the footage has {footage_frames} frames"
        )
    parsed = []
    for index, entry in enumerate(entries):
        where = f"frames[{index}]"
        if entry is None:
            parsed.append(None)
            continue
        entry = reader.obj(entry, where, ("labels", "boxes"))
        labels = None
        if "labels" in entry:
            names = _list(reader, entry["labels"], f"{where}.labels")
            labels = frozenset(reader.label(n, f"{where}.labels") for n in names)
        boxes = tuple(
            reader.box(b, f"{where}.boxes[{i}]", whole_clip=False)
            for i, b in enumerate(_list(reader, entry.get("boxes", []), f"{where}.boxes"))
        )
        parsed.append(FrameEntry(labels, boxes))
    return tuple(parsed)


def best_overlap(event: PageEvent, expected: ExpectedBox) -> float:
    overlaps = [
        box_iou(d["box"], expected.box) for d in event.detections if d["label"] == expected.label
    ]
    return max(overlaps, default=0.0)


def evaluate(expectations: Expectations, events: list[PageEvent]) -> list[Outcome]:
    outcomes = [_label_outcome(share, events) for share in expectations.labels]
    outcomes += [_box_outcome(box, events) for box in expectations.boxes]
    if expectations.frames is not None:
        outcomes.append(_frames_outcome(expectations, events))
    return outcomes


def _percent(share: float) -> str:
    return f"{share * 100:.0f}%"


def _count(hits: int, total: int) -> str:
    return f"{hits} of {total} frames ({_percent(hits / total)})"


def _label_outcome(share: LabelShare, events: list[PageEvent]) -> Outcome:
    total = len(events)
    hits = sum(1 for e in events if share.label in e.labels)
    bounds = []
    if share.min_frames > 0:
        bounds.append(f"at least {_percent(share.min_frames)}")
    if share.max_frames < 1:
        bounds.append(f"at most {_percent(share.max_frames)}")
    asked = f"label {share.label!r} in {' and '.join(bounds) or 'any share'} of frames"
    short = ""
    if hits < share.min_frames * total:
        short = f"{_frames_needed(share.min_frames * total) - hits} frames short"
    elif hits > share.max_frames * total:
        short = f"{hits - int(share.max_frames * total)} frames too many"
    return Outcome(asked, not short, _count(hits, total), short)


def _frames_needed(exact: float) -> int:
    whole = int(exact)
    return whole if whole >= exact - 1e-9 else whole + 1


def _box_outcome(box: ExpectedBox, events: list[PageEvent]) -> Outcome:
    overlaps = sorted(best_overlap(e, box) for e in events)
    hits = sum(1 for o in overlaps if o >= box.iou)
    where = ", ".join(f"{k}={box.box[k]:.3f}" for k in _BOX_KEYS)
    asked = (
        f"a {box.label!r} box at IoU >= {box.iou:g} with ({where}) "
        f"in at least {_percent(box.min_frames)} of frames"
    )
    found = f"{_count(hits, len(events))}, median best IoU {overlaps[len(overlaps) // 2]:.2f}"
    missing = _frames_needed(box.min_frames * len(events)) - hits
    return Outcome(asked, missing <= 0, found, f"{missing} frames short" if missing > 0 else "")


def _frames_outcome(expectations: Expectations, events: list[PageEvent]) -> Outcome:
    asked = f"the frames' entries met in at least {_percent(expectations.frames_min)} of frames"
    checked, misses = 0, []
    for event in events:
        entry = expectations.frames[event.footage_frame]
        if entry is None:
            continue
        checked += 1
        problem = _entry_problem(entry, event)
        if problem:
            misses.append(
                f"footage frame {event.footage_frame} (page frame {event.frame}): {problem}"
            )
    if not checked:
        return Outcome(asked, False, "no processed frame showed a footage frame with an entry")
    met = checked - len(misses)
    short = _frames_needed(expectations.frames_min * checked) - met
    found = _count(met, checked) + (f"; first miss: {misses[0]}" if misses else "")
    return Outcome(asked, short <= 0, found, f"{short} frames short" if short > 0 else "")


def _entry_problem(entry: FrameEntry, event: PageEvent) -> str | None:
    reported = frozenset(event.labels)
    if entry.labels is not None and reported != entry.labels:
        return f"labels {sorted(reported)}, expected {sorted(entry.labels)}"
    for box in entry.boxes:
        overlap = best_overlap(event, box)
        if overlap < box.iou:
            return f"no {box.label!r} box at IoU >= {box.iou:g} (best {overlap:.2f})"
    return None
