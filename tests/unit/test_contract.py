"""The contract is spelled once in Python (sitegen.contract); its copies in the page's JavaScript
(assets/js/contract.js), the repository's netlify.toml, the site's _headers and `sitegen serve`
must say the same. Each test here fails when one of them drifts."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest

from sitegen import contract
from sitegen.site.serve import serve_in_thread

REPO = Path(__file__).resolve().parents[2]
JS = REPO / "assets" / "js"


@pytest.fixture(scope="module")
def js_contract() -> dict:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    script = (
        f"import({json.dumps((JS / 'contract.js').as_uri())})"
        ".then((m) => process.stdout.write(JSON.stringify(m)))"
    )
    done = subprocess.run(
        [node, "--input-type=module", "-e", script], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def test_page_backends_and_schema_match_python(js_contract):
    assert js_contract["CONFIG_SCHEMA"] == contract.CONFIG_SCHEMA
    assert js_contract["LITERT_BACKENDS"] == list(contract.LITERT_BACKENDS)
    assert js_contract["TFJS_BACKENDS"] == list(contract.TFJS_BACKENDS)
    assert js_contract["ALL_BACKENDS"] == list(contract.ALL_BACKENDS)
    assert js_contract["CPU_BACKENDS"] == list(contract.CPU_BACKENDS)


def test_page_output_roles_match_python(js_contract):
    assert js_contract["GRAPH_OUTPUTS"] == [contract.role_key(r) for r in contract.GRAPH_ROLES]
    assert js_contract["RAW_OUTPUTS"] == [contract.role_key(r) for r in contract.RAW_ROLES]
    numbers = [
        key
        for key, value in contract.NmsSettings().to_json().items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    ]
    assert js_contract["NMS_KEYS"] == numbers


def test_page_defaults_match_python(js_contract):
    assert js_contract["DEFAULTS"] == {
        "threshold": contract.DEFAULT_THRESHOLD,
        "maxDetections": contract.DEFAULT_MAX_DETECTIONS,
    }


def test_page_full_integer_quantization_matches_python(js_contract):
    assert js_contract["LITERT_FULL_INTEGER"] == contract.LITERT_FULL_INTEGER


def test_page_query_parameters_match_python(js_contract):
    camel = {contract.role_key(key): name for key, name in contract.QUERY.items()}
    assert js_contract["QUERY"] == camel


def test_python_subsets_are_consistent():
    assert set(contract.CPU_BACKENDS) <= set(contract.ALL_BACKENDS)
    assert set(contract.VERIFIED_BACKENDS) <= set(contract.ALL_BACKENDS)
    assert set(contract.TIMED_BACKENDS) <= set(contract.CPU_BACKENDS) & set(
        contract.VERIFIED_BACKENDS
    )
    for role in (*contract.GRAPH_ROLES, *contract.RAW_ROLES):
        assert contract.role_from_key(contract.role_key(role)) == role


# Array literals of backend names or role keys: those belong in contract.js only.
_SPELLED_LIST = re.compile(
    r"\[\s*'(?:litert-wasm|litert-webgpu|wasm|webgpu|webgl|cpu|boxes|rawBoxes)'\s*,"
)


@pytest.mark.parametrize(
    "path",
    [
        *sorted(p for p in JS.glob("*.js") if p.name != "contract.js"),
        REPO / "tools" / "build_runtime.mjs",
    ],
    ids=lambda p: p.name,
)
def test_no_other_script_spells_a_backend_or_role_list(path):
    found = _SPELLED_LIST.findall(path.read_text(encoding="utf-8"))
    assert not found, f"{path.name} spells {found}: import it from assets/js/contract.js"


def _parse_headers_file(text: str) -> dict[str, dict[str, str]]:
    rules: dict[str, dict[str, str]] = {}
    current = None
    for line in text.splitlines():
        if line and not line[0].isspace():
            current = rules.setdefault(line.strip(), {})
        elif line.strip():
            name, value = line.strip().split(":", 1)
            current[name.strip()] = value.strip()
    return rules


def test_headers_file_sends_the_contract_headers():
    rules = _parse_headers_file(contract.headers_file())
    assert rules["/*"] == contract.SITE_HEADERS
    assert rules["/*.wasm"] == {"Content-Type": contract.WASM_CONTENT_TYPE}


def test_repository_netlify_toml_sends_the_contract_headers():
    tomllib = pytest.importorskip("tomllib")  # the standard library's from Python 3.11
    config = tomllib.loads((REPO / "netlify.toml").read_text(encoding="utf-8"))
    rules = {rule["for"]: rule["values"] for rule in config["headers"]}
    assert rules["/*"] == contract.SITE_HEADERS
    assert rules["/*.wasm"] == {"Content-Type": contract.WASM_CONTENT_TYPE}


def test_serve_sends_the_contract_headers(tmp_path):
    (tmp_path / "index.html").write_text("<!doctype html><title>t</title>")
    (tmp_path / "a.wasm").write_bytes(b"\0asm")
    server, url = serve_in_thread(tmp_path)
    try:
        with urllib.request.urlopen(url) as response:
            headers = dict(response.headers)
        with urllib.request.urlopen(url + "a.wasm") as response:
            wasm_type = response.headers["Content-Type"]
    finally:
        server.shutdown()
        server.server_close()
    for name, value in contract.SITE_HEADERS.items():
        assert headers.get(name) == value, name
    assert wasm_type == contract.WASM_CONTENT_TYPE


def test_site_config_round_trips_through_json():
    litert = contract.LitertSpec(
        files=(("model/model.tflite.part0", 10), ("model/model.tflite.part1", 3)),
        input_name="image",
        input_dtype="uint8",
        input_size=(300, 300),
        outputs={"raw_boxes": "raw_boxes", "raw_scores": "raw_scores"},
    )
    spec = contract.ModelSpec(
        input_name="input_tensor",
        input_dtype="int32",
        input_size=(300, 300),
        outputs={"raw_boxes": "Identity_6", "raw_scores": "Identity_7"},
        postprocess="raw",
        num_classes=2,
        nms=contract.NmsSettings(0.01, 0.5, 10, 20, True, "pipeline.config"),
        files=(("model/group1-shard1of1.bin", 1234),),
        litert=litert,
    )
    config = contract.SiteConfig(
        title="Kangaroo, stop detector",
        threshold=0.4,
        max_detections=7,
        labels={1: "kangaroo", 2: "stop"},
        model=spec,
        verified_backends={"litert-wasm": True, "wasm": True, "webgl": False, "cpu": None},
        backend_timing={"litert-wasm": 12.5, "wasm": 20.0},
        backend_order=("litert-wasm", "wasm", "webgl", "cpu", "litert-webgpu", "webgpu"),
        sitegen_version="0.1.0",
    )
    again = contract.SiteConfig.from_json(json.loads(config.dumps()))
    assert again == config
    recorded = contract.RecordedModel.from_json(spec.recorded_json(config.labels))
    assert recorded.outputs == spec.outputs and recorded.postprocess == "raw"
    assert recorded.nms == spec.nms and recorded.input_size == (300, 300)
    assert [name for name, _ in recorded.litert.files] == [
        "model.tflite.part0",
        "model.tflite.part1",
    ]
