"""The wheel carries everything a built site needs at run time (an installed sitegen has no
checkout to fall back on: sitegen.resources looks inside the package first), and nothing of the
maintainers' tooling for the default model."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = "sitegen/_data"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("wheel")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(folder), str(REPO)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (built,) = folder.glob("sitegen-*.whl")
    return built


def test_wheel_holds_no_training_or_scene_generation_code(wheel):
    modules = [n for n in zipfile.ZipFile(wheel).namelist() if n.endswith(".py")]
    assert "sitegen/cli/__init__.py" in modules
    lab = [
        n for n in modules if any(w in n for w in ("scenes", "training", "evaluate", "devtools"))
    ]
    assert not lab, lab
    sources = "\n".join(zipfile.ZipFile(wheel).read(n).decode() for n in modules)
    assert "render_scene" not in sources and "keras" not in sources


@pytest.mark.tensorflow
def test_installed_wheel_builds_a_tfjs_model_without_tensorflow(wheel, tmp_path, run_cli, tiny_tf2):
    """pip install of the wheel alone (no converter extra) builds a site from a TF.js model."""
    first = tmp_path / "first"
    assert run_cli("build", tiny_tf2, "--out", first).code == 0
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    done = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", str(wheel)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    python = str(venv / "bin" / "python")
    probe = "import importlib.util as u; print(u.find_spec('tensorflow'), u.find_spec('keras'))"
    assert subprocess.run([python, "-c", probe], capture_output=True, text=True).stdout.split() == [
        "None",
        "None",
    ]
    out = tmp_path / "site"
    done = subprocess.run(
        [
            str(venv / "bin" / "sitegen"),
            "build",
            str(first / "model" / "model.json"),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    config = json.loads((out / "config.json").read_text())
    assert config["model"]["postprocess"] == "raw"
    assert config["labels"] == {"1": "kangaroo", "2": "stop"}
    assert (out / "vendor" / "tfjs" / "tf.js").is_file() and (out / "js" / "app.js").is_file()


def test_wheel_carries_templates_page_runtimes_and_default_model(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())

    expected = {f"{DATA}/templates/{p.name}" for p in (REPO / "templates").iterdir()}
    expected |= {f"{DATA}/assets/js/{p.name}" for p in (REPO / "assets/js").glob("*.js")}
    expected |= {f"{DATA}/assets/css/{p.name}" for p in (REPO / "assets/css").iterdir()}
    tfjs = json.loads((REPO / "assets/vendor/tfjs/runtime.json").read_text())
    expected |= {f"{DATA}/assets/vendor/tfjs/{name}" for name in tfjs["files"]}
    litert = json.loads((REPO / "assets/vendor/litert/runtime.json").read_text())
    for variant in litert["variants"].values():
        expected.add(f"{DATA}/assets/vendor/litert/{variant['script']}")
        expected |= {f"{DATA}/assets/vendor/litert/{part['path']}" for part in variant["wasm"]}
    expected.add(f"{DATA}/assets/vendor/litert/{litert['entry']}")
    expected.add(f"{DATA}/assets/verify-scene.jpg")
    expected |= {
        f"{DATA}/models/default/{p.relative_to(REPO / 'models/default')}"
        for p in (REPO / "models/default").rglob("*")
        if p.is_file()
    }
    missing = sorted(expected - names)
    assert not missing, missing
