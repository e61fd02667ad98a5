"""Which footage frame each event showed.

The fake camera plays the clip in a loop on its own clock and the page processes frames as fast
as its model runs, so the page's ``frame`` counter says only the order of events, not which
footage frame each one saw. Both sides therefore summarise a picture the same way, as the mean
luma of each cell of a 32x24 grid over the whole picture (a proportional grid, so the page's
input canvas, stretched to the model's input size, and the footage frame give the same cells),
and each event takes the footage frame whose grid is nearest. Identical frames (a still image
shown for a second) tie; the tie goes to the frame the camera's clock says was due, the clock
being set by all the events together.
"""

from __future__ import annotations

import numpy as np

from sitegen.check import PageEvent
from sitegen.footage.y4m import Y4mInfo, luma_planes

GRID_COLUMNS, GRID_ROWS = 32, 24
TIE = 0.5  # grey levels: frames this close to the best match are the same picture to us
# The nearest frame further than this (mean grey levels per cell) was not what the page saw:
# another camera, or a page that does not draw what it gets.
UNRELATED = 24.0


def luma_grid(luma: np.ndarray) -> np.ndarray:
    """The mean of each grid cell of a limited-range Y plane, as full-range grey levels (what the
    page's RGB gives back: its luma is Y stretched from 16..235 to 0..255)."""
    if luma.shape[0] < GRID_ROWS or luma.shape[1] < GRID_COLUMNS:
        luma = luma.repeat(GRID_ROWS, axis=0).repeat(GRID_COLUMNS, axis=1)  # same cells, no gaps
    height, width = luma.shape
    rows = -(-np.arange(GRID_ROWS) * height // GRID_ROWS)  # ceil: the page's floor(y*rows/h)
    columns = -(-np.arange(GRID_COLUMNS) * width // GRID_COLUMNS)
    sums = np.add.reduceat(np.add.reduceat(luma.astype(np.float64), rows, axis=0), columns, axis=1)
    counts = np.outer(np.diff([*rows, height]), np.diff([*columns, width]))
    grey = (sums / counts - 16) * (255 / 219)
    return np.clip(grey, 0, 255).ravel()


def footage_grids(info: Y4mInfo) -> np.ndarray:
    """frames x cells."""
    return np.stack([luma_grid(plane) for plane in luma_planes(info)])


def match_events(events: list[PageEvent], grids: np.ndarray, fps: int) -> None:
    """Set each event's ``footage_frame`` and ``match_distance``."""
    if not events:
        return
    distances = np.stack(
        [np.abs(grids - np.asarray(e.grid, np.float64)).mean(axis=1) for e in events]
    )
    candidates = distances <= distances.min(axis=1, keepdims=True) + TIE
    due = _camera_clock(events, candidates, fps)
    length = len(grids)
    for event, row, ties, expected in zip(events, distances, candidates, due, strict=True):
        frames = np.flatnonzero(ties)
        gaps = np.abs(frames - expected) % length
        chosen = int(frames[np.argmin(np.minimum(gaps, length - gaps))])
        event.footage_frame, event.match_distance = chosen, round(float(row[chosen]), 2)


def _camera_clock(events: list[PageEvent], candidates: np.ndarray, fps: int) -> np.ndarray:
    """The footage frame the camera was showing at each event, by its clock: the camera plays at
    ``fps`` from some unknown start, so try every start and keep the one that agrees with the
    most events (within a frame: an event comes a little after its frame)."""
    length = candidates.shape[1]
    ticks = np.rint(np.array([e.at_ms for e in events]) * fps / 1000).astype(int)
    near = candidates | np.roll(candidates, 1, axis=1) | np.roll(candidates, -1, axis=1)
    shifted = near[np.arange(len(events))[:, None], (ticks[:, None] + np.arange(length)) % length]
    return (ticks + _middle_of_best(shifted.sum(axis=0))) % length


def _middle_of_best(scores: np.ndarray) -> int:
    """The start with the best score; where a run of starts ties (a still picture cannot tell
    them apart), the middle of the longest run, the least wrong guess."""
    best = scores == scores.max()
    if best.all():
        return 0
    length = len(scores)
    first = int(np.argmin(best))  # a start outside every run, so runs do not wrap from here
    runs, run_start, run_length = [], None, 0
    for step in range(1, length + 1):
        index = (first + step) % length
        if best[index]:
            run_start = index if run_start is None else run_start
            run_length += 1
        elif run_start is not None:
            runs.append((run_length, run_start))
            run_start, run_length = None, 0
    run_length, run_start = max(runs)
    return (run_start + run_length // 2) % length


def unrelated_share(events: list[PageEvent]) -> float:
    """The share of events whose pixels match no footage frame."""
    far = sum(1 for e in events if e.match_distance is not None and e.match_distance > UNRELATED)
    return far / len(events) if events else 0.0
