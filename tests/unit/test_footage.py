"""``sitegen footage``: images, image folders and videos become .y4m footage that Chromium's fake
camera plays (header, frame count, letterbox bars, upright and RGB pictures, video resampled),
with a description of every frame beside it; every bad input is one line, and nothing written.

Also the pure-Python half of ``sitegen check`` that reads footage: matching the page's events to
footage frames, and the --expect format (tests/browser/test_check.py runs the page itself).
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import sitegen.cli
from devtools.default_model.scenes import read_y4m
from sitegen.check import CheckError, PageEvent
from sitegen.check import expect as expectations
from sitegen.check import frames as matching
from sitegen.commands.footage import FootageOptions, make_footage
from sitegen.errors import USAGE_EXIT_CODE, OutputError
from sitegen.footage import FootageError
from sitegen.footage import y4m as y4m_format

HEADER = b"YUV4MPEG2 W640 H480 F30:1 Ip A1:1 C420jpeg\n"
BLACK_Y, GREY_UV = 16, 128  # limited-range video black

# Typer leaves ``name`` None for a command named after its function.
CLI_COMMANDS = {
    c.name or c.callback.__name__.replace("_", "-") for c in sitegen.cli.app.registered_commands
}
cli_has_footage = pytest.mark.skipif(
    "footage" not in CLI_COMMANDS, reason="sitegen footage is not wired into sitegen.cli yet"
)


def solid(width: int, height: int, colour=(255, 255, 255), mode: str = "RGB") -> Image.Image:
    picture = Image.new("RGB", (width, height), colour)
    if mode == "P":
        return picture.convert("P", palette=Image.Palette.ADAPTIVE)
    return picture.convert(mode)


def footage(source: Path, out: Path, **options):
    return make_footage(FootageOptions(source=source, out=out, **options))


def y_planes(path: Path) -> list[np.ndarray]:
    info = y4m_format.read_info(path)
    return [plane.copy() for plane in y4m_format.luma_planes(info)]


def description(out: Path) -> dict:
    return json.loads(out.with_suffix(".json").read_text())


# ---- images --------------------------------------------------------------------------------


def test_one_image_is_repeated_for_the_requested_seconds(tmp_path):
    solid(640, 480).save(tmp_path / "white.png")
    out = tmp_path / "clip.y4m"
    result = footage(tmp_path / "white.png", out, fps=10, seconds=2)
    assert (result.kind, result.frames) == ("image", 20)
    data = out.read_bytes()
    assert data.startswith(HEADER.replace(b"F30:1", b"F10:1"))
    frame = len(b"FRAME\n") + 640 * 480 * 3 // 2
    assert len(data) == len(HEADER) + 20 * frame
    assert data.count(b"FRAME\n") >= 20
    info = y4m_format.read_info(out)
    assert (info.size.width, info.size.height, info.fps, info.frames) == (640, 480, 10, 20)
    # Limited-range white, as Chromium's fake camera turns back into 255.
    assert np.all(y_planes(out)[0] == 235)


def test_a_single_image_lasts_five_seconds_by_default(tmp_path):
    solid(64, 48).save(tmp_path / "a.png")
    assert footage(tmp_path / "a.png", tmp_path / "a.y4m", fps=4).frames == 20


def test_a_folder_plays_in_name_order_each_image_for_its_seconds(tmp_path):
    folder = tmp_path / "pictures"
    folder.mkdir()
    for name, grey in (("frame10.png", 200), ("frame2.png", 100), ("frame1.png", 50)):
        solid(64, 48, (grey, grey, grey)).save(folder / name)
    (folder / "notes.xml").write_text("<annotation/>")  # not a picture: left out
    out = tmp_path / "clip.y4m"
    result = footage(folder, out, fps=10, seconds_per_image=0.5)
    assert (result.kind, result.frames) == ("images", 15)
    sources = [Path(f["source"]).name for f in description(out)["frames"]]
    assert sources == ["frame1.png"] * 5 + ["frame2.png"] * 5 + ["frame10.png"] * 5
    centres = [int(plane[240, 320]) for plane in y_planes(out)]
    assert centres[0] < centres[5] < centres[10]  # 50, then 100, then 200 grey
    # --seconds caps a folder's length.
    capped = footage(folder, tmp_path / "capped.y4m", fps=10, seconds_per_image=0.5, seconds=0.7)
    assert capped.frames == 7


def test_a_wide_image_is_letterboxed_with_black_bars_above_and_below(tmp_path):
    solid(400, 100).save(tmp_path / "wide.png")  # 4:1 into 4:3: placed 640x160 at y=160
    out = tmp_path / "wide.y4m"
    footage(tmp_path / "wide.png", out, seconds=0.1)
    plane = y_planes(out)[0]
    assert np.all(plane[:160] == BLACK_Y) and np.all(plane[320:] == BLACK_Y)
    assert np.all(plane[160:320] == 235)
    frames = list(read_y4m(out))  # the maintainers' reader agrees, colours included
    assert np.all(frames[0][:160] == 0) and np.all(frames[0][200:280] >= 253)
    box = description(out)["frames"][0]["letterbox"]
    assert box == {
        "sourceWidth": 400,
        "sourceHeight": 100,
        "scale": 1.6,
        "offsetX": 0,
        "offsetY": 160,
        "placedWidth": 640,
        "placedHeight": 160,
    }


def test_a_tall_image_gets_bars_at_the_sides(tmp_path):
    solid(300, 600).save(tmp_path / "tall.png")  # placed 240x480 at x=200
    out = tmp_path / "tall.y4m"
    footage(tmp_path / "tall.png", out, seconds=0.1)
    plane = y_planes(out)[0]
    assert np.all(plane[:, :200] == BLACK_Y) and np.all(plane[:, 440:] == BLACK_Y)
    assert np.all(plane[:, 200:440] == 235)
    assert description(out)["frames"][0]["letterbox"]["offsetX"] == 200


def test_an_exif_rotated_jpeg_is_shown_upright(tmp_path):
    # Upright: a portrait picture, red above blue. A camera stores it turned a quarter to the left
    # and says so with EXIF Orientation 6 ("rotate 90° clockwise to display").
    upright = Image.new("RGB", (120, 160), (220, 20, 20))
    upright.paste((20, 20, 220), (0, 80, 120, 160))
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    stored.save(tmp_path / "phone.jpg", exif=exif, quality=95)
    out = tmp_path / "phone.y4m"
    footage(tmp_path / "phone.jpg", out, seconds=0.1)
    rgb = next(read_y4m(out))
    assert description(out)["frames"][0]["letterbox"]["placedWidth"] == 360  # portrait: 360x480
    top, bottom = rgb[100, 320].astype(int), rgb[380, 320].astype(int)
    assert top[0] > 150 and top[2] < 90, top  # red on top
    assert bottom[2] > 150 and bottom[0] < 90, bottom  # blue below
    assert np.all(rgb[:, :100] <= 2)  # side bars


@pytest.mark.parametrize("mode", ["RGBA", "LA", "L", "P", "I;16", "CMYK"])
def test_other_colour_modes_become_rgb(tmp_path, mode):
    picture = solid(64, 48, (120, 120, 120), mode)
    path = tmp_path / ("picture.tif" if mode == "CMYK" else "picture.png")
    picture.save(path)
    out = tmp_path / "picture.y4m"
    footage(path, out, seconds=0.1)
    centre = int(y_planes(out)[0][240, 320])
    assert abs(centre - (16 + 120 * 219 / 255)) < 6


def test_transparent_parts_become_black(tmp_path):
    picture = Image.new("RGBA", (64, 48), (255, 255, 255, 255))
    picture.paste((255, 255, 255, 0), (0, 0, 32, 48))  # left half transparent
    picture.save(tmp_path / "half.png")
    out = tmp_path / "half.y4m"
    footage(tmp_path / "half.png", out, seconds=0.1)
    plane = y_planes(out)[0]
    assert plane[240, 100] == BLACK_Y and plane[240, 540] == 235


# ---- video ---------------------------------------------------------------------------------


def write_moving_square(path: Path, codec: str, *, frames=20, rate=10, size=(160, 120)) -> None:
    """A white square moving right on black, ``frames`` frames at ``rate`` fps."""
    av = pytest.importorskip("av")
    width, height = size
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index in range(frames):
            rgb = np.zeros((height, width, 3), np.uint8)
            x = 4 + index * (width - 28) // frames
            rgb[height // 2 - 10 : height // 2 + 10, x : x + 20] = 255
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def square_centre_x(plane: np.ndarray) -> float:
    columns = np.flatnonzero((plane > 128).any(axis=0))
    return float(columns.mean())


@pytest.mark.parametrize(("name", "codec"), [("square.mp4", "h264"), ("square.webm", "libvpx")])
def test_a_video_is_resampled_to_the_footage_rate(tmp_path, name, codec):
    write_moving_square(tmp_path / name, codec)  # 20 frames at 10 fps: 2 s
    out = tmp_path / "square.y4m"
    result = footage(tmp_path / name, out, fps=30)
    assert (result.kind, result.frames) == ("video", 60)
    planes = y_planes(out)
    centres = [square_centre_x(p) for p in planes]
    assert all(b >= a for a, b in itertools.pairwise(centres)), "the square moves right"
    assert centres[-1] - centres[0] > 300
    frames = description(out)["frames"]
    # Each source frame is held for three footage frames (30 fps from 10).
    assert [round(f["sourceTime"] * 10) for f in frames[:7]] == [0, 0, 0, 1, 1, 1, 2]
    assert frames[0]["letterbox"]["scale"] == 4.0
    assert all(Path(f["source"]).name == name for f in frames)


def test_seconds_limits_a_video_and_a_wide_video_is_letterboxed(tmp_path):
    write_moving_square(tmp_path / "wide.mp4", "h264", size=(192, 108))  # 16:9
    out = tmp_path / "wide.y4m"
    assert footage(tmp_path / "wide.mp4", out, fps=20, seconds=0.5).frames == 10
    plane = y_planes(out)[0]
    assert np.all(plane[:59] <= BLACK_Y + 2) and np.all(plane[-59:] <= BLACK_Y + 2)
    assert description(out)["frames"][0]["letterbox"]["offsetY"] == 60


def test_a_video_recorded_sideways_is_turned_upright(tmp_path):
    # A phone held upright records the picture turned and says how to turn it back: its display
    # matrix rotates the frame 90° counterclockwise. Upright here is red above blue.
    av = pytest.importorskip("av")
    upright = np.zeros((64, 48, 3), np.uint8)
    upright[:32] = (220, 20, 20)
    upright[32:] = (20, 20, 220)
    stored = np.rot90(upright, k=-1)  # 90° clockwise: 64 wide, 48 tall
    with av.open(str(tmp_path / "phone.mp4"), "w") as container:
        stream = container.add_stream("h264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        if not hasattr(stream, "set_display_rotation"):
            pytest.skip("this PyAV cannot write a display matrix")
        stream.set_display_rotation(90)
        for _ in range(5):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(stored), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    out = tmp_path / "phone.y4m"
    footage(tmp_path / "phone.mp4", out, fps=10)
    rgb = next(read_y4m(out))
    assert description(out)["frames"][0]["letterbox"]["placedWidth"] == 360  # portrait
    top, bottom = rgb[100, 320].astype(int), rgb[380, 320].astype(int)
    assert top[0] > 150 and top[2] < 90, top
    assert bottom[2] > 150 and bottom[0] < 90, bottom


def test_an_animated_gif_plays_as_a_video(tmp_path):
    pytest.importorskip("av")
    pictures = [solid(64, 48, (grey, grey, grey)) for grey in (40, 120, 200)]
    pictures[0].save(
        tmp_path / "blink.gif", save_all=True, append_images=pictures[1:], duration=100
    )
    out = tmp_path / "blink.y4m"
    result = footage(tmp_path / "blink.gif", out, fps=10)
    assert (result.kind, result.frames) == ("video", 3)
    centres = [int(plane[240, 320]) for plane in y_planes(out)]
    assert centres[0] < centres[1] < centres[2], centres


# ---- bad inputs: one line, the right exit code, nothing written -----------------------------


def assert_nothing_written(folder: Path, before: set[str]) -> None:
    assert {p.name for p in folder.iterdir()} == before


@pytest.mark.parametrize(
    ("setup", "options", "error", "words"),
    [
        ("missing", {}, FootageError, ("does not exist",)),
        ("empty-folder", {}, FootageError, ("has no images",)),
        (
            "text-as-video",
            {},
            FootageError,
            ("cannot read video", "convert it to MP4 (H.264) or WebM"),
        ),
        ("audio-less-junk", {}, FootageError, ("cannot read video",)),
        ("image", {"size": "640x481"}, FootageError, ("even numbers",)),
        ("image", {"size": "large"}, FootageError, ("not a frame size", "640x480")),
        ("image", {"size": "8x8"}, FootageError, ("from 32 to 4096",)),
        ("image", {"out": "clip.mp4"}, FootageError, ("must end in .y4m",)),
        ("image", {"fps": 0}, FootageError, ("--fps",)),
        ("image", {"seconds": -1}, FootageError, ("--seconds",)),
    ],
)
def test_bad_inputs_fail_with_one_line_and_write_nothing(tmp_path, setup, options, error, words):
    work = tmp_path / "work"
    work.mkdir()
    source = work / "input"
    if setup == "empty-folder":
        source.mkdir()
        (source / "readme.txt").write_text("no pictures here")
    elif setup == "text-as-video":
        source = work / "clip.mp4"
        source.write_text("this is not a video\n" * 20)
    elif setup == "audio-less-junk":
        source = work / "noise.bin"
        source.write_bytes(np.random.default_rng(0).bytes(4096))
    elif setup == "image":
        source = work / "a.png"
        solid(64, 48).save(source)
    out = work / options.pop("out", "clip.y4m")
    before = {p.name for p in work.iterdir()}
    with pytest.raises(error) as raised:
        footage(source, out, **options)
    message = str(raised.value)
    assert "\n" not in message
    for word in words:
        assert word in message, message
    assert raised.value.exit_code == FootageError.exit_code
    assert_nothing_written(work, before)


def test_an_existing_out_is_kept_unless_force(tmp_path):
    solid(64, 48).save(tmp_path / "a.png")
    out = tmp_path / "clip.y4m"
    out.write_bytes(b"mine")
    with pytest.raises(OutputError, match="exists; pass --force"):
        footage(tmp_path / "a.png", out, seconds=0.1)
    assert out.read_bytes() == b"mine" and not out.with_suffix(".json").exists()
    footage(tmp_path / "a.png", out, seconds=0.1, force=True)
    assert y4m_format.read_info(out).frames == 3


def test_a_failure_while_writing_leaves_no_file(tmp_path, monkeypatch):
    solid(64, 48).save(tmp_path / "a.png")
    original = y4m_format.Y4mWriter.write

    def fail_later(self, rgb, repeat=1):
        original(self, rgb, repeat)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(y4m_format.Y4mWriter, "write", fail_later)
    with pytest.raises(OSError):
        footage(tmp_path / "a.png", tmp_path / "clip.y4m", seconds=0.1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png"]


# ---- reading footage as Chromium does ------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"YUV4MPEG2 W64 H48 F30:1 C444\nFRAME\n" + bytes(64 * 48 * 3), "C444"),
        (b"YUV4MPEG2 W64 H48 F1:2 C420\nFRAME\n" + bytes(64 * 48 * 3 // 2), "under 1 frame"),
        (b"YUV4MPEG2 W64 H48 F30:1\nFRAME\n" + bytes(100), "whole number"),
        (b"RIFF....WAVEfmt ", "no YUV4MPEG2 header"),
    ],
)
def test_footage_chromium_would_refuse_is_one_line(tmp_path, content, words):
    path = tmp_path / "bad.y4m"
    path.write_bytes(content)
    with pytest.raises(FootageError, match=words):
        y4m_format.read_info(path)


def test_footage_must_be_named_y4m(tmp_path):
    path = tmp_path / "clip.mp4"
    path.write_bytes(HEADER)
    with pytest.raises(FootageError, match=r"named \.y4m"):
        y4m_format.read_info(path)


# ---- sitegen check: which footage frame each event showed ----------------------------------


def event(grid: np.ndarray, frame: int, at_ms: float) -> PageEvent:
    return PageEvent({"frame": frame, "detections": []}, at_ms, list(grid))


def random_pictures(folder: Path, count: int) -> None:
    folder.mkdir()
    rng = np.random.default_rng(1)
    for index in range(count):
        pixels = rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"p{index:02}.png")


def page_events(grids: np.ndarray, shown: list[int], interval_ms: float) -> list[PageEvent]:
    """What the page would record seeing ``shown`` footage frames, one every ``interval_ms``."""
    noise = np.random.default_rng(2)
    return [
        event(grids[f] + noise.normal(0, 0.3, grids.shape[1]), n + 1, 5000 + n * interval_ms)
        for n, f in enumerate(shown)
    ]


def test_events_match_the_footage_frame_they_showed(tmp_path):
    random_pictures(tmp_path / "pictures", 30)  # every frame different, as in a video
    out = tmp_path / "clip.y4m"
    footage(tmp_path / "pictures", out, fps=10, seconds_per_image=0.1)
    info = y4m_format.read_info(out)
    grids = matching.footage_grids(info)
    # The camera loops on its own clock; the page sees every 4th frame, from frame 7.
    shown = [(n * 4 + 7) % 30 for n in range(20)]
    events = page_events(grids, shown, 400)
    matching.match_events(events, grids, info.fps)
    assert [e.footage_frame for e in events] == shown
    assert all(e.match_distance < 1 for e in events)
    assert matching.unrelated_share(events) == 0


def test_a_held_picture_goes_to_a_frame_of_that_picture_near_the_cameras_clock(tmp_path):
    random_pictures(tmp_path / "pictures", 3)  # each held for 10 identical frames
    out = tmp_path / "clip.y4m"
    footage(tmp_path / "pictures", out, fps=10, seconds_per_image=1)
    info = y4m_format.read_info(out)
    grids = matching.footage_grids(info)
    shown = [(n * 3 + 7) % 30 for n in range(25)]
    events = page_events(grids, shown, 300)
    matching.match_events(events, grids, info.fps)
    assert [e.footage_frame // 10 for e in events] == [f // 10 for f in shown]
    errors = [
        min(abs(e.footage_frame - f), 30 - abs(e.footage_frame - f))
        for e, f in zip(events, shown, strict=True)
    ]
    assert max(errors) <= 2, errors  # picture changes pin the clock down to a frame or two


def test_unrelated_pictures_are_told_apart(tmp_path):
    random_pictures(tmp_path / "pictures", 2)
    out = tmp_path / "clip.y4m"
    footage(tmp_path / "pictures", out, fps=10, seconds_per_image=0.2)
    grids = matching.footage_grids(y4m_format.read_info(out))
    other = np.full(grids.shape[1], 255.0)  # a white frame: not in the footage
    events = [event(other, 1, 0.0), event(grids[0], 2, 100.0)]
    matching.match_events(events, grids, 10)
    assert matching.unrelated_share(events) == 0.5


def test_luma_grid_summarises_a_plane_by_proportional_cells():
    plane = np.full((480, 640), 16, np.uint8)
    plane[:, 320:] = 235  # right half white
    grid = matching.luma_grid(plane).reshape(matching.GRID_ROWS, matching.GRID_COLUMNS)
    assert np.allclose(grid[:, :16], 0) and np.allclose(grid[:, 16:], 255)


# ---- sitegen check: the --expect format ----------------------------------------------------


def detections_event(labels_boxes: list[tuple[str, tuple]], footage_frame: int = 0) -> PageEvent:
    detections = [
        {
            "label": label,
            "score": 0.9,
            "box": dict(zip(("x", "y", "width", "height"), box, strict=True)),
        }
        for label, box in labels_boxes
    ]
    page = PageEvent({"frame": footage_frame + 1, "detections": detections}, 0.0, [])
    page.footage_frame = footage_frame
    return page


def write_expect(tmp_path: Path, data) -> Path:
    path = tmp_path / "expect.json"
    path.write_text(json.dumps(data))
    return path


STOP = ("stop", (0.1, 0.1, 0.2, 0.2))


def test_whole_clip_labels_and_boxes_pass_and_fail_by_how_much(tmp_path):
    events = [detections_event([STOP])] * 7 + [detections_event([])] * 3
    path = write_expect(
        tmp_path,
        {
            "labels": {"stop": {"min_frames": 0.7}, "kangaroo": {"min_frames": 0.5}},
            "boxes": [
                {
                    "label": "stop",
                    "box": dict(
                        zip(("x", "y", "width", "height"), (0.11, 0.1, 0.2, 0.2), strict=True)
                    ),
                    "min_frames": 0.9,
                }
            ],
        },
    )
    outcomes = expectations.evaluate(expectations.read_expectations(path, 10), events)
    assert [o.passed for o in outcomes] == [True, False, False]
    assert outcomes[1].found == "0 of 10 frames (0%)" and outcomes[1].short_by == "5 frames short"
    assert outcomes[2].short_by == "2 frames short"


def test_max_frames_catches_false_positives(tmp_path):
    events = [detections_event([STOP])] * 2 + [detections_event([])] * 8
    path = write_expect(tmp_path, {"labels": {"stop": {"max_frames": 0.1}}})
    (outcome,) = expectations.evaluate(expectations.read_expectations(path, 10), events)
    assert not outcome.passed and outcome.short_by == "1 frames too many"


def test_per_frame_entries_are_checked_against_the_frame_each_event_showed(tmp_path):
    box = {"x": 0.1, "y": 0.1, "width": 0.2, "height": 0.2}
    frames = [{"labels": ["stop"], "boxes": [{"label": "stop", "box": box}]}, {"labels": []}, None]
    path = write_expect(tmp_path, {"frames": frames, "min_frames": 0.75})
    expected = expectations.read_expectations(path, 3)
    events = [
        detections_event([STOP], 0),
        detections_event([], 1),
        detections_event([("stop", (0.5, 0.5, 0.2, 0.2))], 0),  # wrong place
        detections_event([STOP], 1),  # a stop where none is
        detections_event([STOP], 2),  # not checked
    ]
    (outcome,) = expectations.evaluate(expected, events)
    assert not outcome.passed
    assert outcome.found.startswith("2 of 4 frames (50%)"), outcome.found
    assert "footage frame 0" in outcome.found and "best 0.00" in outcome.found


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({}, "asks for nothing"),
        ({"labels": {"stop": {"min_frame": 0.8}}}, "unknown key 'min_frame'"),
        ({"labels": {"stop": {"min_frames": 80}}}, "not a share from 0 to 1"),
        ({"boxes": [{"label": "stop"}]}, "needs a label and a box"),
        (
            {"boxes": [{"label": "stop", "box": {"x": 0, "y": 0, "width": 0, "height": 1}}]},
            "no area",
        ),
        ({"frames": [None, None]}, "has 2 entries; the footage has 3 frames"),
        ([1, 2], "not an object"),
    ],
)
def test_a_malformed_expect_file_names_where(tmp_path, data, words):
    with pytest.raises(CheckError, match=words):
        expectations.read_expectations(write_expect(tmp_path, data), 3)


def test_an_expect_file_that_is_not_json(tmp_path):
    path = tmp_path / "expect.json"
    path.write_text("labels: stop")
    with pytest.raises(CheckError, match="not a JSON file"):
        expectations.read_expectations(path, 3)


# ---- the command line (once sitegen.cli has the command) -----------------------------------


@cli_has_footage
def test_cli_writes_footage_and_says_where(run_cli, tmp_path):
    solid(64, 48).save(tmp_path / "a.png")
    result = run_cli(
        "footage", tmp_path / "a.png", tmp_path / "a.y4m", "--seconds", "1", "--fps", "5"
    )
    assert result.code == 0, result.err
    assert "Wrote" in result.out and "5 frames" in result.out
    assert y4m_format.read_info(tmp_path / "a.y4m").frames == 5


@cli_has_footage
@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (("missing.png", "out.y4m"), FootageError.exit_code, "does not exist"),
        (("a.png", "out.y4m", "--size", "641x480"), FootageError.exit_code, "even numbers"),
        (("a.png", "out.mp4"), FootageError.exit_code, "must end in .y4m"),
        (("a.png", "out.y4m", "--fps", "0"), USAGE_EXIT_CODE, "--fps"),
    ],
)
def test_cli_bad_inputs_are_one_line(run_cli, tmp_path, monkeypatch, args, code, words):
    monkeypatch.chdir(tmp_path)
    solid(64, 48).save(tmp_path / "a.png")
    result = run_cli("footage", *args)
    assert result.code == code, result.err
    assert words in result.error_line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png"]
