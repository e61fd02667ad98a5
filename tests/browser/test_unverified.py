"""No site ships broken: a build whose page has no backend that runs the model and agrees with
TensorFlow fails with one line naming each backend's reason, and writes nothing; with
--allow-unverified it builds and says loudly that the page will refuse to start."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.tensorflow


def test_a_site_no_backend_runs_and_agrees_on_is_refused(
    run_cli, tiny_page_breaking, tmp_path, browser_path
):
    out = tmp_path / "site"
    result = run_cli("build", tiny_page_breaking, "--out", out, "--verify")
    assert result.code == 5, result.err
    line = result.error_line
    assert "no backend runs this model and agrees with TensorFlow" in line
    # The .tflite runs but its scores move: the comparison says where.
    assert "litert-wasm DISAGREES: score " in line
    # TF.js names the op it cannot run, once for its three backends.
    assert "wasm, webgl, cpu could not run here: Error in conv2d: depth of input (8)" in line
    assert "not available here" not in line and "config.json may not match" not in line
    assert f"nothing was written to {out}" in line and "--allow-unverified" in line
    assert not out.exists()


def test_allow_unverified_builds_it_and_says_the_page_will_refuse_to_start(
    run_cli, tiny_page_breaking, tmp_path, browser_path
):
    out = tmp_path / "site"
    result = run_cli("build", tiny_page_breaking, "--out", out, "--verify", "--allow-unverified")
    assert result.code == 0, result.err
    assert "WARNING: no backend runs this model and agrees with TensorFlow" in result.err
    assert "its page will refuse to start" in result.err
    verified = json.loads((out / "config.json").read_text())["backends"]["verified"]
    assert verified["litert-wasm"] is False
    assert not any(verified.values())
    record = json.loads((out / ".sitegen-site.json").read_text())
    assert "--allow-unverified" in record["build"]["arguments"]
