"""``sitegen check SITE --footage F.y4m``: site and footage checked → the page run in headless
Chromium with the footage as its camera → events matched to footage frames → summary (or a line
per frame), ``--json`` and ``--expect`` verdicts.

Every input is checked before Chromium starts; the stages live in ``sitegen.check``, this file
orders them and prints the result.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sitegen.check import CheckError, ExpectationError, PageEvent, report
from sitegen.check import frames as footage_frames
from sitegen.check.expect import Expectations, Outcome, evaluate, read_expectations
from sitegen.check.page import PageRun, collect_events, page_query
from sitegen.check.site import check_backend, read_site
from sitegen.errors import MissingDependencyError
from sitegen.footage import description_path, write_atomically
from sitegen.footage.y4m import Y4mInfo, read_info
from sitegen.progress import note, stage

LOAD_SECONDS = 120  # the page's runtime and model, on a slow machine
SECONDS_PER_FRAME = 2  # far beyond a small model's inference in software


@dataclass(frozen=True)
class CheckOptions:
    site: Path
    footage: Path  # a .y4m, e.g. from sitegen footage
    backend: str | None = None  # forced (?backend=); None: the page's own choice
    frames: int | None = None  # events to collect; None: the footage's length
    threshold: float | None = None  # ?threshold=; None: the site's
    expect: Path | None = None
    json_out: Path | None = None  # every event, the outcomes
    per_frame: bool = False  # a line per frame instead of the summary
    timeout_s: float | None = None  # None: LOAD_SECONDS + SECONDS_PER_FRAME per frame


@dataclass(frozen=True)
class CheckResult:
    events: list[PageEvent]  # in the page's frame order, each with its footage frame
    footage: Y4mInfo
    outcomes: list[Outcome]
    backend: str  # what the page ran

    @property
    def passed(self) -> bool:
        return all(o.passed for o in self.outcomes)


def check_site(options: CheckOptions, echo: Callable[[str], None] = print) -> CheckResult:
    """Run the check; print its lines with ``echo``; raise ExpectationError when an expectation
    failed (after printing, and after writing --json)."""
    info, expectations, browser = _checked_inputs(options)
    count = options.frames or info.frames
    query = page_query(options.backend, options.threshold)
    timeout = options.timeout_s or LOAD_SECONDS + SECONDS_PER_FRAME * count
    with stage(f"Running {options.site} on {options.footage.name} in headless Chromium"):
        run = collect_events(
            options.site.resolve(), info.path.resolve(), browser, query, count, timeout
        )
    _check_backend_ran(run, options.backend)
    events = sorted(run.events, key=lambda e: e.frame)
    footage_frames.match_events(events, footage_frames.footage_grids(info), info.fps)
    _check_frames_fit(events, info, expectations)
    outcomes = evaluate(expectations, events) if expectations else []
    echo(
        f"Checked {options.site} on {options.footage} ({info.size}, {info.frames} frames at "
        f"{info.fps} fps)"
    )
    sources = None if not options.per_frame else _frame_sources(info)
    lines = report.frame_lines(events, sources) if options.per_frame else []
    for line in lines + report.summary_lines(events, info, outcomes):
        echo(line)
    if options.json_out is not None:
        data = report.events_json(options.site, info, query.encoded(), events, outcomes)
        with write_atomically(options.json_out, force=True, option="--json") as stream:
            stream.write(json.dumps(data, indent=1).encode("utf-8") + b"\n")
    failure = report.failure_message(outcomes)
    if failure:
        raise ExpectationError(failure)
    return CheckResult(events, info, outcomes, str(events[0].detail.get("backend")))


def _checked_inputs(options: CheckOptions) -> tuple[Y4mInfo, Expectations | None, str]:
    config = read_site(options.site)
    check_backend(config, options.backend)
    info = read_info(options.footage)
    expectations = read_expectations(options.expect, info.frames) if options.expect else None
    if options.frames is not None and options.frames < 1:
        raise CheckError(f"--frames {options.frames}: pass at least 1")
    if options.threshold is not None and not 0 <= options.threshold <= 1:
        raise CheckError(f"--threshold {options.threshold:g} is outside 0..1")
    if options.json_out is not None and options.json_out.is_dir():
        raise CheckError(f"--json {options.json_out} is a folder; pass a file path")
    return info, expectations, _browser()


def _browser() -> str:
    from sitegen.site.browser import find_browser

    path = find_browser()
    if path is None:
        raise MissingDependencyError(
            "sitegen check needs Playwright and a Chromium: pip install playwright, then "
            "apt-get install chromium (or: playwright install chromium)"
        )
    return path


def _check_backend_ran(run: PageRun, forced: str | None) -> None:
    ran = run.ready.get("backend") or run.events[0].detail.get("backend")
    if forced and ran != forced:
        failures = "; ".join(run.ready.get("failures", [])) or "no reason given"
        raise CheckError(
            f"--backend {forced} could not start in headless Chromium ({failures}); "
            f"the page fell back to {ran}. Pass another --backend, or none"
        )


def _check_frames_fit(
    events: list[PageEvent], info: Y4mInfo, expectations: Expectations | None
) -> None:
    """Boxes are normalised to the frame the page saw; they mean the footage's coordinates only
    when that frame is the whole footage frame, scaled (Chromium crops a fake camera larger than
    the page's 640x480 request to 4:3)."""
    width, height = events[0].detail.get("width", 0), events[0].detail.get("height", 0)
    if abs(width * info.size.height - height * info.size.width) > max(width, height):
        problem = (
            f"the page saw {width}x{height} frames, a crop of the {info.size} footage "
            "(Chromium fits a fake camera to the page's request)"
        )
        if expectations is not None and expectations.needs_frame_coordinates:
            raise CheckError(
                f"{problem}, so boxes and frames cannot be matched; make 4:3 footage: "
                "sitegen footage INPUT OUT.y4m --size 640x480"
            )
        note(f"  warning    {problem}; make 4:3 footage (--size 640x480) to compare boxes")
    far = footage_frames.unrelated_share(events)
    if far > 0.5:
        note(
            f"  warning    {far:.0%} of the frames match no footage frame: the page may not "
            "have shown this footage"
        )


def _frame_sources(info: Y4mInfo) -> list[str] | None:
    """Each footage frame's source, from the description sitegen footage wrote beside it."""
    try:
        data = json.loads(description_path(info.path).read_text(encoding="utf-8"))
        return [str(frame.get("source", "")) for frame in data["frames"]]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
