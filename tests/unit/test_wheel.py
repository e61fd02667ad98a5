"""The wheel carries everything a built site needs at run time: an installed sitegen has no
checkout to fall back on (sitegen.resources looks inside the package first)."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DATA = "sitegen/_data"


def test_wheel_carries_templates_page_runtimes_and_default_model(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(REPO)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (wheel,) = tmp_path.glob("sitegen-*.whl")
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
    expected |= {
        f"{DATA}/models/default/{p.relative_to(REPO / 'models/default')}"
        for p in (REPO / "models/default").rglob("*")
        if p.is_file()
    }
    missing = sorted(expected - names)
    assert not missing, missing
