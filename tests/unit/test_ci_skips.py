"""In CI (CI=true) a skipped test fails the run, naming why it skipped; elsewhere it stays a skip.
Runs a small inner pytest session with this suite's tests/conftest.py loaded as a plugin."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

INNER = """
import pytest

def test_needs_a_browser():
    pytest.skip("no Chromium found")

@pytest.mark.xfail(reason="known bug")
def test_known_bug():
    assert False

def test_fine():
    pass
"""


@pytest.fixture(autouse=True)
def _no_installed_plugins(monkeypatch):
    # The inner session runs in this process: an installed plugin with global state
    # (pytest-playwright's soft assertions) must not be loaded into it a second time.
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


def _run(pytester, monkeypatch, ci: str | None):
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    pytester.makepyfile(test_inner=INNER)
    return pytester.runpytest("-p", "tests.conftest", "-rfs")


@pytest.mark.parametrize("ci", ["true", "1"])
def test_a_skip_fails_in_ci_with_its_reason(pytester, monkeypatch, ci):
    result = _run(pytester, monkeypatch, ci)
    result.assert_outcomes(passed=1, failed=1, xfailed=1)
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*skipped in CI (CI=*)*: Skipped: no Chromium found*"])


@pytest.mark.parametrize("ci", [None, "false", "0", ""])
def test_a_skip_stays_a_skip_outside_ci(pytester, monkeypatch, ci):
    result = _run(pytester, monkeypatch, ci)
    result.assert_outcomes(passed=1, skipped=1, xfailed=1)
    assert result.ret == 0


def test_a_module_skipped_at_import_fails_in_ci(pytester, monkeypatch):
    monkeypatch.setenv("CI", "true")
    pytester.makepyfile(test_inner="import pytest\npytest.importorskip('no_such_module_here')\n")
    result = pytester.runpytest("-p", "tests.conftest")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*skipped in CI*no_such_module_here*"])
