"""``sitegen check`` runs a built site on footage made by ``sitegen footage`` and finds what the
scenes' ground truth says is there: labels and boxes, whole-clip and frame by frame, from an image
folder and from a video; an expectation the footage cannot meet fails with its own exit code and
says by how much; bad inputs are one line before any browser starts.

The ground truth comes from the scene generator in source pixels; ``OUT.json`` (written by
``sitegen footage``) gives each footage frame's source and letterbox, which map it into the
normalised frame coordinates the page reports boxes in.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import sitegen.cli
from devtools.default_model import scenes
from sitegen.check import CheckError, ExpectationError
from sitegen.commands.check import CheckOptions, check_site
from sitegen.commands.footage import FootageOptions, make_footage
from sitegen.errors import USAGE_EXIT_CODE, MissingDependencyError
from sitegen.footage import FootageError

pytestmark = pytest.mark.tensorflow  # the site is converted from the default SavedModel

# Scenes the default model finds completely (every sign, right label, IoU well above 0.5) once
# letterboxed from 640x360: each has both labels, or one sign only, as a test needs.
BOTH_LABELS = (4, 13)
STOP_ONLY = 1
SCENE_SIZE = (640, 360)  # 16:9, so the 4:3 footage has bars
VIDEO_RATE, VIDEO_SHIFT = 10, 2  # fps; pixels the scene slides right per video frame

CLI_COMMANDS = {
    c.name or c.callback.__name__.replace("_", "-") for c in sitegen.cli.app.registered_commands
}
cli_has_check = pytest.mark.skipif(
    "check" not in CLI_COMMANDS, reason="sitegen check is not wired into sitegen.cli yet"
)


@pytest.fixture(scope="module")
def site(tmp_path_factory, browser_path) -> Path:
    from sitegen.build import BuildOptions, build
    from sitegen.resources import default_model_dir

    out = tmp_path_factory.mktemp("check-site") / "site"
    build(BuildOptions(model=default_model_dir(), out=out, verify=False))
    return out


def scene(seed: int, *, empty: bool = False) -> tuple[Image.Image, list[scenes.Box]]:
    return scenes.render_scene(np.random.default_rng(seed), *SCENE_SIZE, max_objects=3, empty=empty)


def in_frame(box: scenes.Box, letterbox: dict, width: int, height: int) -> dict:
    """A box in source pixels → normalised footage-frame coordinates, through the letterbox."""
    sx = letterbox["placedWidth"] / letterbox["sourceWidth"]
    sy = letterbox["placedHeight"] / letterbox["sourceHeight"]
    return {
        "x": (letterbox["offsetX"] + box.xmin * sx) / width,
        "y": (letterbox["offsetY"] + box.ymin * sy) / height,
        "width": box.width * sx / width,
        "height": box.height * sy / height,
    }


def per_frame_expectations(description: dict, truth_of) -> dict:
    """An --expect file with every footage frame's labels and boxes; ``truth_of(frame)`` gives
    the ground-truth boxes of the source picture a frame shows."""
    width, height = description["width"], description["height"]
    entries = []
    for frame in description["frames"]:
        boxes = truth_of(frame)
        entries.append(
            {
                "labels": sorted({b.label for b in boxes}),
                "boxes": [
                    {"label": b.label, "box": in_frame(b, frame["letterbox"], width, height)}
                    for b in boxes
                ],
            }
        )
    return {"frames": entries, "min_frames": 0.9}


def write_json(path: Path, data) -> Path:
    path.write_text(json.dumps(data, indent=1))
    return path


def run_check(site: Path, footage: Path, **options):
    lines: list[str] = []
    result = check_site(CheckOptions(site=site, footage=footage, **options), echo=lines.append)
    return result, lines


def test_image_folder_footage_finds_every_sign_frame_by_frame(site, tmp_path):
    folder = tmp_path / "scenes"
    folder.mkdir()
    truth = {}
    for seed in BOTH_LABELS:
        image, boxes = scene(seed)
        image.save(folder / f"scene-{seed}.png")
        truth[f"scene-{seed}.png"] = boxes
    made = make_footage(FootageOptions(folder, tmp_path / "scenes.y4m", seconds_per_image=1))
    description = json.loads(made.description.read_text())
    assert description["frameCount"] == 60
    expect = write_json(
        tmp_path / "expect.json",
        per_frame_expectations(description, lambda f: truth[Path(f["source"]).name]),
    )
    result, lines = run_check(site, made.out, expect=expect, json_out=tmp_path / "events.json")
    assert result.passed, lines
    assert {label for e in result.events for label in e.labels} == {"kangaroo", "stop"}
    # Both pictures were seen, and each event was matched to a frame of the picture it showed.
    shown = {Path(description["frames"][e.footage_frame]["source"]).name for e in result.events}
    assert shown == set(truth)
    written = json.loads((tmp_path / "events.json").read_text())
    assert len(written["events"]) == 60
    assert all(e["footageFrame"] is not None and e["source"] == "camera" for e in written["events"])
    assert written["expectations"][0]["passed"]
    assert any(line.startswith("  kangaroo") for line in lines), lines


def write_sliding_video(path: Path, seeds: tuple[int, ...], frames_each: int) -> list[list]:
    """An MP4 of the scenes in turn, each sliding right; returns each video frame's boxes."""
    av = pytest.importorskip("av")
    width, height = SCENE_SIZE
    truth = []
    with av.open(str(path), "w") as container:
        stream = container.add_stream("h264", rate=VIDEO_RATE)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for seed in seeds:
            image, boxes = scene(seed)
            pixels = np.asarray(image)
            for step in range(frames_each):
                shift = step * VIDEO_SHIFT
                frame = np.zeros_like(pixels)
                frame[:, shift:] = pixels[:, : width - shift]
                truth.append([_shifted(b, shift, width) for b in boxes])
                for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                    container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return truth


def _shifted(box: scenes.Box, shift: int, width: int) -> scenes.Box:
    return scenes.Box(
        box.class_id, box.xmin + shift, box.ymin, min(box.xmax + shift, width), box.ymax
    )


def test_video_footage_finds_the_moving_signs_frame_by_frame(site, tmp_path):
    truth = write_sliding_video(tmp_path / "signs.mp4", BOTH_LABELS, frames_each=15)
    made = make_footage(FootageOptions(tmp_path / "signs.mp4", tmp_path / "signs.y4m"))
    description = json.loads(made.description.read_text())
    assert (made.kind, made.frames) == ("video", 90)  # 3 s at 30 fps
    expect = write_json(
        tmp_path / "expect.json",
        per_frame_expectations(description, lambda f: truth[round(f["sourceTime"] * VIDEO_RATE)]),
    )
    result, lines = run_check(site, made.out, expect=expect)
    assert result.passed, lines
    distinct = {e.footage_frame for e in result.events}
    assert len(distinct) > 30, "the events should spread over the clip"


def test_whole_clip_labels_and_box_with_a_forced_backend(site, tmp_path):
    image, boxes = scene(STOP_ONLY)
    assert [b.label for b in boxes] == ["stop"]
    image.save(tmp_path / "stop.png")
    made = make_footage(FootageOptions(tmp_path / "stop.png", tmp_path / "stop.y4m", seconds=1))
    frame = json.loads(made.description.read_text())["frames"][0]
    expect = {
        "labels": {"stop": {"min_frames": 0.9}, "kangaroo": {"max_frames": 0}},
        "boxes": [
            {"label": "stop", "box": in_frame(boxes[0], frame["letterbox"], 640, 480), "iou": 0.6}
        ],
    }
    result, lines = run_check(
        site, made.out, backend="wasm", frames=20, expect=write_json(tmp_path / "e.json", expect)
    )
    assert result.passed, lines
    assert result.backend == "wasm" and len(result.events) == 20
    assert all(e.detail["backend"] == "wasm" for e in result.events)
    assert lines[0].startswith(f"Checked {site} on {made.out} (640x480, 30 frames at 30 fps)")
    assert any("backend    wasm" in line for line in lines), lines


def test_a_label_that_is_not_in_the_footage_fails_and_says_by_how_much(site, tmp_path):
    image, _ = scene(5, empty=True)
    image.save(tmp_path / "empty.png")
    made = make_footage(FootageOptions(tmp_path / "empty.png", tmp_path / "empty.y4m", seconds=1))
    expect = write_json(tmp_path / "e.json", {"labels": {"stop": {"min_frames": 0.5}}})
    with pytest.raises(ExpectationError) as raised:
        run_check(site, made.out, expect=expect)
    assert raised.value.exit_code == ExpectationError.exit_code
    assert str(raised.value) == (
        "expectation failed: label 'stop' in at least 50% of frames: "
        "0 of 30 frames (0%), 15 frames short"
    )


def test_footage_the_page_sees_cropped_cannot_be_compared_by_box(site, tmp_path):
    # The page asks its camera for 640x480; Chromium crops a larger 16:9 fake camera to 4:3.
    image, boxes = scene(STOP_ONLY)
    image.save(tmp_path / "stop.png")
    made = make_footage(
        FootageOptions(tmp_path / "stop.png", tmp_path / "wide.y4m", size="1280x720", seconds=0.5)
    )
    frame = json.loads(made.description.read_text())["frames"][0]
    box = {"label": "stop", "box": in_frame(boxes[0], frame["letterbox"], 1280, 720)}
    expect = write_json(tmp_path / "e.json", {"boxes": [box]})
    with pytest.raises(CheckError, match=r"a crop of the 1280x720 footage.*--size 640x480"):
        run_check(site, made.out, expect=expect, frames=5)


# ---- bad inputs: one line, before any browser starts ----------------------------------------


@pytest.fixture(scope="module")
def stop_footage(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("stop-footage")
    scene(STOP_ONLY)[0].save(folder / "stop.png")
    return make_footage(FootageOptions(folder / "stop.png", folder / "stop.y4m", seconds=1)).out


def edited_copy(site: Path, tmp_path: Path, edit) -> Path:
    copy = tmp_path / "copy"
    shutil.copytree(site, copy)
    edit(copy)
    return copy


def _carry_only_wasm(copy: Path) -> None:
    config = json.loads((copy / "config.json").read_text())
    config["backends"]["order"] = ["wasm", "cpu"]
    (copy / "config.json").write_text(json.dumps(config))


def _remove_weights(copy: Path) -> None:
    for shard in (copy / "model").glob("*.bin"):
        shard.unlink()


@pytest.mark.parametrize(
    ("case", "error", "words"),
    [
        ("not-a-site", CheckError, "is not a site built by sitegen"),
        ("no-model", CheckError, "has no model"),
        ("backend-not-carried", CheckError, "--backend webgl: this site does not carry it"),
        ("not-y4m", FootageError, "is not footage Chromium can play"),
        ("no-chromium", MissingDependencyError, "needs Playwright and a Chromium"),
    ],
)
def test_bad_inputs_are_one_line(site, stop_footage, tmp_path, monkeypatch, case, error, words):
    target, footage, options = site, stop_footage, {}
    if case == "not-a-site":
        target = tmp_path
    elif case == "no-model":
        target = edited_copy(site, tmp_path, _remove_weights)
    elif case == "backend-not-carried":
        target, options = edited_copy(site, tmp_path, _carry_only_wasm), {"backend": "webgl"}
    elif case == "not-y4m":
        footage = tmp_path / "clip.y4m"
        footage.write_bytes(b"\x00\x00\x00\x18ftypmp42")
    elif case == "no-chromium":
        monkeypatch.setattr("sitegen.site.browser.find_browser", lambda: None)
    with pytest.raises(error) as raised:
        run_check(target, footage, **options)
    assert raised.value.exit_code == error.exit_code
    assert words in str(raised.value) and "\n" not in str(raised.value)


# ---- the command line (once sitegen.cli has the command) -----------------------------------


@cli_has_check
def test_cli_check_prints_the_summary_and_fails_an_expectation(
    run_cli, site, stop_footage, tmp_path
):
    passed = run_cli("check", site, "--footage", stop_footage, "--frames", "10")
    assert passed.code == 0, passed.err
    assert "10 processed" in passed.out and "stop" in passed.out
    expect = write_json(tmp_path / "e.json", {"labels": {"kangaroo": {"min_frames": 0.5}}})
    failed = run_cli("check", site, "--footage", stop_footage, "--expect", expect)
    assert failed.code == ExpectationError.exit_code, failed.err
    assert failed.error_line.startswith("Error: expectation failed: label 'kangaroo'")
    assert "FAIL" in failed.out


@cli_has_check
def test_cli_check_bad_backend_and_site_are_one_line(run_cli, site, stop_footage, tmp_path):
    unknown = run_cli("check", site, "--footage", stop_footage, "--backend", "metal")
    assert unknown.code == USAGE_EXIT_CODE and "--backend" in unknown.error_line
    not_a_site = run_cli("check", tmp_path, "--footage", stop_footage)
    assert (
        not_a_site.code == CheckError.exit_code
        and "not a site built by sitegen" in not_a_site.error_line
    )
