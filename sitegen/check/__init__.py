"""``sitegen check``: a built site run in headless Chromium on fake-camera footage, its
``sitegen:detections`` events collected, matched to the footage's frames and held against
expectations.

The values that flow between the check stages live here: ``page`` collects ``PageEvent``s,
``frames`` says which footage frame each one showed, ``expect`` reads and evaluates the
expectations, ``report`` turns it all into lines and JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sitegen.errors import CheckError, ExpectationError  # noqa: F401  (re-exported: raised by this package's modules)


@dataclass
class PageEvent:
    """One ``sitegen:detections`` event of the camera, as the page dispatched it."""

    detail: dict  # the event's detail: frame, width, height, backend, inferenceMs, detections
    at_ms: float  # performance.now() when it was dispatched
    grid: list[float]  # the mean luma of each cell of the pixels the model saw (see frames.py)
    footage_frame: int | None = None  # which footage frame it showed (frames.match_events)
    match_distance: float | None = None  # how far its pixels were from that frame's (0..255)
    labels: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.labels = [d["label"] for d in self.detail.get("detections", [])]

    @property
    def frame(self) -> int:
        return int(self.detail.get("frame", 0))

    @property
    def detections(self) -> list[dict]:
        return self.detail.get("detections", [])
