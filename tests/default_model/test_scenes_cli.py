from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from devtools.default_model.__main__ import main


def test_scenes_image_set(tmp_path):
    assert main(["scenes", str(tmp_path / "set"), "--count", "3", "--seed", "4"]) == 0
    coco = json.loads((tmp_path / "set" / "annotations.coco.json").read_text())
    assert len(coco["images"]) == 3
    voc = sorted((tmp_path / "set" / "annotations").glob("*.xml"))
    assert len(voc) == 3
    assert all(ET.parse(path).getroot().tag == "annotation" for path in voc)


def test_scenes_footage(tmp_path):
    assert main(["scenes", str(tmp_path / "cam.y4m"), "--count", "5"]) == 0
    truth = json.loads((tmp_path / "cam.json").read_text())
    assert len(truth["frames"]) == 5
    header = (tmp_path / "cam.y4m").read_bytes()[:40]
    assert header.startswith(b"YUV4MPEG2 W640 H480")
