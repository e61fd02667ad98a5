"""The TF.js runtime's download on the page's main path stays within its budget.

The main path is the WASM backend on a cross-origin isolated page (threaded SIMD build): the page
downloads tf.js, the backend module, the chunks they import and the WebAssembly binary. Which files
those are comes from esbuild's import graph, recorded per backend in runtime.json by
tools/build_runtime.mjs; the test also follows the files' own static imports, so a file the list
forgot fails the test instead of escaping the budget.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest

from sitegen.resources import runtime_dir

# Runtime JS + WASM on the main path, gzip level 6 (what static hosts typically serve), in bytes.
BUDGET = 250_000
MAIN_PATH = "wasm"
THREADED_BINARY = "tfjs-backend-wasm-threaded-simd.wasm"

PAGE_JS = Path(__file__).resolve().parents[2] / "assets" / "js"

# Static imports and re-exports in esbuild's output (`import{a as b}from"./chunk-X.js"`,
# `import"./x.js"`, `export*from"./x.js"`); dynamic `import("./x.js")` does not match.
STATIC_IMPORT = re.compile(
    r"""\b(?:import|export)\s*(?:\{[^}]*\}|\*(?:\s*as\s*[\w$]+)?|[\w$]+)?\s*(?:from\s*)?["'](\./[^"']+)["']"""
)
# A call through the page's `tf` object: `tf.tidy(`, `this.tf.zeros(`, `tf.io.fromMemory(`.
TF_CALL = re.compile(r"(?<![\w$./])(?:this\.)?tf((?:\.[A-Za-z_$][\w$]*)+)\s*\(")
COMMENT = re.compile(r"/\*.*?\*/|(?<![:\w'\"])//[^\n]*", re.DOTALL)


@pytest.fixture(scope="module")
def runtime() -> tuple[Path, dict]:
    folder = runtime_dir()
    return folder, json.loads((folder / "runtime.json").read_text())


def _gzip_size(path: Path, level: int) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=level, mtime=0))


def test_main_path_lists_every_file_it_loads(runtime):
    folder, manifest = runtime
    files = manifest["paths"][MAIN_PATH]
    assert manifest["entry"] in files
    assert "backend-wasm.js" in files
    assert THREADED_BINARY in files
    for name in files:
        assert (folder / name).is_file(), f"runtime.json lists {name}, which is not in {folder}"
        assert name in manifest["files"]
    for name in (name for name in files if name.endswith(".js")):
        for imported in STATIC_IMPORT.findall((folder / name).read_text()):
            imported = imported.removeprefix("./")
            assert imported in files, f"{name} imports {imported}, missing from paths.{MAIN_PATH}"


def test_main_path_download_within_budget(runtime):
    folder, manifest = runtime
    files = manifest["paths"][MAIN_PATH]
    sizes = {name: (_gzip_size(folder / name, 6), _gzip_size(folder / name, 9)) for name in files}
    total = sum(gzip6 for gzip6, _ in sizes.values())
    table = "\n".join(
        f"  {name:45} {gzip6:>8} {gzip9:>8}" for name, (gzip6, gzip9) in sizes.items()
    )
    assert total <= BUDGET, (
        f"the {MAIN_PATH} path downloads {total} bytes gzip -6, over the budget of {BUDGET}:\n"
        f"  {'file':45} {'gzip -6':>8} {'gzip -9':>8}\n{table}"
    )


def test_tf_exports_cover_the_page(runtime):
    """tf.js exports only what the page uses; a new `tf.*` call in assets/js needs it added there."""
    _, manifest = runtime
    exported = set(manifest["exports"])
    missing = set()
    for script in sorted(PAGE_JS.glob("*.js")):
        code = COMMENT.sub("", script.read_text())
        for chain in TF_CALL.findall(code):
            names = chain.lstrip(".").split(".")
            # A namespace (tf.io) lists its members in "exports"; check the member called on it.
            namespaced = len(names) > 1 and any(e.startswith(f"{names[0]}.") for e in exported)
            name = ".".join(names[:2]) if namespaced else names[0]
            if name not in exported:
                missing.add(f"{script.name}: tf.{name}")
    assert not missing, (
        f"the page calls what tf.js does not export (ENTRIES.tf in tools/build_runtime.mjs): "
        f"{sorted(missing)}"
    )
