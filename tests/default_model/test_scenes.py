"""The scene generator: boxes, VOC/COCO files, y4m footage and its frame code. No TensorFlow."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from devtools.default_model import scenes


@pytest.fixture(scope="module")
def image_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("set")
    return scenes.write_image_set(out, count=12, seed=7, width=320, height=240, empty_fraction=0.25)


@pytest.fixture(scope="module")
def footage(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("footage") / "clip.y4m"
    return scenes.write_footage(out, seed=5, frames=30, width=320, height=240)


def test_render_scene_boxes_lie_inside_the_image() -> None:
    rng = np.random.default_rng(0)
    seen_classes = set()
    for _ in range(20):
        image, boxes = scenes.render_scene(rng, 200, 150, max_objects=4)
        assert image.size == (200, 150) and image.mode == "RGB"
        for box in boxes:
            assert 0 <= box.xmin < box.xmax <= 200
            assert 0 <= box.ymin < box.ymax <= 150
            assert box.class_id in scenes.CLASSES
            seen_classes.add(box.class_id)
    assert seen_classes == set(scenes.CLASSES)


def test_empty_scene_has_no_boxes() -> None:
    _, boxes = scenes.render_scene(np.random.default_rng(1), 160, 120, empty=True)
    assert boxes == []


def test_scenes_are_deterministic_from_the_seed() -> None:
    first = scenes.render_scene(np.random.default_rng(42), 160, 120)
    again = scenes.render_scene(np.random.default_rng(42), 160, 120)
    other = scenes.render_scene(np.random.default_rng(43), 160, 120)
    assert np.array_equal(np.asarray(first[0]), np.asarray(again[0]))
    assert first[1] == again[1]
    assert not np.array_equal(np.asarray(first[0]), np.asarray(other[0]))


def _voc_boxes(xml_path: Path) -> tuple[str, tuple[int, int], list[tuple]]:
    root = ET.parse(xml_path).getroot()
    size = (int(root.findtext("size/width")), int(root.findtext("size/height")))
    boxes = [
        (
            obj.findtext("name"),
            *(float(obj.findtext(f"bndbox/{k}")) for k in ("xmin", "ymin", "xmax", "ymax")),
        )
        for obj in root.iter("object")
    ]
    return root.findtext("filename"), size, boxes


def test_voc_and_coco_files_parse_and_agree(image_set: Path) -> None:
    coco = json.loads((image_set / "annotations.coco.json").read_text())
    assert {c["id"]: c["name"] for c in coco["categories"]} == scenes.CLASSES
    assert len(coco["images"]) == 12
    names = {c["id"]: c["name"] for c in coco["categories"]}
    empty_images = 0
    for image in coco["images"]:
        assert (image_set / "images" / image["file_name"]).is_file()
        xml_path = image_set / "annotations" / (Path(image["file_name"]).stem + ".xml")
        file_name, size, voc = _voc_boxes(xml_path)
        assert file_name == image["file_name"]
        assert size == (image["width"], image["height"]) == (320, 240)
        with Image.open(image_set / "images" / file_name) as decoded:
            assert decoded.size == (320, 240)
        annotations = [a for a in coco["annotations"] if a["image_id"] == image["id"]]
        empty_images += not annotations
        from_coco = sorted(
            (names[a["category_id"]], a["bbox"][0], a["bbox"][1],
             a["bbox"][0] + a["bbox"][2], a["bbox"][1] + a["bbox"][3])
            for a in annotations
        )  # fmt: skip
        assert len(from_coco) == len(voc)
        for (name_c, *coco_box), (name_v, *voc_box) in zip(from_coco, sorted(voc), strict=True):
            assert name_c == name_v
            assert np.allclose(coco_box, voc_box, atol=0.5)
            x0, y0, x1, y1 = coco_box
            assert 0 <= x0 < x1 <= 320 and 0 <= y0 < y1 <= 240
    assert empty_images >= 3  # a quarter of the set is empty on purpose


def test_coco_file_loads_with_pycocotools(image_set: Path) -> None:
    coco_module = pytest.importorskip("pycocotools.coco")
    coco = coco_module.COCO(str(image_set / "annotations.coco.json"))
    assert sorted(coco.getCatIds()) == [1, 2]


def test_y4m_header_frame_count_and_size(footage: Path) -> None:
    y4m = footage.with_suffix(".y4m")
    with open(y4m, "rb") as stream:
        header = stream.readline()
    assert header == b"YUV4MPEG2 W320 H240 F30:1 Ip A1:1 C420jpeg\n"
    frame_bytes = len(b"FRAME\n") + 320 * 240 * 3 // 2
    assert y4m.stat().st_size == len(header) + 30 * frame_bytes
    frames = list(scenes.read_y4m(y4m))
    assert len(frames) == 30
    assert all(f.shape == (240, 320, 3) and f.dtype == np.uint8 for f in frames)


def test_footage_ground_truth(footage: Path) -> None:
    truth = json.loads(footage.read_text())
    assert (truth["width"], truth["height"], truth["fps"]) == (320, 240, 30)
    assert [f["index"] for f in truth["frames"]] == list(range(30))
    counts = [len(f["boxes"]) for f in truth["frames"]]
    assert counts[0] == 0 and counts[-1] == 0 and max(counts) >= 1
    band_w, band_h = scenes.CODE_BAND
    for frame in truth["frames"]:
        for box in frame["boxes"]:
            assert scenes.CLASSES[box["classId"]] == box["label"]
            assert box["x"] >= 0 and box["x"] + box["width"] <= 320
            assert box["y"] >= 0 and box["y"] + box["height"] <= 240
            assert box["x"] >= band_w or box["y"] >= band_h  # clear of the frame code


def test_empty_footage_has_no_boxes(tmp_path: Path) -> None:
    truth_path = scenes.write_footage(tmp_path / "e.y4m", seed=1, frames=4, width=160, height=120,
                                      empty=True)  # fmt: skip
    truth = json.loads(truth_path.read_text())
    assert all(f["boxes"] == [] for f in truth["frames"])


def test_frame_code_survives_y4m_and_resizing(footage: Path) -> None:
    for index, frame in enumerate(scenes.read_y4m(footage.with_suffix(".y4m"))):
        assert scenes.decode_frame_code(frame, source_size=(320, 240)) == index


@pytest.mark.parametrize("size", [(320, 320), (256, 256), (640, 480), (300, 200)])
def test_frame_code_decodes_after_resize(size: tuple[int, int]) -> None:
    rng = np.random.default_rng(3)
    for index in (0, 1, 5, 1000, 2730, 4095):
        rgb = rng.integers(0, 256, size=(480, 640, 3), dtype=np.uint8)
        scenes.draw_frame_code(rgb, index)
        resized = np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.BILINEAR))
        assert scenes.decode_frame_code(resized) == index


def test_footage_is_deterministic(tmp_path: Path) -> None:
    a = scenes.write_footage(tmp_path / "a.y4m", seed=9, frames=3, width=160, height=120)
    b = scenes.write_footage(tmp_path / "b.y4m", seed=9, frames=3, width=160, height=120)
    assert a.read_text() == b.read_text()
    assert a.with_suffix(".y4m").read_bytes() == b.with_suffix(".y4m").read_bytes()
