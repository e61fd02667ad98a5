"""The page's own words: the build's ``--description`` and ``--model-card``, read and checked, and
their Markdown made into HTML that is safe to put in the page.

Safe means: markdown-it with raw HTML off (HTML blocks and inline HTML are shown as text), links
kept only to ``http:``, ``https:`` and ``mailto:`` (``rel="noopener noreferrer"``), everything
else shown as its text. Relative links and images point at files the site does not hold (the
card's repository, another host the page's CSP refuses), so a link becomes its text and an image
its alt text; :func:`shown_as_text` names them for the build's notes. Headings are moved below the
page's own (``top_level``), in order, so the page's outline stays valid. Table alignment becomes a
class (the CSP refuses inline styles) and an empty header row is dropped.

config.json keeps the Markdown, not the HTML: the page is rendered from it at build time and again
by ``sitegen publish``.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from sitegen.errors import ModelError

DESCRIPTION_LIMIT = 2_000  # characters of Markdown
MODEL_CARD_LIMIT = 100 * 1024  # bytes of the file
# What --description reads as a file when its value names one; anything else is the text itself.
TEXT_FILE_SUFFIXES = (".md", ".markdown", ".txt")
META_DESCRIPTION_LIMIT = 160  # characters: what search engines show of <meta name="description">

_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):", re.IGNORECASE)
_KEPT_SCHEMES = ("http", "https", "mailto")


# ---- reading the options -------------------------------------------------------------------------


def description_file(value: str | None) -> Path | None:
    """The file ``--description`` names, or None when the value is the text itself: a one-line
    value ending in .md, .markdown or .txt is a file when one is there, a mistyped path (an error)
    when it has no spaces, and text otherwise."""
    if not value or "\n" in value or not value.lower().endswith(TEXT_FILE_SUFFIXES):
        return None
    path = Path(value).expanduser()
    if path.is_file():
        return path
    if not any(c.isspace() for c in value):
        raise ModelError(
            f"--description {value}: no such file; pass an existing .md or .txt file, "
            "or the text itself"
        )
    return None


def read_description(value: str | None) -> str:
    """``--description``'s Markdown: the text given, or the file it names."""
    path = description_file(value)
    text = (_read_text(path, "--description") if path else value or "").strip()
    if len(text) > DESCRIPTION_LIMIT:
        where = f" ({path})" if path else ""
        raise ModelError(
            f"--description{where} is {len(text):,} characters, more than the "
            f"{DESCRIPTION_LIMIT:,} allowed; shorten it and put the details in --model-card FILE"
        )
    return text


def read_model_card(path: Path | None) -> str:
    """``--model-card``'s Markdown ("" without one)."""
    if path is None:
        return ""
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "does not exist"
        raise ModelError(f"--model-card {path} {what}; pass a Markdown file such as MODEL_CARD.md")
    size = path.stat().st_size
    if size > MODEL_CARD_LIMIT:
        raise ModelError(
            f"--model-card {path} is {size / 1024:,.0f} KB, more than the "
            f"{MODEL_CARD_LIMIT // 1024} KB allowed; shorten it (link to the full card instead)"
        )
    return _read_text(path, "--model-card").strip()


def _read_text(path: Path, option: str) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ModelError(
            f"{option} {path} is not UTF-8 text (byte {exc.start}); save it as UTF-8"
        ) from None
    except OSError as exc:
        raise ModelError(
            f"cannot read {option} {path} ({exc.strerror}); pass a readable file"
        ) from None


# ---- rendering -----------------------------------------------------------------------------------


def to_html(markdown: str, *, top_level: int) -> str:
    """Safe HTML for ``markdown``; its first heading level becomes ``top_level`` (2..6)."""
    if not markdown.strip():
        return ""
    parser = _parser()
    tokens = parser.parse(markdown)
    _demote_headings(tokens, top_level)
    tokens = _without_empty_table_heads(tokens)
    _table_cells_without_style(tokens)
    for token in tokens:
        if token.type == "inline" and token.children:
            token.children, _ = _safe_inline(token.children)
    return parser.renderer.render(tokens, parser.options, {})


def to_plain_text(markdown: str, limit: int = META_DESCRIPTION_LIMIT) -> str:
    """The words of ``markdown`` on one line, cut at a word to ``limit`` characters (with …)."""
    words: list[str] = []
    for token in _parser().parse(markdown):
        if token.type == "inline" and token.children:
            children, _ = _safe_inline(token.children)
            words += [c.content for c in children if c.type in ("text", "code_inline")]
            words.append(" ")
        elif token.type in ("fence", "code_block"):
            words.append(token.content)
    text = " ".join("".join(words).split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:.") + "…"


def shown_as_text(markdown: str) -> list[str]:
    """The links and images of ``markdown`` that the page shows as text, as "link TARGET" or
    "image TARGET"."""
    found: list[str] = []
    for token in _parser().parse(markdown):
        if token.type == "inline" and token.children:
            found += _safe_inline(token.children)[1]
    return found


@functools.cache
def _parser():
    from markdown_it import MarkdownIt

    # commonmark with HTML off: both html_block and html_inline check this option.
    parser = MarkdownIt("commonmark", {"html": False, "xhtmlOut": False})
    parser.enable(["table", "strikethrough"])
    # markdown-it's own check lets data:image/... through; only these schemes become links.
    parser.validateLink = _allowed_link
    parser.add_render_rule("table_open", _table_open)
    parser.add_render_rule("table_close", _table_close)
    return parser


def _allowed_link(url: str) -> bool:
    scheme = _SCHEME.match(url.strip())
    return scheme is None or scheme.group(1).lower() in _KEPT_SCHEMES


def _external(href: str) -> bool:
    scheme = _SCHEME.match(href)
    return (scheme is not None and scheme.group(1).lower() in _KEPT_SCHEMES) or href.startswith(
        "//"
    )


def _safe_inline(children: list) -> tuple[list, list[str]]:
    """Inline tokens with every link that would not work from the site unwrapped to its text and
    every image replaced by its alt text; and what was changed."""
    from markdown_it.token import Token

    kept: list = []
    changed: list[str] = []
    open_links: list[bool] = []  # per open link: is it kept?
    for child in children:
        if child.type == "link_open":
            href = str(child.attrGet("href") or "")
            keep = _external(href)
            open_links.append(keep)
            if keep:
                child.attrSet("rel", "noopener noreferrer")
                kept.append(child)
            else:
                changed.append(f"link {href}")
        elif child.type == "link_close":
            if open_links.pop() if open_links else True:
                kept.append(child)
        elif child.type == "image":
            changed.append(f"image {child.attrGet('src')}")
            alt = _parser().renderer.renderInlineAsText(child.children or [], {}, {})
            if alt:
                kept.append(Token("text", "", 0, content=alt))
        else:
            kept.append(child)
    return kept, changed


def _demote_headings(tokens: list, top_level: int) -> None:
    """The shallowest heading becomes ``top_level``; none is more than one below the one before."""
    levels = [int(t.tag[1]) for t in tokens if t.type == "heading_open"]
    if not levels:
        return
    shift = top_level - min(levels)
    previous = top_level - 1
    tag = ""
    for token in tokens:
        if token.type == "heading_open":
            level = max(top_level, min(6, int(token.tag[1]) + shift, previous + 1))
            previous, tag = level, f"h{level}"
            token.tag = tag
        elif token.type == "heading_close":
            token.tag = tag


def _without_empty_table_heads(tokens: list) -> list:
    """Tables whose header row is empty (``| | |``, a common key-value table) without it, and an
    empty header cell as a plain cell: empty header cells name nothing for a screen reader."""
    kept: list = []
    head: list | None = None
    for token in tokens:
        if token.type == "thead_open":
            head = [token]
        elif head is not None:
            head.append(token)
            if token.type == "thead_close":
                if any(t.type == "inline" and t.content.strip() for t in head):
                    for i, cell in enumerate(head[:-2]):
                        if cell.type == "th_open" and not head[i + 1].content.strip():
                            cell.tag = head[i + 2].tag = "td"
                    kept += head
                head = None
        else:
            kept.append(token)
    return kept


def _table_cells_without_style(tokens: list) -> None:
    """``style="text-align:right"`` (refused by the page's CSP) becomes ``class="align-right"``."""
    for token in tokens:
        if token.type in ("th_open", "td_open") and token.attrs.get("style"):
            style = str(token.attrs.pop("style"))
            token.attrSet("class", "align-" + style.rsplit(":", 1)[-1].strip())


def _table_open(renderer, tokens, index, options, env) -> str:
    # Wide tables scroll inside the text instead of widening the page; focusable to scroll by key.
    return '<div class="table-scroll" tabindex="0">\n' + renderer.renderToken(
        tokens, index, options, env
    )


def _table_close(renderer, tokens, index, options, env) -> str:
    return renderer.renderToken(tokens, index, options, env) + "</div>\n"
