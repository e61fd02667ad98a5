"""The page client (sitegen.site.page) is the one place that launches a browser for a page and
builds the page's address: verify, eval, check, the benchmarks, the dev tools and the browser
tests all go through it, so a new engine or host is added once."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from sitegen.contract import QUERY
from sitegen.site.page import PageQuery, PageWatcher, page_url, parse_query

REPO = Path(__file__).resolve().parents[2]
SOURCES = sorted(
    path
    for folder in ("sitegen", "tests", "benchmarks", "devtools")
    for path in (REPO / folder).rglob("*.py")
)
PAGE_CLIENT = REPO / "sitegen" / "site" / "page.py"
BROWSER = REPO / "sitegen" / "site" / "browser.py"
ENGINES = {"chromium", "firefox", "webkit"}
LAUNCHERS = {"launch", "launch_persistent_context", "connect", "connect_over_cdp"}
SELENIUM_DRIVERS = {"Chrome", "Firefox", "WebKitGTK", "Safari", "Edge", "Remote"}
# A page address spelled by hand: ?name=value or &name=value for a parameter the page reads (an
# f-string's placeholder counts as a value; "(?backend=)" in a help text does not).
QUERY_TEXT = re.compile(r"[?&](?:{})=[\w.{{-]".format("|".join(QUERY.values())))


def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            yield node.func


def _launches(tree: ast.AST) -> list[str]:
    found = []
    for func in _calls(tree):
        owner = func.value
        owner_name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
        if func.attr in LAUNCHERS and owner_name in ENGINES:
            found.append(f"{owner_name}.{func.attr}")
        if owner_name == "webdriver" and func.attr in SELENIUM_DRIVERS:
            found.append(f"webdriver.{func.attr}")
    return found


def _strings(tree: ast.AST) -> list[str]:
    """String constants and f-strings (a placeholder as "{}"), docstrings left out (they may
    quote an address)."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    pieces = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            found.append("".join(_text(v) for v in node.values))
        elif _is_string(node) and id(node) not in docstrings and id(node) not in pieces:
            found.append(node.value)
    return found


def _is_string(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _text(node: ast.AST) -> str:
    return node.value if _is_string(node) else "{}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(REPO)))
def test_only_the_page_client_launches_a_browser(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    if path != PAGE_CLIENT:
        assert not _launches(tree), "launch the browser with sitegen.site.page.launch instead"
    if path != BROWSER:
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
        assert not any(getattr(c.func, "id", "") == "sync_playwright" for c in calls), (
            "start Playwright with sitegen.site.browser.playwright_started"
        )


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(REPO)))
def test_only_the_page_client_builds_the_page_address(path):
    if path in (PAGE_CLIENT, Path(__file__).resolve()):
        return
    spelled = [
        s for s in _strings(ast.parse(path.read_text(encoding="utf-8"))) if QUERY_TEXT.search(s)
    ]
    assert not spelled, f"build the page's address with sitegen.site.page.page_url: {spelled}"


def test_the_guards_find_what_they_guard_against():
    tree = ast.parse(
        "b = playwright.chromium.launch(args=[])\n"
        "d = webdriver.WebKitGTK(options=o)\n"
        "url = base + '?autostart=1&backend=wasm'\n"
        "url = f'{base}?backend={backend}'\n"
        "help = 'A page backend (?backend=).'\n"
    )
    assert _launches(tree) == ["chromium.launch", "webdriver.WebKitGTK"]
    spelled = [s for s in _strings(tree) if QUERY_TEXT.search(s)]
    assert sorted(spelled) == ["?autostart=1&backend=wasm", "{}?backend={}"]
    # ... and the one real launch, in the page client
    assert _launches(ast.parse(PAGE_CLIENT.read_text(encoding="utf-8"))) == ["chromium.launch"]


def test_query_uses_the_contract_names_and_leaves_defaults_out():
    assert page_url("http://127.0.0.1:1/") == "http://127.0.0.1:1/"
    url = page_url(
        "http://127.0.0.1:1/repo/",
        autostart=True,
        backend="litert-wasm",
        threshold=0,
        max_detections=100,
        tune="off",
        worker=False,
    )
    assert url == (
        "http://127.0.0.1:1/repo/?autostart=1&backend=litert-wasm&threshold=0&max=100"
        "&tune=off&worker=off"
    )


def test_query_text_parses_back():
    query = PageQuery(autostart=True, threshold=0.3, max_detections=7, worker=False)
    assert parse_query(query.encoded()) == query
    assert parse_query("") == PageQuery()
    assert parse_query("&worker=off") == PageQuery(worker=False)
    with pytest.raises(ValueError, match="the page reads no speed="):
        parse_query("speed=2")


class _FakePage:
    def on(self, event, handler):
        pass


def test_foreign_requests_are_those_off_the_site_origin():
    watcher = PageWatcher(_FakePage())
    watcher.requests += [
        "http://127.0.0.1:8000/repo/index.html",
        "http://127.0.0.1:8000/model/model.json",
        "data:image/png;base64,AAAA",
        "blob:http://127.0.0.1:8000/1234",
        "http://127.0.0.1:9000/other",
        "https://cdn.example.com/tf.min.js",
    ]
    assert watcher.foreign_requests("http://127.0.0.1:8000/repo/") == [
        "http://127.0.0.1:9000/other",
        "https://cdn.example.com/tf.min.js",
    ]
