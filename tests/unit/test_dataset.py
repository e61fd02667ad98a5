"""``sitegen dataset``: Pascal VOC / LabelImg XML in; checked, split, and written as CSV, COCO
JSON, labelmap.pbtxt and (with TensorFlow) TFRecords. Broken files are made here, in tmp_path, one
per problem: each is reported with its file (and line), and the rest of the dataset goes on."""

from __future__ import annotations

import csv
import json
import re
import sys
from pathlib import Path

import pytest
from PIL import Image

from sitegen.commands.dataset import DatasetOptions, class_list, prepare_dataset
from sitegen.dataset import AnnotatedImage, Box, DatasetError
from sitegen.dataset.split import size_of_test_part, split_images
from sitegen.dataset.writers import CSV_COLUMNS, labelmap_text
from sitegen.errors import MissingDependencyError, OutputError
from sitegen.model.labels import read_labels
from tests.conftest import SHARED_FIXTURES

RACCOON = SHARED_FIXTURES / "raccoon-voc"

# --- making VOC folders ------------------------------------------------------------------------


def voc_xml(
    filename: str,
    size: tuple[int, int] | None,
    objects: list[tuple[str, tuple]],
    *,
    folder: str = "images",
    path: str | None = None,
    database: str | None = "Unknown",
) -> str:
    """An annotation as LabelImg writes it; one element per line, so line numbers are known."""
    lines = ["<annotation>", f"\t<folder>{folder}</folder>", f"\t<filename>{filename}</filename>"]
    if path is not None:
        lines.append(f"\t<path>{path}</path>")
    if database is not None:
        lines += ["\t<source>", f"\t\t<database>{database}</database>", "\t</source>"]
    if size is not None:
        lines += ["\t<size>", f"\t\t<width>{size[0]}</width>", f"\t\t<height>{size[1]}</height>"]
        lines += ["\t\t<depth>3</depth>", "\t</size>"]
    for name, box in objects:
        lines += ["\t<object>", f"\t\t<name>{name}</name>", "\t\t<bndbox>"]
        lines += [f"\t\t\t<{key}>{value}</{key}>" for key, value in zip(COORDS, box, strict=True)]
        lines += ["\t\t</bndbox>", "\t</object>"]
    return "\n".join([*lines, "</annotation>", ""])


COORDS = ("xmin", "ymin", "xmax", "ymax")


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the ``occurrence``-th line containing ``needle``."""
    hits = [number for number, line in enumerate(text.splitlines(), 1) if needle in line]
    return hits[occurrence - 1]


def make_image(path: Path, size=(64, 48), image_format: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (90, 140, 200)).save(path, format=image_format)
    return path


def add_example(
    root: Path,
    stem: str,
    objects: list[tuple[str, tuple]],
    size=(64, 48),
    **xml_options,
) -> Path:
    """annotations/STEM.xml and images/STEM.jpg, as LabelImg leaves them."""
    make_image(root / "images" / f"{stem}.jpg", size)
    xml = root / "annotations" / f"{stem}.xml"
    xml.parent.mkdir(parents=True, exist_ok=True)
    xml.write_text(voc_xml(f"{stem}.jpg", size, objects, **xml_options))
    return xml


def good_dataset(root: Path, images: int = 10) -> Path:
    """``images`` images, each with a 'cat' box; every third one also has a 'dog'."""
    for number in range(1, images + 1):
        objects = [("cat", (4, 5, 30, 40))]
        if number % 3 == 0:
            objects.append(("dog", (10, 2, 60, 47)))
        add_example(root, f"img-{number}", objects)
    return root / "annotations"


def run(voc_dir: Path, out: Path, **options):
    return prepare_dataset(DatasetOptions(voc_dir=voc_dir, out=out, **options))


def read_csv(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as file:
        reader = csv.DictReader(file)
        assert tuple(reader.fieldnames) == CSV_COLUMNS
        return list(reader)


def box_rows(out: Path) -> tuple[list[dict], list[dict]]:
    return read_csv(out / "train_labels.csv"), read_csv(out / "test_labels.csv")


# --- a clean dataset ---------------------------------------------------------------------------


def test_writes_csv_coco_and_labelmap_split_by_image(tmp_path):
    voc = good_dataset(tmp_path / "voc")
    result = run(voc, tmp_path / "out")
    out = tmp_path / "out"
    assert result.files == (
        "labelmap.pbtxt",
        "test.json",
        "test_labels.csv",
        "train.json",
        "train_labels.csv",
    )
    assert (len(result.split.train), len(result.split.test)) == (8, 2)
    train, test = box_rows(out)
    assert len(train) + len(test) == 13  # 10 cats and 3 dogs
    assert {r["filename"] for r in train}.isdisjoint(r["filename"] for r in test)
    assert {r["class"] for r in train} == {r["class"] for r in test} == {"cat", "dog"}
    first = next(r for r in train + test if r["filename"] == "img-3.jpg" and r["class"] == "dog")
    assert first == {
        "filename": "img-3.jpg",
        "width": "64",
        "height": "48",
        "class": "dog",
        "xmin": "10",
        "ymin": "2",
        "xmax": "60",
        "ymax": "47",
        "source": "Unknown",
    }
    assert read_labels(out / "labelmap.pbtxt") == {1: "cat", 2: "dog"}
    assert (out / ".sitegen-site.json").is_file()  # so a second run may replace the folder


def test_coco_files_hold_the_same_split_as_the_csvs(tmp_path):
    run(good_dataset(tmp_path / "voc"), tmp_path / "out")
    for part in ("train", "test"):
        coco = json.loads((tmp_path / "out" / f"{part}.json").read_text())
        rows = read_csv(tmp_path / "out" / f"{part}_labels.csv")
        assert coco["categories"] == [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}]
        assert {i["file_name"] for i in coco["images"]} == {r["filename"] for r in rows}
        assert len(coco["annotations"]) == len(rows)
        names = {c["id"]: c["name"] for c in coco["categories"]}
        files = {i["id"]: i["file_name"] for i in coco["images"]}
        from_coco = sorted(
            (files[a["image_id"]], names[a["category_id"]], *a["bbox"], a["area"])
            for a in coco["annotations"]
        )
        from_csv = sorted(
            (r["filename"], r["class"], *_xywh(r), _area(r)) for r in rows
        )  # bbox [x, y, w, h]
        assert from_coco == from_csv
        assert [a["id"] for a in coco["annotations"]] == list(range(1, len(rows) + 1))


def _xywh(row: dict) -> tuple:
    x, y, x2, y2 = (int(row[k]) for k in COORDS)
    return x, y, x2 - x, y2 - y


def _area(row: dict) -> int:
    _, _, w, h = _xywh(row)
    return w * h


def test_coco_files_load_in_pycocotools(tmp_path):
    coco_module = pytest.importorskip("pycocotools.coco")
    run(good_dataset(tmp_path / "voc"), tmp_path / "out")
    coco = coco_module.COCO(str(tmp_path / "out" / "train.json"))
    assert len(coco.getImgIds()) == 8
    assert coco.loadCats(coco.getCatIds(catNms=["dog"]))[0]["id"] == 2


def test_the_same_seed_gives_the_same_split_and_another_seed_another(tmp_path):
    voc = good_dataset(tmp_path / "voc", images=30)
    first = run(voc, tmp_path / "a", seed=7)
    again = run(voc, tmp_path / "b", seed=7)
    assert (tmp_path / "a" / "test_labels.csv").read_bytes() == (
        tmp_path / "b" / "test_labels.csv"
    ).read_bytes()
    assert first.split == again.split
    others = {
        tuple(i.filename for i in run(voc, tmp_path / f"s{seed}", seed=seed).split.test)
        for seed in range(4)
    }
    assert len(others) > 1


def test_a_second_run_replaces_its_own_output(tmp_path):
    voc = good_dataset(tmp_path / "voc")
    run(voc, tmp_path / "out", seed=1)
    (tmp_path / "out" / "stale.txt").write_text("from an earlier run")
    run(voc, tmp_path / "out", seed=2)
    assert not (tmp_path / "out" / "stale.txt").exists()


# --- the split ---------------------------------------------------------------------------------


def _images(labels_per_image: list[tuple[str, ...]]) -> list[AnnotatedImage]:
    return [
        AnnotatedImage(
            filename=f"{n}.jpg",
            path=Path(f"{n}.jpg"),
            width=10,
            height=10,
            image_format="JPEG",
            source="test",
            annotation=Path(f"{n}.xml"),
            boxes=tuple(Box(label, 0, 0, 5, 5) for label in labels),
        )
        for n, labels in enumerate(labels_per_image)
    ]


@pytest.mark.parametrize(
    ("fraction", "images", "expected"),
    [
        (0.2, 200, 40),
        (0.2, 10, 2),
        (0.25, 10, 3),
        (0.2, 2, 1),
        (0.2, 1, 0),
        (0.9, 5, 4),
        (0.5, 3, 2),
    ],
)
def test_test_part_is_the_rounded_fraction_leaving_each_part_an_image(fraction, images, expected):
    assert size_of_test_part(fraction, images) == expected


@pytest.mark.parametrize("seed", range(20))
def test_every_class_with_two_images_is_in_both_parts(seed):
    # 'rare' and 'pair' have two images each, one of which is shared; 'solo' has one.
    labels = [("common",)] * 16 + [("common", "rare"), ("rare", "pair"), ("pair",), ("solo",)]
    split = split_images(_images(labels), 0.2, seed)
    assert (len(split.train), len(split.test)) == (16, 4)
    for label in ("common", "rare", "pair"):
        assert any(label in image.labels for image in split.test), label
        assert any(label in image.labels for image in split.train), label
    assert split.not_in_both == ()


def test_a_test_part_too_small_for_every_class_says_which_miss():
    labels = [(name,) for name in "aabbcc"]  # three classes of two images; one test image
    split = split_images(_images(labels), 0.1, seed=0)
    assert len(split.test) == 1
    assert len(split.not_in_both) == 2


def test_classes_keep_their_share_of_the_fraction():
    labels = [("a",)] * 50 + [("b",)] * 50
    split = split_images(_images(labels), 0.2, seed=3)
    test_labels = [label for image in split.test for label in image.labels]
    assert test_labels.count("a") == test_labels.count("b") == 10


# --- broken files: each reported with its file, and the rest goes on ----------------------------

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE annotation [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<annotation><filename>bad.jpg</filename><object><name>&lol4;</name></object></annotation>
"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE annotation [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<annotation><filename>bad.jpg</filename><object><name>&secret;</name></object></annotation>
"""


def _broken(root: Path, case: str) -> tuple[Path, int | None, str, bool]:
    """Writes one broken annotation for ``case``; returns (file, line, words, skipped_file)."""
    xml = root / "annotations" / "bad.xml"
    xml.parent.mkdir(parents=True, exist_ok=True)
    image = root / "images" / "bad.jpg"
    ok_box = ("cat", (1, 1, 20, 20))
    text = voc_xml("bad.jpg", (64, 48), [ok_box])
    expected_line, words, skipped = line_of(text, "<filename>"), "", True
    if case == "missing image":
        words = "image bad.jpg not found in"
    elif case == "unreadable image":
        image.parent.mkdir(parents=True, exist_ok=True)
        image.write_bytes(b"this is not a JPEG")
        words = f"cannot read image {image}"
    elif case == "truncated image":
        make_image(image, (64, 48))
        image.write_bytes(image.read_bytes()[:200])
        words = f"cannot read image {image}"
    elif case == "size differs":
        make_image(image, (80, 48))
        expected_line, words = (
            line_of(text, "<size>"),
            f"<size> says 64x48 but image {image} is 80x48",
        )
    elif case == "malformed XML":
        text = text.replace("</bndbox>", "</bndbx>")
        expected_line, words = line_of(text, "</bndbx>"), "malformed XML (mismatched tag"
    elif case == "billion laughs":
        text, expected_line, words = BILLION_LAUGHS, 3, "XML with entity declarations"
    elif case == "external entity":
        text, expected_line, words = EXTERNAL_ENTITY, 2, "XML with entity declarations"
    elif case == "not VOC":
        text, expected_line, words = "<html>\n</html>\n", 1, "not a Pascal VOC annotation"
    else:  # the image is fine; one of two boxes is not
        make_image(image, (64, 48))
        box, words = {
            "box outside": (("cat", (10, 10, 70, 40)), "box (x 10..70, y 10..40) is outside"),
            "empty box": (("cat", (30, 10, 30, 40)), "object 2 (cat) is empty"),
            "not a number": (("cat", (1, 1, "wide", 9)), "has <xmax> 'wide', not a number"),
            "empty class": (("", (1, 1, 9, 9)), "object 2 has an empty class name"),
            "unknown class": (("cta", (1, 1, 9, 9)), "object 2 has class 'cta', not one of"),
        }[case]
        text = voc_xml("bad.jpg", (64, 48), [ok_box, box])
        expected_line, skipped = line_of(text, "<object>", 2), False
    xml.write_text(text)
    return xml, expected_line, words, skipped


BROKEN_CASES = [
    "missing image",
    "unreadable image",
    "truncated image",
    "size differs",
    "malformed XML",
    "billion laughs",
    "external entity",
    "not VOC",
    "box outside",
    "empty box",
    "not a number",
    "empty class",
    "unknown class",
]


@pytest.mark.parametrize("case", BROKEN_CASES)
def test_each_problem_names_its_file_and_line_and_the_rest_goes_on(tmp_path, capsys, case):
    root = tmp_path / "voc"
    voc = good_dataset(root, images=5)
    xml, line, words, skipped = _broken(root, case)
    result = run(voc, tmp_path / "out", classes=("cat", "dog"))
    assert len(result.problems) == 1, result.problems
    problem = result.problems[0]
    assert (problem.file, problem.line, problem.skipped_file) == (xml, line, skipped)
    assert words in problem.message
    err = capsys.readouterr().err
    reported = [row for row in err.splitlines() if row.startswith(f"{xml}:")]
    outcome = "file skipped" if skipped else "box dropped"
    assert reported == [f"{xml}:{line}: {problem.message}; {outcome}"]
    images = len(result.split.train) + len(result.split.test)
    assert images == (5 if skipped else 6)
    assert result.boxes("train") + result.boxes("test") == (6 if skipped else 7)
    assert "problems: 1 (" in err


def test_every_problem_at_once_is_counted_exactly(tmp_path, capsys):
    root = tmp_path / "voc"
    voc = good_dataset(root, images=10)  # 13 boxes
    bad_files = []
    for number, case in enumerate(BROKEN_CASES):
        case_root = tmp_path / f"case-{number}"
        xml, _, _, _ = _broken(case_root, case)
        stem = f"bad-{number}"
        text = xml.read_text().replace("bad.jpg", f"{stem}.jpg")
        (voc / f"{stem}.xml").write_text(text)
        if (case_root / "images" / "bad.jpg").exists():
            (case_root / "images" / "bad.jpg").rename(root / "images" / f"{stem}.jpg")
        bad_files.append(voc / f"{stem}.xml")
    result = run(voc, tmp_path / "out", classes=("cat", "dog"))
    skipped = [p for p in result.problems if p.skipped_file]
    assert (len(result.problems), len(skipped)) == (13, 8)
    assert sorted(p.file for p in result.problems) == sorted(bad_files)
    images = len(result.split.train) + len(result.split.test)
    assert images == 10 + 5  # the good ones, and the five that lost only a box
    assert result.boxes("train") + result.boxes("test") == 13 + 5
    assert (len(result.split.test), len(result.split.train)) == (3, 12)
    err = capsys.readouterr().err
    assert "problems: 13 (8 files skipped, 5 boxes dropped)" in err
    for bad in bad_files:
        assert f"{bad}:" in err


def test_boxes_without_bndbox_or_with_nan_and_files_naming_no_image(tmp_path):
    root = tmp_path / "voc"
    voc = good_dataset(root, images=3)
    make_image(root / "images" / "odd.jpg")
    text = voc_xml("odd.jpg", (64, 48), [("cat", (1, 1, 9, 9)), ("cat", ("nan", 1, 9, 9))])
    no_box = text.replace("<bndbox>", "<!--", 1).replace("</bndbox>", "-->", 1)
    (voc / "odd.xml").write_text(no_box)
    (voc / "unnamed.xml").write_text(voc_xml("", (64, 48), [("cat", (1, 1, 9, 9))]))
    result = run(voc, tmp_path / "out")
    assert [(p.file.name, p.message) for p in result.problems] == [
        ("odd.xml", "object 1 (cat) has no <bndbox>"),
        ("odd.xml", "object 2 (cat) has <xmin> 'nan', not a number"),
        ("unnamed.xml", "names no image (<filename> and <path> are empty)"),
    ]
    assert len(result.split.train) + len(result.split.test) == 3  # odd.jpg has no box left


def test_duplicate_image_names_skip_the_second_file(tmp_path):
    root = tmp_path / "voc"
    voc = good_dataset(root, images=4)
    (voc / "zz-copy.xml").write_text((voc / "img-1.xml").read_text())
    result = run(voc, tmp_path / "out")
    assert [(p.file.name, p.skipped_file) for p in result.problems] == [("zz-copy.xml", True)]
    assert "img-1.jpg is already used by" in result.problems[0].message


def test_images_without_boxes_are_left_out_and_said_so(tmp_path, capsys):
    root = tmp_path / "voc"
    voc = good_dataset(root, images=4)
    add_example(root, "background", [])
    result = run(voc, tmp_path / "out")
    assert len(result.split.train) + len(result.split.test) == 4
    assert "left out: 1 images with no boxes" in capsys.readouterr().err


def test_strict_makes_any_problem_an_error_and_writes_nothing(tmp_path):
    root = tmp_path / "voc"
    voc = good_dataset(root, images=5)
    xml, line, _, _ = _broken(root, "box outside")
    with pytest.raises(DatasetError) as error:
        run(voc, tmp_path / "out", strict=True)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(f"--strict: 1 problem in the annotations (first: {xml}:{line}: ")
    assert error.value.exit_code == 9
    assert sorted(p.name for p in tmp_path.iterdir()) == ["voc"]  # no out, no staging folder


# --- where images are found --------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["beside", "folder", "JPEGImages", "path", "Annotations"])
def test_images_are_found_where_labelimg_and_voc_put_them(tmp_path, layout):
    root = tmp_path / "data"
    text = voc_xml("a.jpg", (64, 48), [("cat", (1, 1, 9, 9))], folder="pictures")
    voc, image = {
        "beside": (root, root / "a.jpg"),
        "folder": (root / "xml", root / "pictures" / "a.jpg"),
        "JPEGImages": (root / "Annotations", root / "JPEGImages" / "a.jpg"),
        "path": (root / "xml", tmp_path / "elsewhere" / "a.jpg"),
        "Annotations": (root, root / "images" / "a.jpg"),  # VOC_DIR is the dataset's root
    }[layout]
    if layout == "path":
        text = voc_xml("a.jpg", (64, 48), [("cat", (1, 1, 9, 9))], path=str(image))
    xml_folder = root / "Annotations" if layout == "Annotations" else voc
    xml_folder.mkdir(parents=True, exist_ok=True)
    (xml_folder / "a.xml").write_text(text)
    make_image(image)
    result = run(voc, tmp_path / "out")
    assert result.problems == ()
    assert [i.path for i in result.split.train] == [image]


@pytest.mark.parametrize(
    ("path", "database", "source"),
    [("/data/a.jpg", "Unknown", "/data/a.jpg"), (None, "Flickr", "Flickr"), (None, None, "a.xml")],
)
def test_source_column_is_path_else_database_else_the_xml_name(tmp_path, path, database, source):
    voc = tmp_path / "voc"
    make_image(voc / "a.jpg")
    (voc / "a.xml").write_text(
        voc_xml("a.jpg", (64, 48), [("cat", (1, 1, 9, 9))], path=path, database=database)
    )
    run(voc, tmp_path / "out")
    assert [r["source"] for r in box_rows(tmp_path / "out")[0]] == [source]


def test_formats_other_than_jpeg_and_fractional_coordinates(tmp_path):
    voc = tmp_path / "voc"
    make_image(voc / "a.png", image_format="PNG")
    (voc / "a.xml").write_text(voc_xml("a.png", (64, 48), [("cat", (1.5, 2, 9.25, 9))]))
    run(voc, tmp_path / "out")
    (row,) = box_rows(tmp_path / "out")[0]
    assert (row["xmin"], row["ymin"], row["xmax"]) == ("1.5", "2", "9.25")


# --- one-line errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setup", "words"),
    [
        ("missing", "does not exist"),
        ("file", "is a file"),
        ("empty", "is empty"),
        ("no xml", "has no .xml annotation files"),
        ("all broken", "nothing left of"),
    ],
)
def test_unusable_folders_are_one_line_errors(tmp_path, setup, words):
    voc = tmp_path / "voc"
    if setup == "file":
        voc.write_text("not a folder")
    elif setup != "missing":
        voc.mkdir()
    if setup == "no xml":
        make_image(voc / "a.jpg")
    if setup == "all broken":
        (voc / "a.xml").write_text("<annotation>")
    with pytest.raises(DatasetError) as error:
        run(voc, tmp_path / "out")
    assert words in str(error.value)
    assert "\n" not in str(error.value)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 1.5])
def test_test_fraction_must_be_between_0_and_1(tmp_path, fraction):
    with pytest.raises(DatasetError, match="--test-fraction"):
        run(good_dataset(tmp_path / "voc"), tmp_path / "out", test_fraction=fraction)


def test_class_list():
    assert class_list(" raccoon, cat ,,raccoon") == ("raccoon", "cat")
    with pytest.raises(DatasetError, match="names no class"):
        class_list(" , ")


def test_out_never_replaces_a_users_folder_or_the_dataset(tmp_path):
    voc = good_dataset(tmp_path / "voc")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    with pytest.raises(OutputError, match="not made by sitegen"):
        run(voc, mine)
    with pytest.raises(OutputError, match="holds the dataset"):
        run(voc, tmp_path / "voc")
    with pytest.raises(OutputError, match="holds the dataset's image"):
        run(voc, tmp_path / "voc" / "images", force=True)
    assert len(list((tmp_path / "voc" / "images").iterdir())) == 10
    assert (mine / "notes.txt").read_text() == "keep"
    result = run(voc, mine, force=True)
    assert result.set_aside is not None
    assert (result.set_aside / "notes.txt").read_text() == "keep"


def test_labelmap_names_with_quotes_and_non_ascii_read_back(tmp_path):
    names = {"o'neil": 1, "back\\slash": 2, "höckerschwan": 3}
    path = tmp_path / "labelmap.pbtxt"
    path.write_text(labelmap_text(names), encoding="utf-8")
    assert read_labels(path) == {number: name for name, number in names.items()}
    assert labelmap_text({"raccoon": 1}) == "item {\n  id: 1\n  name: 'raccoon'\n}\n"


def test_progress_is_a_stage_line_per_phase_off_a_terminal(tmp_path, capsys):
    run(good_dataset(tmp_path / "voc", images=20), tmp_path / "out")
    err = capsys.readouterr().err
    assert "Checking 20 annotation files and their images ..." in err
    assert "  Checking 20 annotation files and their images: 10/20" in err
    assert "Splitting 20 images into train and test ..." in err
    assert "Writing CSV, COCO JSON and labelmap.pbtxt ..." in err
    table = err[err.index("train  test  total") :].splitlines()
    assert re.fullmatch(r"images\s+16\s+4\s+20", table[1])


# --- TFRecords ---------------------------------------------------------------------------------


@pytest.mark.tensorflow
def test_tfrecords_read_back_with_the_od_api_field_names(tmp_path):
    tf = pytest.importorskip("tensorflow")
    voc = good_dataset(tmp_path / "voc")
    make_image(voc.parent / "images" / "odd.bmp", (64, 48), "BMP")
    (voc / "odd.xml").write_text(voc_xml("odd.bmp", (64, 48), [("dog", (8, 12, 32, 36))]))
    result = run(voc, tmp_path / "out", tfrecord=True)
    assert {"train.record", "test.record"} <= set(result.files)
    spec = {
        "image/encoded": tf.io.FixedLenFeature([], tf.string),
        "image/format": tf.io.FixedLenFeature([], tf.string),
        "image/filename": tf.io.FixedLenFeature([], tf.string),
        "image/source_id": tf.io.FixedLenFeature([], tf.string),
        "image/height": tf.io.FixedLenFeature([], tf.int64),
        "image/width": tf.io.FixedLenFeature([], tf.int64),
        **{f"image/object/bbox/{k}": tf.io.VarLenFeature(tf.float32) for k in COORDS},
        "image/object/class/text": tf.io.VarLenFeature(tf.string),
        "image/object/class/label": tf.io.VarLenFeature(tf.int64),
    }
    seen = {}
    for part in ("train", "test"):
        for record in tf.data.TFRecordDataset(str(tmp_path / "out" / f"{part}.record")):
            example = tf.io.parse_single_example(record, spec)
            name = example["image/filename"].numpy().decode()
            dense = {
                k: tf.sparse.to_dense(v).numpy().tolist()
                for k, v in example.items()
                if isinstance(v, tf.SparseTensor)
            }
            pixels = tf.io.decode_image(example["image/encoded"], channels=3)
            assert pixels.shape == (48, 64, 3)
            assert example["image/source_id"].numpy().decode() == name
            seen[name] = (example["image/format"].numpy().decode(), dense)
    assert len(seen) == 11
    assert len(seen) == len(result.split.train) + len(result.split.test)
    image_format, odd = seen["odd.bmp"]
    assert image_format == "png"  # re-encoded: the OD API decodes JPEG and PNG
    assert odd["image/object/bbox/xmin"] == [pytest.approx(8 / 64)]
    assert odd["image/object/bbox/ymax"] == [pytest.approx(36 / 48)]
    assert odd["image/object/class/text"] == [b"dog"]
    assert odd["image/object/class/label"] == [2]
    image_format, third = seen["img-3.jpg"]
    assert image_format == "jpeg"
    assert third["image/object/class/label"] == [1, 2]
    assert third["image/object/bbox/xmax"] == [pytest.approx(30 / 64), pytest.approx(60 / 64)]


def test_tfrecord_without_tensorflow_is_a_one_line_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorflow", None)  # `import tensorflow` now fails
    with pytest.raises(MissingDependencyError, match="--tfrecord needs TensorFlow") as error:
        run(good_dataset(tmp_path / "voc"), tmp_path / "out", tfrecord=True)
    assert error.value.exit_code == 7
    assert not (tmp_path / "out").exists()


# --- the raccoon set ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def raccoon() -> Path:
    if not (RACCOON / "annotations").is_dir():
        pytest.skip("../shared/fixtures/raccoon-voc is not present")
    return RACCOON / "annotations"


@pytest.mark.fixtures
def test_raccoon_set_every_box_accounted_for_and_split_80_20(raccoon, tmp_path):
    boxes_in_xml = sum(p.read_text().count("<object>") for p in raccoon.glob("*.xml"))
    assert boxes_in_xml == 217
    result = run(raccoon, tmp_path / "out")
    assert result.problems == ()
    assert (len(result.split.train), len(result.split.test)) == (160, 40)
    train, test = box_rows(tmp_path / "out")
    assert len(train) + len(test) == 217
    assert (len(train), len(test)) == (result.boxes("train"), result.boxes("test"))
    coco = [json.loads((tmp_path / "out" / f"{p}.json").read_text()) for p in ("train", "test")]
    assert sum(len(c["annotations"]) for c in coco) == 217
    assert [len(c["images"]) for c in coco] == [160, 40]
    assert read_labels(tmp_path / "out" / "labelmap.pbtxt") == {1: "raccoon"}


# --- through the CLI (enabled once `dataset` is wired into sitegen.cli) -------------------------


def _cli_has_dataset() -> bool:
    from sitegen.cli import app

    return any(
        (command.name or getattr(command.callback, "__name__", "")) == "dataset"
        for command in app.registered_commands
    )


needs_cli = pytest.mark.skipif(
    not _cli_has_dataset(), reason="the `dataset` command is not in sitegen.cli yet"
)


@needs_cli
def test_cli_writes_the_dataset_and_says_where(run_cli, tmp_path):
    voc = good_dataset(tmp_path / "voc")
    result = run_cli("dataset", voc, "--out", tmp_path / "out", "--seed", "3")
    assert result.code == 0, result.err
    assert result.out.startswith(f"Wrote {tmp_path / 'out'}: 8 train and 2 test images, ")
    assert "13 boxes" not in result.out and "2 classes, no problems" in result.out
    assert len(read_csv(tmp_path / "out" / "test_labels.csv")) >= 2


@needs_cli
def test_cli_strict_and_missing_folder_are_one_line_errors(run_cli, tmp_path):
    root = tmp_path / "voc"
    voc = good_dataset(root, images=5)
    _broken(root, "billion laughs")
    result = run_cli("dataset", voc, "--out", tmp_path / "out", "--strict")
    assert result.code == 9
    assert "bad.xml:3: XML with entity declarations" in result.error_line
    assert not (tmp_path / "out").exists()
    missing = run_cli("dataset", tmp_path / "nowhere", "--out", tmp_path / "out")
    assert missing.code == 9
    assert "does not exist" in missing.error_line


@needs_cli
def test_cli_classes_and_fraction_options(run_cli, tmp_path):
    voc = good_dataset(tmp_path / "voc")
    result = run_cli(
        "dataset", voc, "--out", tmp_path / "out", "--classes", "cat", "--test-fraction", "0.5"
    )
    assert result.code == 0, result.err
    assert "problems: 3 (0 files skipped, 3 boxes dropped)" in result.err  # the dogs
    train, test = box_rows(tmp_path / "out")
    assert (len(train), len(test)) == (5, 5)
    assert run_cli("dataset", voc, "--out", tmp_path / "o2", "--test-fraction", "1").code == 2
    assert run_cli("dataset", voc).code == 2  # --out is required: no folder appears by surprise
    assert not (tmp_path / "o2").exists()
