from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TFDF_DISABLE_WELCOME_MESSAGE", "1")

REPO = Path(__file__).resolve().parent.parent
SHARED_FIXTURES = REPO.parent / "shared" / "fixtures"

# Fixtures that build a model with TensorFlow or convert one: a test using any of them (directly or
# through another fixture) is marked `tensorflow`, so `make check` (-m "not tensorflow") leaves it
# to `make test`. Those reading ../shared/fixtures are marked `fixtures` as well.
TENSORFLOW_FIXTURES = {
    "tiny_tf2",
    "tiny_tf1",
    "tiny_tf1_unknown_shapes",
    "tiny_tf1_frozen",
    "tiny_tf1_ssd",
    "tiny_tf1_ssd_no_config",
    "tiny_graph_only",
    "tiny_page_breaking",
    "odapi_fixture",
    "default_site",
}
SHARED_FIXTURE_FIXTURES = {"odapi_fixture"}


def pytest_collection_modifyitems(items):
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        if used & TENSORFLOW_FIXTURES:
            item.add_marker(pytest.mark.tensorflow)
        if used & SHARED_FIXTURE_FIXTURES:
            item.add_marker(pytest.mark.fixtures)


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no", "off")


# In CI a skip means a missing browser, fixture or extra, that is, a broken set-up: it fails, with
# the skip's reason as the message, rather than letting the run pass untested. xfail stays as it is.
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _skip_fails_in_ci(outcome.get_result())


# The same for a whole module skipped while it is collected (pytest.importorskip at its top).
@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    _skip_fails_in_ci(outcome.get_result())


def _skip_fails_in_ci(report) -> None:
    if not (report.skipped and _in_ci()) or hasattr(report, "wasxfail"):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    report.outcome = "failed"
    report.longrepr = f"skipped in CI (CI={os.environ['CI']}), which counts as a failure: {reason}"


class CliResult:
    def __init__(self, code: int, out: str, err: str):
        self.code, self.out, self.err = code, out, err

    @property
    def error_line(self) -> str:
        lines = [line for line in self.err.splitlines() if line.startswith("Error: ")]
        assert len(lines) == 1, f"expected one error line, got stderr:\n{self.err}"
        return lines[0]


@pytest.fixture
def run_cli(capsys, monkeypatch):
    """Run ``sitegen ARGS`` in-process through the real entry point (exit codes included)."""
    from sitegen.cli import main

    def run(*args: str | Path) -> CliResult:
        args = tuple(map(str, args))
        if args[:1] == ("build",) and "--verify" not in args:
            # Verification launches Chromium for three backends; the tests that need it ask.
            args = (*args, "--no-verify")
        monkeypatch.setattr(sys, "argv", ["sitegen", *args])
        capsys.readouterr()
        try:
            main()
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        out, err = capsys.readouterr()
        assert "Traceback" not in err, err
        return CliResult(code, out, err)

    return run


@pytest.fixture(scope="session")
def tiny_tf2(tmp_path_factory) -> Path:
    from tests.helpers import tiny_models

    return tiny_models.build_tf2_od_api(tmp_path_factory.mktemp("tiny-tf2"))


@pytest.fixture(scope="session")
def tiny_tf1(tmp_path_factory) -> Path:
    from tests.helpers import tiny_models

    return tiny_models.build_tf1_style(tmp_path_factory.mktemp("tiny-tf1"))


@pytest.fixture(scope="session")
def tiny_tf1_unknown_shapes(tmp_path_factory) -> Path:
    """A TF1-style export whose outputs have no static shape (as frozen-graph SavedModels)."""
    from tests.helpers import tiny_models

    folder = tmp_path_factory.mktemp("tiny-tf1-unknown")
    return tiny_models.build_tf1_style(folder, unknown_shapes=True)


@pytest.fixture(scope="session")
def tiny_tf1_frozen(tmp_path_factory) -> Path:
    """A folder with frozen_inference_graph.pb (tiny_tf1's graph and weights), labels and config."""
    from tests.helpers import tiny_models

    return tiny_models.build_tf1_frozen(tmp_path_factory.mktemp("tiny-frozen") / "export")


@pytest.fixture(scope="session")
def tiny_tf1_ssd(tmp_path_factory) -> Path:
    """A TF1 OD API SSD export (frozen graph, SavedModel, pipeline.config, labels), random weights."""
    from tests.helpers.tf1_ssd import build_tf1_ssd

    return build_tf1_ssd(tmp_path_factory.mktemp("tiny-tf1-ssd") / "export")


@pytest.fixture(scope="session")
def tiny_tf1_ssd_no_config(tmp_path_factory) -> Path:
    """tiny_tf1_ssd's kind of export with no pipeline.config anywhere (a frozen graph handed
    around on its own): the graph alone says its input size and NMS settings."""
    from tests.helpers.tf1_ssd import build_tf1_ssd

    export = build_tf1_ssd(tmp_path_factory.mktemp("tiny-tf1-ssd-bare") / "export")
    (export / "pipeline.config").unlink()
    return export


@pytest.fixture(scope="session")
def tiny_page_breaking(tmp_path_factory) -> Path:
    """A TF2-style export no page backend can run and agree on: a grouped convolution TF.js
    cannot run, and scores a .tflite's rounding moves (tiny_models._raw_outputs)."""
    from tests.helpers import tiny_models

    folder = tmp_path_factory.mktemp("tiny-page-breaking")
    return tiny_models.build_tf2_od_api(folder, page_breaking=True)


@pytest.fixture(scope="session")
def tiny_graph_only(tmp_path_factory) -> Path:
    """An export without raw_* outputs: the page must use the in-graph post-processing."""
    from tests.helpers import tiny_models

    return tiny_models.build_tf2_od_api(tmp_path_factory.mktemp("tiny-graph"), raw_outputs=False)


@pytest.fixture(scope="session")
def odapi_fixture() -> Path:
    path = SHARED_FIXTURES / "odapi-ssd-mobilenet-v2"
    if not path.is_dir():
        pytest.skip("../shared/fixtures is not present")
    return path
