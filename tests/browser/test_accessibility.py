"""axe-core (from npm) finds no serious or critical accessibility problem in any state of the page:
loading, ready, running the camera, with a result on show, and failed; in the light and the dark
colour scheme, on a desktop and a phone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sitegen.site.page import page_url
from tests.helpers.browser import RECORD_EVENTS_JS, PageWatcher, open_page, served

pytestmark = pytest.mark.tensorflow

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def _serious_violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))  # the test bypasses the page's CSP for this (open_page)
    result = page.evaluate(
        "(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})", RULES
    )
    assert len(result["passes"]) > 20, "axe-core checked next to nothing"
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(node["target"][0] for node in v["nodes"][:5])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.fixture(scope="module")
def axe_available():
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: run `npm ci` (make setup does)")


def _new_page(browser, viewport, scheme):
    context = browser.new_context(
        viewport={"width": viewport[0], "height": viewport[1]},
        color_scheme=scheme,
        bypass_csp=True,  # to add axe-core's script; test_page checks the page under its CSP
    )
    context.grant_permissions(["camera"])
    page = context.new_page()
    watcher = PageWatcher(page)
    return page, watcher


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("viewport", [(1280, 800), (390, 844)])
def test_no_serious_violations_in_any_state(browser, default_site, axe_available, scheme, viewport):
    found: dict[str, list[str]] = {}
    with served(default_site) as url:
        page, watcher = _new_page(browser, viewport, scheme)
        # Loading: the model's files are held back until the page has been checked.
        held, holding = [], [True]
        page.route(
            "**/model/**", lambda route: held.append(route) if holding[0] else route.continue_()
        )
        page.goto(page_url(url, autostart=True))
        page.wait_for_function("() => window.sitegen !== undefined")
        found["loading"] = _serious_violations(page)
        assert page.evaluate("window.sitegen.state") == "loading"
        holding[0] = False
        for route in held:
            route.continue_()

        page.evaluate(RECORD_EVENTS_JS)
        page.wait_for_function("window.sitegen.state === 'running'", timeout=60_000)
        page.wait_for_function("window.__events.length >= 2", timeout=60_000)
        found["running"] = _serious_violations(page)

        page.get_by_role("button", name="Stop camera").click()
        page.wait_for_function("window.sitegen.state === 'ready'")
        found["ready"] = _serious_violations(page)
        watcher.assert_clean()
        page.context.close()

        # Failed: a config.json the page cannot read.
        page, _ = _new_page(browser, viewport, scheme)
        page.route("**/config.json", lambda route: route.fulfill(status=404, body="missing"))
        page.goto(url)
        page.wait_for_function("window.sitegen && window.sitegen.state === 'error'")
        found["error"] = _serious_violations(page)
        page.context.close()
    problems = {state: v for state, v in found.items() if v}
    assert not problems, json.dumps(problems, indent=1, ensure_ascii=False)


def test_controls_work_from_the_keyboard_with_visible_focus(browser, default_site):
    with served(default_site) as url:
        page, watcher = open_page(browser, url)
        page.wait_for_function("window.sitegen && window.sitegen.state === 'ready'")
        focused = []
        for _ in range(8):
            page.keyboard.press("Tab")
            focused.append(
                page.evaluate(
                    """() => {
                      const e = document.activeElement;
                      if (e === document.body) return {id: 'body', outline: 'n/a', width: 0};
                      const style = getComputedStyle(e);
                      return {id: e.id || e.className, outline: style.outlineStyle,
                              width: parseFloat(style.outlineWidth)};
                    }"""
                )
            )
        ids = [f["id"] for f in focused]
        for control in ("camera-toggle", "snapshot", "camera-select", "file", "threshold"):
            assert control in ids, ids
        for f in focused:
            if f["id"] != "body":  # past the last control, the focus leaves the page
                assert f["outline"] != "none" and f["width"] >= 2, f
        # The threshold moves with the arrow keys.
        page.focus("#threshold")
        before = float(page.input_value("#threshold"))
        page.keyboard.press("ArrowRight")
        assert float(page.input_value("#threshold")) == pytest.approx(before + 0.05)
        # Start camera from the keyboard.
        page.focus("#camera-toggle")
        page.keyboard.press("Enter")
        page.wait_for_function("window.sitegen.state === 'running'")
        watcher.assert_clean()
        page.context.close()
