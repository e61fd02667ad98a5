"""Every bad input gets one line naming the problem and the fix, a non-zero exit, no traceback,
and leaves an existing output folder byte-for-byte as it was."""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path

import pytest

from sitegen.errors import EXIT_CODES, USAGE_EXIT_CODE, SitegenError
from sitegen.site.write import MARKER
from tests.helpers.support import tree_digest
from tests.helpers.tiny_models import save_tf1_saved_model


@pytest.fixture
def previous_site(tmp_path) -> Path:
    """An output folder from an earlier sitegen build, which a failed build must not touch."""
    out = tmp_path / "dist"
    (out / "model").mkdir(parents=True)
    (out / "index.html").write_text("<p>earlier build</p>")
    (out / "model" / "model.json").write_text("{}")
    (out / MARKER).write_text("{}")
    return out


def _fails(run_cli, out: Path, *args, code: int, words: tuple[str, ...]) -> str:
    before = tree_digest(out) if out.exists() else None
    result = run_cli("build", *args, "--out", out)
    assert result.code == code, result.err
    line = result.error_line
    for word in words:
        assert word in line, line
    after = tree_digest(out) if out.exists() else None
    assert before == after, "the output folder changed"
    leftovers = [p.name for p in out.parent.iterdir() if ".staging-" in p.name]
    assert not leftovers, leftovers
    return line


def test_missing_path(run_cli, previous_site, tmp_path):
    _fails(run_cli, previous_site, tmp_path / "nope", code=3, words=("does not exist", "pass"))


def test_folder_without_saved_model(run_cli, previous_site, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "cat.jpg").write_bytes(b"\xff\xd8")
    _fails(run_cli, previous_site, folder, code=3, words=("no SavedModel", "export"))


@pytest.mark.tensorflow
def test_truncated_saved_model_pb(run_cli, previous_site, tmp_path, tiny_tf2):
    broken = tmp_path / "broken"
    shutil.copytree(tiny_tf2, broken)
    pb = broken / "saved_model" / "saved_model.pb"
    pb.write_bytes(pb.read_bytes()[: pb.stat().st_size // 3])
    _fails(run_cli, previous_site, broken, code=3, words=("corrupt or truncated", "again"))


@pytest.mark.parametrize("member", ["../evil.txt", "/etc/evil.txt", "a/../../evil.txt"])
def test_zip_with_unsafe_paths(run_cli, previous_site, tmp_path, member):
    archive = tmp_path / "model.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("export/saved_model/saved_model.pb", b"")
        zf.writestr(member, b"x")
    _fails(run_cli, previous_site, archive, code=3, words=("unsafe path", "relative"))
    assert not (tmp_path / "evil.txt").exists()


def test_zip_without_saved_model(run_cli, previous_site, tmp_path):
    archive = tmp_path / "model.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("export/readme.txt", b"hello")
    _fails(run_cli, previous_site, archive, code=3, words=("no SavedModel",))


def test_not_a_zip(run_cli, previous_site, tmp_path):
    archive = tmp_path / "model.zip"
    archive.write_bytes(b"not a zip at all")
    _fails(run_cli, previous_site, archive, code=3, words=("not a readable zip",))


@pytest.mark.tensorflow
def test_signature_without_detection_outputs(run_cli, previous_site, tmp_path):
    import tensorflow as tf

    class Classifier(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([1, None, None, 3], tf.uint8)])
        def serve(self, images):
            return {"logits": tf.reduce_mean(tf.cast(images, tf.float32), [1, 2])}

    module = Classifier()
    tf.saved_model.save(module, str(tmp_path / "clf"), signatures={"serving_default": module.serve})
    line = _fails(
        run_cli,
        previous_site,
        tmp_path / "clf",
        code=3,
        words=("no recognisable detection outputs",),
    )
    assert "logits" in line


@pytest.mark.tensorflow
def test_ops_tfjs_cannot_run(run_cli, previous_site, tmp_path):
    import tensorflow as tf

    class Odd(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([1, None, None, 3], tf.uint8, "input_tensor")])
        def serve(self, input_tensor):
            x = tf.reduce_mean(tf.cast(input_tensor, tf.float32))
            matrix = tf.reshape(tf.stack([x, 1.0, 2.0, x]), [2, 2])
            det = tf.linalg.det(matrix)  # MatrixDeterminant: no TF.js kernel
            boxes = tf.fill([1, 10, 4], 0.5) * det
            return {
                "raw_detection_boxes": boxes,
                "raw_detection_scores": tf.fill([1, 10, 2], 0.5),
            }

    module = Odd()
    tf.saved_model.save(module, str(tmp_path / "odd"), signatures={"serving_default": module.serve})
    _fails(
        run_cli, previous_site, tmp_path / "odd", code=5, words=("cannot run", "MatrixDeterminant")
    )


@pytest.mark.tensorflow
def test_malformed_label_file(run_cli, previous_site, tmp_path, tiny_tf2):
    labels = tmp_path / "labelmap.pbtxt"
    labels.write_text("item { id: 1 name: 'kangaroo' \n item {")
    _fails(
        run_cli,
        previous_site,
        tiny_tf2,
        "--labels",
        labels,
        code=4,
        words=("not a valid label map",),
    )


@pytest.mark.tensorflow
def test_label_ids_beyond_model_classes(run_cli, previous_site, tmp_path, tiny_tf2):
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps({"1": "kangaroo", "2": "stop", "5": "emu"}))
    line = _fails(run_cli, previous_site, tiny_tf2, "--labels", labels, code=4, words=("[5]",))
    assert "2 classes" in line


def test_out_not_made_by_sitegen(run_cli, tmp_path):
    out = tmp_path / "my-documents"
    out.mkdir()
    (out / "thesis.tex").write_text("precious")
    line = _fails(run_cli, out, tmp_path / "missing-model", code=6, words=("--force",))
    assert "not made by sitegen" in line


def test_out_is_a_file(run_cli, tmp_path):
    out = tmp_path / "dist"
    out.write_text("a file")
    result = run_cli("build", tmp_path, "--out", out)
    assert result.code == 6 and "is a file" in result.error_line
    assert out.read_text() == "a file"


def test_unwritable_out(run_cli, tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder should be")
    result = run_cli("build", tmp_path, "--out", blocker / "dist")
    assert result.code == 6 and "cannot write" in result.error_line


def _tfjs_model(folder: Path) -> Path:
    folder.mkdir()
    weights = [{"name": "w", "shape": [4, 4], "dtype": "float32"}]
    manifest = {
        "format": "graph-model",
        "modelTopology": {"node": []},
        "weightsManifest": [{"paths": ["group1-shard1of1.bin"], "weights": weights}],
    }
    (folder / "model.json").write_text(json.dumps(manifest))
    (folder / "group1-shard1of1.bin").write_bytes(bytes(64))
    return folder / "model.json"


def test_tfjs_model_missing_shard(run_cli, previous_site, tmp_path):
    model_json = _tfjs_model(tmp_path / "js")
    (model_json.parent / "group1-shard1of1.bin").unlink()
    _fails(run_cli, previous_site, model_json, code=3, words=("group1-shard1of1.bin", "missing"))


def test_tfjs_model_wrong_sized_shard(run_cli, previous_site, tmp_path):
    model_json = _tfjs_model(tmp_path / "js")
    (model_json.parent / "group1-shard1of1.bin").write_bytes(bytes(60))
    _fails(run_cli, previous_site, model_json, code=3, words=("truncated", "60 bytes", "64"))


def test_bad_options_are_usage_errors(run_cli, tmp_path):
    result = run_cli("build", tmp_path, "--threshold", "1.5")
    assert result.code == 2 and "outside 0..1" in result.err
    result = run_cli("build", tmp_path, "--shard-size", "lots")
    assert result.code == 2 and "not a size" in result.err


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--quantize", "int4"), ("--quantize", "int4", "float16")),
        (("--postprocess", "nms"), ("--postprocess", "nms", "graph")),
        (("--max-detections", "0"), ("--max-detections",)),
        (("--no-such-option",), ("--no-such-option",)),
    ],
)
def test_usage_errors_are_one_line_with_the_usage_code(run_cli, tmp_path, args, words):
    out = tmp_path / "dist"
    result = run_cli("build", tmp_path, "--out", out, *args)
    assert result.code == USAGE_EXIT_CODE
    assert result.err.strip() == result.error_line, result.err
    assert all(word in result.error_line for word in words), result.error_line
    assert "sitegen build --help" in result.error_line
    assert not out.exists()


def test_no_error_class_shares_the_usage_code():
    codes = [cls.exit_code for cls in SitegenError.__subclasses__()]
    assert USAGE_EXIT_CODE not in codes
    assert len(set(codes)) == len(codes)


def test_readme_lists_every_exit_code():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    listed = [int(code) for code in re.findall(r"^\| (\d+) \|", readme, flags=re.M)]
    assert listed == sorted(EXIT_CODES)


def _tf1_model_returning(folder: Path, boxes_shape: tuple[int, ...]) -> Path:
    """A TF1-style SavedModel with canonical output names, no static shapes, and boxes of
    ``boxes_shape``."""
    import tensorflow as tf

    v1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default():
        image = v1.placeholder(tf.uint8, [1, None, None, 3], name="image_tensor")
        seen = tf.cast(tf.reduce_mean(tf.cast(image, tf.float32)) * 0.0, tf.float32)
        values = {
            "detection_boxes": tf.zeros(boxes_shape) + seen,
            "detection_scores": tf.zeros([1, 3]) + seen,
            "detection_classes": tf.ones([1, 3]),
            "num_detections": tf.constant([3.0]),
        }
        outputs = {
            k: tf.identity(v1.placeholder_with_default(v, shape=None), name=k)
            for k, v in values.items()
        }
        with v1.Session(graph=graph) as session:
            save_tf1_saved_model(tf, session, folder / "saved_model", image, outputs)
    return folder


@pytest.mark.tensorflow
def test_unknown_shape_output_that_returns_the_wrong_shape(run_cli, previous_site, tmp_path):
    model = _tf1_model_returning(tmp_path / "odd-boxes", (1, 3, 5))
    line = _fails(run_cli, previous_site, model, code=3, words=("detection_boxes", "[1, 3, 5]"))
    assert "[1, N, 4]" in line


def _tar(archive: Path, add) -> Path:
    import tarfile

    with tarfile.open(archive, "w:gz") as tf:
        add(tf)
    return archive


def _tar_member(tf, name: str, data: bytes = b"x", **fields) -> None:
    import io
    import tarfile

    info = tarfile.TarInfo(name)
    info.size = len(data)
    for key, value in fields.items():
        setattr(info, key, value)
    tf.addfile(info, io.BytesIO(data) if info.isfile() else None)


@pytest.mark.parametrize("member", ["../escape.pb", "/abs/saved_model.pb"])
def test_tar_with_unsafe_paths(run_cli, previous_site, tmp_path, member):
    archive = _tar(tmp_path / "model.tar.gz", lambda tf: _tar_member(tf, member))
    _fails(run_cli, previous_site, archive, code=3, words=("unsafe path", "relative"))
    assert not (tmp_path / "escape.pb").exists()


def test_tar_with_a_link(run_cli, previous_site, tmp_path):
    import tarfile

    def add(tf):
        _tar_member(tf, "export/saved_model/saved_model.pb", type=tarfile.SYMTYPE, linkname="/etc")

    archive = _tar(tmp_path / "model.tgz", add)
    _fails(run_cli, previous_site, archive, code=3, words=("link", "saved_model.pb", "plain files"))


def test_not_a_tar(run_cli, previous_site, tmp_path):
    archive = tmp_path / "model.tar.gz"
    archive.write_bytes(b"\x1f\x8b not really gzip")
    _fails(run_cli, previous_site, archive, code=3, words=("not a readable .tar.gz",))


@pytest.mark.tensorflow
def test_errors_name_the_member_of_the_users_zip(run_cli, previous_site, tmp_path, tiny_tf2):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in tiny_tf2.rglob("*"):
            data = path.read_bytes() if path.is_file() else None
            if data is not None and path.name == "saved_model.pb":
                data = data[: len(data) // 3]
            if data is not None:
                zf.writestr(str(Path("my-model") / path.relative_to(tiny_tf2)), data)
    line = _fails(run_cli, previous_site, archive, code=3, words=("corrupt or truncated",))
    assert f"{archive}:my-model/saved_model/saved_model.pb" in line
    assert "/tmp/sitegen-" not in line and "unpacked-" not in line


@pytest.mark.tensorflow
def test_frozen_graph_without_detection_outputs(run_cli, previous_site, tmp_path):
    import tensorflow as tf

    graph = tf.Graph()
    with graph.as_default():
        image = tf.compat.v1.placeholder(tf.uint8, [1, None, None, 3], name="image_tensor")
        tf.identity(tf.cast(image, tf.float32), name="features")
    pb = tmp_path / "frozen_inference_graph.pb"
    pb.write_bytes(graph.as_graph_def().SerializeToString())
    line = _fails(run_cli, previous_site, pb, code=3, words=(str(pb), "detection_boxes", "TF1"))
    assert "image_tensor" not in line.split("has no")[1]


@pytest.mark.tensorflow
def test_corrupt_frozen_graph(run_cli, previous_site, tmp_path):
    pytest.importorskip("tensorflow")
    pb = tmp_path / "frozen_inference_graph.pb"
    pb.write_bytes(b"\xff\xff\xff not a graph")
    _fails(run_cli, previous_site, pb, code=3, words=(str(pb), "frozen graph", "again"))
