"""sitegen eval runs the built page itself over annotated images and scores it with pycocotools
beside TensorFlow on the same pixels; build --min-ap refuses a site below a floor."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from sitegen.eval.metrics import SUMMARY_NAMES
from tests.helpers.support import tree_digest

pytestmark = pytest.mark.tensorflow
pytest.importorskip("pycocotools")


@pytest.fixture(scope="module")
def scenes(tmp_path_factory) -> Path:
    """12 held-out scenes with VOC XML and COCO JSON (annotations/, images/)."""
    from devtools.default_model import scenes as scene_files

    folder = tmp_path_factory.mktemp("eval") / "set"
    scene_files.write_image_set(folder, count=12, seed=777)
    return folder


def _csv_from_coco(coco: dict, path: Path) -> Path:
    names = {c["id"]: c["name"] for c in coco["categories"]}
    images = {i["id"]: i for i in coco["images"]}
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["filename", "width", "height", "class", "xmin", "ymin", "xmax", "ymax"])
        for a in coco["annotations"]:
            image, (x, y, w, h) = images[a["image_id"]], a["bbox"]
            writer.writerow([image["file_name"], image["width"], image["height"],
                             names[a["category_id"]], x, y, x + w, y + h])  # fmt: skip
    return path


@pytest.fixture(scope="module")
def evaluated(default_site, scenes, tmp_path_factory):
    """One evaluation on two backends, shared (the CLI itself is run by the tests below)."""
    from sitegen.commands.eval import EvalOptions, evaluate, summary_table

    out = tmp_path_factory.mktemp("eval-out")
    options = EvalOptions(
        default_site, scenes / "images", scenes / "annotations.coco.json",
        backends=("litert-wasm", "wasm"), report=out / "report", json_path=out / "result.json",
    )  # fmt: skip
    table = summary_table(evaluate(options))
    return table, json.loads((out / "result.json").read_text()), out / "report"


def test_page_and_tensorflow_score_alike_and_agree(evaluated):
    table, numbers, _ = evaluated
    rows = {row["what"]: row for row in numbers["variants"]["site"]}
    assert set(rows) == {"page, litert-wasm", "page, wasm", "TensorFlow"}
    tensorflow = rows["TensorFlow"]["summary"]
    assert list(tensorflow) == list(SUMMARY_NAMES)
    assert tensorflow["AP50"] > 0.5  # the default model finds the signs
    for what in ("page, litert-wasm", "page, wasm"):
        page = rows[what]
        assert all(abs(page["summary"][n] - tensorflow[n]) <= 0.01 for n in SUMMARY_NAMES), what
        assert set(page["per_class"]) == {"kangaroo", "stop"}
        assert page["parity"]["images_that_differ"] == [] and page["parity"]["images"] == 12
        assert page["parity"]["largest_score_difference"] <= 1e-4
    assert "AP50" in table and "0 of 12 images differ" in table


def test_report_is_self_contained(evaluated):
    _, numbers, report = evaluated
    page = (report / "index.html").read_text()
    assert page.count("<polyline") == 2 * 3  # per class: litert-wasm, wasm, TensorFlow
    shots = list((report / "images").glob("*.jpg"))
    assert len(shots) == numbers["images"] and page.count('class="truth"') >= numbers["boxes"]
    assert "http://" not in page and "https://" not in page


def test_csv_and_voc_annotations_give_the_same_numbers(
    run_cli, default_site, scenes, tmp_path, evaluated
):
    _, numbers, _ = evaluated
    want = {r["what"]: r["summary"] for r in numbers["variants"]["site"]}
    coco = json.loads((scenes / "annotations.coco.json").read_text())
    for given in (_csv_from_coco(coco, tmp_path / "labels.csv"), scenes / "annotations"):
        out = tmp_path / f"{given.name}.json"
        result = run_cli("eval", default_site, "--images", scenes / "images", "--annotations",
                         given, "--backend", "wasm", "--json", out)  # fmt: skip
        assert result.code == 0, result.err
        rows = {r["what"]: r["summary"] for r in json.loads(out.read_text())["variants"]["site"]}
        assert rows["page, wasm"] == pytest.approx(want["page, wasm"], abs=1e-9), given.name


def test_bad_inputs_are_one_line_errors(run_cli, default_site, scenes, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    coco = scenes / "annotations.coco.json"
    cases = [
        (("eval", default_site, "--images", empty, "--annotations", coco), "holds no images"),
        (("eval", tmp_path / "nope", "--images", scenes / "images", "--annotations", coco), "does not exist"),
        (("eval", default_site, "--images", scenes / "images", "--annotations", scenes / "missing.json"),
         "does not exist"),
        (("eval", default_site, "--images", scenes / "images", "--annotations", coco, "--backend",
          "litert-webgpu"), "cannot run on litert-webgpu"),
    ]  # fmt: skip
    other = tmp_path / "other"
    other.mkdir()
    (other / "cat.png").write_bytes((scenes / "images" / "000000.jpg").read_bytes())
    cases.append((("eval", default_site, "--images", other, "--annotations", coco), "match none"))
    renamed = json.loads(coco.read_text())
    for category in renamed["categories"]:
        category["name"] = f"not-{category['name']}"
    (tmp_path / "renamed.json").write_text(json.dumps(renamed))
    cases.append((("eval", default_site, "--images", scenes / "images", "--annotations",
                   tmp_path / "renamed.json"), "none of the model's labels"))  # fmt: skip
    for args, words in cases:
        result = run_cli(*args)
        assert result.code == 10, (args, result.err)
        assert words in result.error_line, result.error_line


def test_an_undecodable_image_is_reported_and_skipped(run_cli, default_site, scenes, tmp_path):
    import shutil

    images = tmp_path / "images"
    shutil.copytree(scenes / "images", images)
    (images / "000003.jpg").write_bytes(b"not a jpeg")
    out = tmp_path / "r.json"
    result = run_cli("eval", default_site, "--images", images, "--annotations",
                     scenes / "annotations.coco.json", "--backend", "wasm", "--json", out)  # fmt: skip
    assert result.code == 0, result.err
    assert "000003.jpg: cannot be decoded" in result.err
    numbers = json.loads(out.read_text())
    assert numbers["problems"] == [p for p in numbers["problems"] if "000003.jpg" in p]


def test_build_refuses_a_site_below_the_ap_floor(run_cli, scenes, tmp_path):
    from sitegen.resources import default_model_dir

    out = tmp_path / "dist"
    args = ("build", default_model_dir(), "--out", out, "--eval-images", scenes / "images",
            "--eval-annotations", scenes / "annotations.coco.json")  # fmt: skip
    result = run_cli(*args, "--min-ap", "0.99")
    assert result.code == 10 and "below --min-ap 0.99" in result.error_line, result.err
    assert not out.exists() and not [p for p in tmp_path.iterdir() if "staging" in p.name]
    result = run_cli(*args, "--min-ap", "0.5")
    assert result.code == 0, result.err
    assert "accuracy   = AP@.5" in result.err and (out / "config.json").is_file()
    before = tree_digest(out)
    assert run_cli(*args, "--min-ap", "0.99").code == 10
    assert tree_digest(out) == before  # the earlier site is left as it was
