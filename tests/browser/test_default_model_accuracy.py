"""Issue acceptance for the embedded model: COCO AP of the converted model, run by the page in
Chromium, is within 0.01 of the SavedModel's on 200 freshly generated held-out images."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from devtools.default_model import scenes
from devtools.default_model.evaluate import coco_metrics
from sitegen.site.page import page_url
from tests.helpers.browser import open_page, reference_outputs, served

pytestmark = pytest.mark.tensorflow

HELD_OUT_SEED = 424242
COUNT = 200
SCORE_FLOOR = 0.05  # the NMS score threshold of the default model: AP needs the low scores too


def _coco(image_id: int, label_ids: dict[str, int], found, width: int, height: int) -> list[dict]:
    return [
        {
            "image_id": image_id,
            "category_id": label_ids[d["label"]],
            "bbox": [d["x"] * width, d["y"] * height, d["width"] * width, d["height"] * height],
            "score": d["score"],
        }
        for d in found
    ]


def test_browser_ap_matches_saved_model(browser, tmp_path):
    from sitegen.build import BuildOptions, build
    from sitegen.resources import default_model_dir

    model = default_model_dir()
    site = tmp_path / "site"
    build(BuildOptions(model=model, out=site, max_detections=100))
    held_out = scenes.write_image_set(tmp_path / "held-out", count=COUNT, seed=HELD_OUT_SEED)
    coco = json.loads((held_out / "annotations.coco.json").read_text())
    label_ids = {c["name"]: c["id"] for c in coco["categories"]}

    native, page_results = [], []
    with served(site) as url:
        page, watcher = open_page(browser, page_url(url, backend="wasm", threshold=SCORE_FLOOR))
        page.wait_for_function("window.sitegen && window.sitegen.state !== 'loading'")
        page.evaluate(
            "() => { window.__last = null; addEventListener('sitegen:detections', "
            "(e) => { window.__last = e.detail; }); }"
        )
        for image in coco["images"]:
            path = held_out / "images" / image["file_name"]
            page.evaluate("window.__last = null")
            page.set_input_files("input[type=file]", str(path))
            page.wait_for_function("window.__last !== null && window.__last.source === 'image'")
            detail = page.evaluate("window.__last")
            found = [
                {**d["box"], "label": d["label"], "score": d["score"]} for d in detail["detections"]
            ]
            page_results += _coco(image["id"], label_ids, found, image["width"], image["height"])

            pixels = np.asarray(Image.open(path).convert("RGB"))
            out = reference_outputs(model / "saved_model", pixels)
            labels = {v: k for k, v in label_ids.items()}
            reference = []
            for i in range(int(out["num_detections"][0])):
                ymin, xmin, ymax, xmax = (float(v) for v in out["detection_boxes"][0, i])
                reference.append(
                    {
                        "x": xmin,
                        "y": ymin,
                        "width": xmax - xmin,
                        "height": ymax - ymin,
                        "label": labels[int(out["detection_classes"][0, i])],
                        "score": float(out["detection_scores"][0, i]),
                    }
                )
            native += _coco(image["id"], label_ids, reference, image["width"], image["height"])
        watcher.assert_clean()

    ground_truth = held_out / "annotations.coco.json"
    in_browser = coco_metrics(ground_truth, page_results)
    in_tensorflow = coco_metrics(ground_truth, native)
    print("browser", in_browser, "tensorflow", in_tensorflow)
    for name in ("kangaroo", "stop", "all"):
        assert in_browser[name]["AP50"] == pytest.approx(in_tensorflow[name]["AP50"], abs=0.01)
        assert in_tensorflow[name]["AP50"] >= 0.9
        assert in_tensorflow[name]["AP"] >= 0.6
