"""The page fits the window: no horizontal scroll from a small phone to a large desktop."""

from __future__ import annotations

import pytest

from tests.helpers.browser import open_page, served


@pytest.mark.parametrize("width", [320, 390, 1280, 1920])
def test_no_horizontal_scroll(browser, default_site, width):
    with served(default_site) as url:
        page, watcher = open_page(browser, url, viewport=(width, 800))
        watcher.assert_clean()
        page.wait_for_selector("#file")
        scroll_width = page.evaluate("() => document.documentElement.scrollWidth")
        wider = page.evaluate(
            """() => [...document.querySelectorAll('body *')]
              .filter((e) => e.getBoundingClientRect().right > innerWidth + 0.5)
              .map((e) => e.tagName + (e.id ? '#' + e.id : ''))"""
        )
        page.context.close()
    assert scroll_width <= width and not wider, (scroll_width, wider)
