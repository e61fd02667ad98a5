"""What ``sitegen check`` prints and writes: a summary (or a line per frame), and with ``--json``
every event with the footage frame it showed and the expectations' outcomes."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from sitegen.check import PageEvent
from sitegen.check.expect import Outcome
from sitegen.footage.y4m import Y4mInfo


def summary_lines(events: list[PageEvent], info: Y4mInfo, outcomes: list[Outcome]) -> list[str]:
    shown = {e.footage_frame for e in events if e.footage_frame is not None}
    backends = Counter(e.detail.get("backend") for e in events)
    timings = np.array([float(e.detail.get("inferenceMs", 0.0)) for e in events])
    lines = [
        f"  frames     {len(events)} processed, showing {len(shown)} of the footage's "
        f"{info.frames} frames",
        f"  backend    {_backends_text(backends)}",
        f"  inference  median {np.median(timings):.1f} ms, p95 {np.percentile(timings, 95):.1f} ms",
    ]
    lines += label_lines(events)
    lines += [_outcome_line(o) for o in outcomes]
    return lines


def _backends_text(backends: Counter) -> str:
    """One backend by name; several (a page that switched) with their frame counts."""
    if len(backends) == 1:
        return str(next(iter(backends)))
    return ", ".join(f"{name} ({count} frames)" for name, count in backends.most_common())


def label_lines(events: list[PageEvent]) -> list[str]:
    """Per label: the frames that report it, and its mean score over all its detections."""
    frames_with: Counter[str] = Counter()
    scores: dict[str, list[float]] = {}
    for event in events:
        frames_with.update(set(event.labels))
        for detection in event.detections:
            scores.setdefault(detection["label"], []).append(float(detection["score"]))
    if not scores:
        return ["  labels     none reported in any frame"]
    return [
        f"  {label:<10} in {frames_with[label]} of {len(events)} frames "
        f"({frames_with[label] / len(events):.0%}), {len(scores[label])} detections, "
        f"mean score {np.mean(scores[label]):.2f}"
        for label in sorted(scores, key=lambda name: (-frames_with[name], name))
    ]


def _outcome_line(outcome: Outcome) -> str:
    verdict = "ok  " if outcome.passed else "FAIL"
    short = f" ({outcome.short_by})" if outcome.short_by else ""
    return f"  {verdict}       {outcome.expectation}: {outcome.found}{short}"


def frame_lines(events: list[PageEvent], sources: list[str] | None) -> list[str]:
    """A line per processed frame: page frame, footage frame (and its source), backend, time,
    detections as label score [x, y, width, height]."""
    lines = []
    for event in sorted(events, key=lambda e: e.frame):
        index = event.footage_frame
        where = f"footage {index}" if index is not None else "footage ?"
        if sources and index is not None and index < len(sources):
            where += f" ({Path(sources[index]).name})"
        found = "; ".join(_detection_text(d) for d in event.detections) or "nothing"
        lines.append(
            f"  frame {event.frame:>5}  {where}  {event.detail.get('backend')}  "
            f"{float(event.detail.get('inferenceMs', 0.0)):.1f} ms  {found}"
        )
    return lines


def _detection_text(detection: dict) -> str:
    box = detection["box"]
    numbers = ", ".join(f"{box[k]:.3f}" for k in ("x", "y", "width", "height"))
    return f"{detection['label']} {detection['score']:.2f} [{numbers}]"


def failure_message(outcomes: list[Outcome]) -> str | None:
    """One line for the error: the first expectation that failed, and by how much."""
    failed = [o for o in outcomes if not o.passed]
    if not failed:
        return None
    first = failed[0]
    short = f", {first.short_by}" if first.short_by else ""
    more = f" ({len(failed) - 1} more failed; see the lines above)" if len(failed) > 1 else ""
    return f"expectation failed: {first.expectation}: {first.found}{short}{more}"


def events_json(
    site: Path, info: Y4mInfo, query: str, events: list[PageEvent], outcomes: list[Outcome]
) -> dict:
    return {
        "site": str(site),
        "footage": str(info.path),
        "footageFrames": info.frames,
        "fps": info.fps,
        "query": query,
        "events": [
            {
                **event.detail,
                "footageFrame": event.footage_frame,
                "matchDistance": event.match_distance,
            }
            for event in sorted(events, key=lambda e: e.frame)
        ],
        "expectations": [
            {
                "expectation": o.expectation,
                "passed": o.passed,
                "found": o.found,
                "shortBy": o.short_by,
            }
            for o in outcomes
        ],
    }
