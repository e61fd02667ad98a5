"""The page picks its backend on the user's device: it times the verified backends on the first
frame, keeps the fastest, remembers it for this model, and measures again when the model changes.

The build's order is made to start the page on TF.js's plain-JavaScript 'cpu' backend, which is
several times slower here than either WebAssembly backend: the page must leave it for the
fastest, and that choice is checked against each backend timed on its own afterwards."""

from __future__ import annotations

import json
import statistics

import pytest

from sitegen.site.page import page_url
from tests.helpers.browser import open_page, served

pytestmark = pytest.mark.tensorflow

SLOW_FIRST = ["cpu", "litert-wasm", "wasm"]


@pytest.fixture(scope="module")
def slow_first_site(default_site, tmp_path_factory):
    site = tmp_path_factory.mktemp("slow-first") / "site"
    import shutil

    shutil.copytree(default_site, site)
    config = json.loads((site / "config.json").read_text())
    config["backends"]["order"] = SLOW_FIRST
    (site / "config.json").write_text(json.dumps(config))
    return site, config["model"]["sha256"]


WATCH_JS = """
() => {
  window.__ready = new Promise((resolve) => addEventListener('sitegen:ready', (e) => resolve(e.detail), {once: true}));
  window.__tuned = null;
  addEventListener('sitegen:tuned', (e) => { window.__tuned = e.detail; });
  window.__frames = 0;
  addEventListener('sitegen:detections', () => { window.__frames += 1; });
}
"""


def _open(context, url):
    page = context.new_page()
    page.add_init_script(script=f"({WATCH_JS})()")
    page.goto(page_url(url, autostart=True))
    return page


def _own_median(browser, url, backend, runs=9):
    """The backend alone (?backend=, no tuning): the median of the page's detector runs."""
    page, watcher = open_page(browser, page_url(url, autostart=True, backend=backend, tune="off"))
    page.wait_for_function("window.sitegen && window.sitegen.state === 'running'", timeout=60_000)
    page.wait_for_function("document.getElementById('fps').textContent !== '–'", timeout=60_000)
    page.evaluate("window.sitegen.timeDetector(2)")  # warm
    times = page.evaluate(f"window.sitegen.timeDetector({runs})")
    watcher.assert_clean()
    page.context.close()
    return statistics.median(times)


def test_page_picks_the_fastest_backend_here_and_remembers_it(browser, slow_first_site):
    site, sha256 = slow_first_site
    with served(site) as url:
        context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
        context.grant_permissions(["camera"])
        page = _open(context, url)
        assert page.evaluate("window.__ready")["backend"] == "cpu"
        page.wait_for_function("window.__tuned !== null", timeout=120_000)
        tuned = page.evaluate("window.__tuned")
        assert page.evaluate("window.sitegen.backendChoice") == "measured"
        timed = {t["name"]: t["medianMs"] for t in tuned["trials"] if t["agrees"]}
        assert set(timed) == set(SLOW_FIRST), tuned
        chosen = tuned["backend"]
        assert chosen != "cpu" and timed[chosen] == min(timed.values()), timed
        assert page.evaluate("window.sitegen.backend") == chosen
        stored = json.loads(page.evaluate(f"localStorage.getItem('sitegen:backend:{sha256}')"))
        assert stored["backend"] == chosen

        # Next visit: the remembered backend starts first, and nothing is measured.
        page.close()
        page = _open(context, url)
        assert page.evaluate("window.__ready")["backend"] == chosen
        page.wait_for_function("window.__frames >= 5", timeout=60_000)
        assert page.evaluate("window.__tuned") is None
        assert page.evaluate("window.sitegen.backendChoice") == "remembered"
        assert "fastest measured here" in page.inner_text("#backend")

        # A changed model (another hash) is measured again.
        page.close()
        page = context.new_page()
        page.route(
            "**/config.json",
            lambda route: route.fulfill(
                json={
                    **json.loads((site / "config.json").read_text()),
                    "model": {
                        **json.loads((site / "config.json").read_text())["model"],
                        "sha256": "0" * 64,
                    },
                }
            ),
        )
        page.add_init_script(script=f"({WATCH_JS})()")
        page.goto(page_url(url, autostart=True))
        assert page.evaluate("window.__ready")["backend"] == "cpu"
        page.wait_for_function("window.__tuned !== null", timeout=120_000)
        context.close()

        # The choice is within 10% of the fastest backend timed on its own.
        alone = {name: _own_median(browser, url, name) for name in ("litert-wasm", "wasm")}
    assert alone[chosen] <= 1.1 * min(alone.values()), (chosen, alone, timed)
