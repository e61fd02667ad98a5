"""The page's own words (build --description, --model-card): their Markdown rendered safely (no
raw HTML, no script or data: links, no images, headings below the page's), kept as Markdown in
config.json so publish renders the same page, size limits and unreadable files as one-line errors,
and a real build from a TF.js model.json (no TensorFlow, no browser)."""

from __future__ import annotations

import itertools
import json
import shlex
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from sitegen.contract import ModelSpec, SiteConfig
from sitegen.errors import ModelError
from sitegen.site import page_text
from sitegen.site.render import render_site
from sitegen.site.write import MARKER
from tests.helpers.support import tree_digest

# What rendered Markdown may contain: everything else would have come from raw HTML.
ALLOWED_TAGS = {
    "p", "h2", "h3", "h4", "h5", "h6", "em", "strong", "s", "code", "pre", "a", "ul", "ol", "li",
    "blockquote", "hr", "br", "div", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"href", "title", "rel", "class", "tabindex", "start"}

ATTACKS = {
    "script tag": "<script>alert(1)</script>",
    "inline script": "Hi <script>alert(1)</script> there",
    "img onerror": "<img src=x onerror=alert(1)>",
    "inline img onerror": "a picture <img src=x onerror=alert(1)> here",
    "html block": '<div onclick="alert(1)">\n\n*x*\n\n</div>',
    "iframe": '<iframe src="https://evil.example"></iframe>',
    "svg": "<svg onload=alert(1)></svg>",
    "style": "<style>body{display:none}</style>",
    "comment": "<!-- <script>alert(1)</script> -->",
    "javascript link": "[x](javascript:alert(1))",
    "mixed-case javascript": "[x](JaVaScRiPt:alert(1))",
    "entity javascript": "[x](&#106;avascript:alert(1))",
    "tab in javascript": "[x](java&#x09;script:alert(1))",
    "javascript autolink": "<javascript:alert(1)>",
    "javascript reference": "[x][1]\n\n[1]: javascript:alert(1)",
    "vbscript link": "[x](vbscript:msgbox(1))",
    "data html link": "[x](data:text/html,<script>alert(1)</script>)",
    "data base64 link": "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "data image link": "[x](data:image/png;base64,iVBORw0KGgo=)",  # markdown-it itself allows it
    "file link": "[x](file:///etc/passwd)",
    "image onerror title": '![x" onerror="alert(1)](https://example.org/a.png)',
    "data image": "![x](data:image/svg+xml,<svg onload=alert(1)>)",
    "link title quote": '[x](https://example.org "a\\" onmouseover=\\"alert(1)")',
    "attribute break": '[x](https://example.org/"onmouseover="alert(1))',
}


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text = ""

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text += data

    def handle_comment(self, data):
        raise AssertionError(f"a comment came through: {data!r}")


def _parse(html: str) -> _Elements:
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser


def _assert_safe(html: str) -> _Elements:
    parsed = _parse(html)
    for tag, attrs in parsed.elements:
        assert tag in ALLOWED_TAGS, (tag, html)
        assert set(attrs) <= ALLOWED_ATTRIBUTES, (attrs, html)
        href = attrs.get("href")
        if href is not None:
            assert href.startswith(("https://", "http://", "mailto:")), html
            assert attrs.get("rel") == "noopener noreferrer", html
    assert "style=" not in html  # the page's CSP refuses inline styles
    return parsed


@pytest.mark.parametrize("markdown", ATTACKS.values(), ids=ATTACKS.keys())
@pytest.mark.parametrize("top_level", [2, 3])
def test_markup_and_unsafe_links_do_not_pass(markdown, top_level):
    _assert_safe(page_text.to_html(markdown, top_level=top_level))


def test_raw_html_is_shown_as_text():
    html = page_text.to_html("Hi <b onclick=x>there</b>\n\n<script>alert(1)</script>", top_level=3)
    assert "&lt;b onclick=x&gt;there&lt;/b&gt;" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html and "<b" not in html


def test_refused_links_stay_as_their_text():
    html = page_text.to_html("[click](javascript:alert(1)) and [x](data:text/html,hi)", top_level=3)
    assert "<a" not in html and "[click](javascript:alert(1))" in _parse(html).text


def test_external_links_kept_with_rel_relative_ones_and_images_become_text():
    markdown = (
        "[site](https://example.org/a?b=1&c=2) [mail](mailto:me@example.org) "
        "[repo file](../docs/x.md) [top](#intended-use) ![a diagram](diagram.png) "
        "![remote](https://example.org/a.png) <https://example.org/auto>"
    )
    parsed = _assert_safe(page_text.to_html(markdown, top_level=3))
    links = [attrs["href"] for tag, attrs in parsed.elements if tag == "a"]
    assert links == [
        "https://example.org/a?b=1&c=2",
        "mailto:me@example.org",
        "https://example.org/auto",
    ]
    for words in ("repo file", "top", "a diagram", "remote"):
        assert words in parsed.text
    assert page_text.shown_as_text(markdown) == [
        "link ../docs/x.md",
        "link #intended-use",
        "image diagram.png",
        "image https://example.org/a.png",
    ]


@pytest.mark.parametrize(
    ("markdown", "top_level", "expected"),
    [
        ("# Card\n\n## Use\n\n### Data\n\n## Metrics", 3, ["h3", "h4", "h5", "h4"]),
        ("## Use\n\n## Data", 3, ["h3", "h3"]),  # the shallowest heading becomes top_level
        ("# A\n\n#### Skipped two\n\n###### Deep", 3, ["h3", "h4", "h5"]),  # no level skipped
        ("## A\n\n# B", 3, ["h3", "h3"]),
        (
            "# A\n\n## B\n\n### C\n\n#### D\n\n##### E\n\n###### F",
            3,
            ["h3", "h4", "h5"] + ["h6"] * 3,
        ),
        ("# Intro\n\n## More", 2, ["h2", "h3"]),
        ("Title\n=====\n\nSub\n---", 3, ["h3", "h4"]),  # setext headings too
    ],
)
def test_headings_sit_below_the_page_headings(markdown, top_level, expected):
    html = page_text.to_html(markdown, top_level=top_level)
    tags = [tag for tag, _ in _parse(html).elements if tag.startswith("h")]
    assert tags == expected
    for tag in set(tags):
        assert html.count(f"<{tag}>") == html.count(f"</{tag}>")


def test_plain_text_and_markdown_basics():
    assert page_text.to_html("Just some words.", top_level=2) == "<p>Just some words.</p>\n"
    assert page_text.to_html("  \n", top_level=2) == ""
    html = page_text.to_html(
        "*a* **b** `c<d>` ~~e~~\n\n- one\n- two\n\n```\nx < y\n```", top_level=2
    )
    for fragment in ("<em>a</em>", "<strong>b</strong>", "<code>c&lt;d&gt;</code>", "<s>e</s>"):
        assert fragment in html
    assert "<li>two</li>" in html and "x &lt; y" in html
    _assert_safe(html)


def test_table_alignment_is_a_class_and_the_table_scrolls():
    html = page_text.to_html("| a | b | c |\n|:--|--:|:-:|\n| 1 | 2 | 3 |", top_level=3)
    parsed = _assert_safe(html)
    assert ("th", {"class": "align-left"}) in parsed.elements
    assert ("td", {"class": "align-right"}) in parsed.elements
    assert ("td", {"class": "align-center"}) in parsed.elements
    assert parsed.elements[0] == ("div", {"class": "table-scroll", "tabindex": "0"})


def test_empty_table_headers_are_not_header_cells():
    """A key-value table (``| | |`` header, as models/default/MODEL_CARD.md has): axe's
    empty-table-header finds no empty <th>."""
    html = page_text.to_html("| | |\n|---|---|\n| Input | 256 |", top_level=3)
    assert "<thead>" not in html and "<th" not in html and "<td>Input</td>" in html
    html = page_text.to_html("| class | |\n|---|--:|\n| stop | 0.9 |", top_level=3)
    assert "<th>class</th>" in html and '<td class="align-right"></td>' in html
    assert "<th></th>" not in html and '<th class="align-right"></th>' not in html


def test_plain_text_for_the_meta_description():
    assert page_text.to_plain_text("") == ""
    text = page_text.to_plain_text("# Signs\n\nFinds **road** signs, see [docs](https://x.org).")
    assert text == "Signs Finds road signs, see docs."
    long = page_text.to_plain_text("word " * 100)
    assert len(long) <= page_text.META_DESCRIPTION_LIMIT and long.endswith("word…")
    # Raw HTML stays as text; the template escapes it in the attribute.
    assert page_text.to_plain_text("a <script>x</script>") == "a <script>x</script>"


# ---- reading the options -------------------------------------------------------------------------


def _one_line(error: pytest.ExceptionInfo) -> str:
    message = str(error.value)
    assert "\n" not in message
    return message


def test_description_is_text_or_a_file(tmp_path):
    assert page_text.read_description(None) == ""
    assert page_text.read_description("  Road signs.  ") == "Road signs."
    assert page_text.read_description("See notes.md for more") == "See notes.md for more"
    for name in ("about.md", "about.txt", "ABOUT.Markdown"):
        path = tmp_path / name
        path.write_text("\ufeff# From a file\n", encoding="utf-8")  # a BOM is dropped
        assert page_text.description_file(str(path)) == path
        assert page_text.read_description(str(path)) == "# From a file"
    (tmp_path / "README").write_text("x")
    assert page_text.read_description(str(tmp_path / "README")) == str(tmp_path / "README")


def test_description_naming_a_missing_file_is_an_error(tmp_path):
    with pytest.raises(ModelError) as error:
        page_text.read_description(str(tmp_path / "about.md"))
    assert "no such file" in _one_line(error)


def test_description_over_the_limit(tmp_path):
    assert page_text.read_description("x" * page_text.DESCRIPTION_LIMIT)
    with pytest.raises(ModelError) as error:
        page_text.read_description("x" * (page_text.DESCRIPTION_LIMIT + 1))
    message = _one_line(error)
    assert "2,001 characters" in message and "2,000" in message and "--model-card" in message
    path = tmp_path / "long.md"
    path.write_text("y" * 3000)
    with pytest.raises(ModelError) as error:
        page_text.read_description(str(path))
    assert str(path) in _one_line(error)


def test_model_card_errors(tmp_path):
    assert page_text.read_model_card(None) == ""
    with pytest.raises(ModelError) as error:
        page_text.read_model_card(tmp_path / "missing.md")
    assert "does not exist" in _one_line(error)
    with pytest.raises(ModelError) as error:
        page_text.read_model_card(tmp_path)
    assert "is a folder" in _one_line(error)
    latin1 = tmp_path / "latin1.md"
    latin1.write_bytes("Caf\xe9".encode("latin-1"))
    with pytest.raises(ModelError) as error:
        page_text.read_model_card(latin1)
    assert "not UTF-8" in _one_line(error)
    big = tmp_path / "big.md"
    big.write_text("z" * (page_text.MODEL_CARD_LIMIT + 1))
    with pytest.raises(ModelError) as error:
        page_text.read_model_card(big)
    assert "100 KB allowed" in _one_line(error)
    ok = tmp_path / "ok.md"
    ok.write_text("z" * page_text.MODEL_CARD_LIMIT)
    assert len(page_text.read_model_card(ok)) == page_text.MODEL_CARD_LIMIT


# ---- config.json and the page --------------------------------------------------------------------

CARD = """# Signs detector

For **testing**. <script>alert(1)</script> More in [the docs](https://example.org/docs).

## Metrics

| class | AP50 |
|---|--:|
| stop | 0.97 |
"""


def _config(**fields) -> SiteConfig:
    spec = ModelSpec(
        input_name="input_tensor",
        input_dtype="int32",
        input_size=(240, 320),
        outputs={"raw_boxes": "Identity_6", "raw_scores": "Identity_7"},
        postprocess="raw",
        num_classes=2,
        files=(("model/group1-shard1of1.bin", 2_500_000),),
    )
    return SiteConfig(
        title="Road signs",
        threshold=0.5,
        max_detections=20,
        labels={1: "kangaroo", 2: "stop"},
        model=spec,
        backend_order=spec.backends,  # what config.json says when no order was measured
        **fields,
    )


def test_config_json_keeps_the_markdown():
    config = _config(description="Finds *signs*.", model_card=CARD)
    data = json.loads(config.dumps())
    assert data["description"] == "Finds *signs*." and data["modelCard"] == CARD
    assert SiteConfig.from_json(data) == config


def test_config_json_without_page_text_still_loads():
    data = json.loads(_config().dumps())
    del data["description"], data["modelCard"]
    config = SiteConfig.from_json(data)
    assert (config.description, config.model_card) == ("", "")
    data["description"] = data["modelCard"] = None
    assert SiteConfig.from_json(data).description == ""


def _section(html: str, start: str, end: str) -> str:
    return html[html.index(start) : html.index(end, html.index(start))]


def _headings(html: str) -> list[int]:
    return [
        int(tag[1]) for tag, _ in _parse(html).elements if tag in {f"h{i}" for i in range(1, 7)}
    ]


def test_page_shows_the_description_and_the_model_card():
    page = render_site(_config(description="Finds **road** signs.", model_card=CARD))["index.html"]
    header = _section(page, '<header class="site-header">', "</header>")
    assert '<div class="intro prose">\n<p>Finds <strong>road</strong> signs.</p>' in header
    assert '<meta name="description" content="Finds road signs.">' in page
    about = _section(page, '<section class="about"', "</section>")
    assert 'aria-labelledby="about-heading"' in about
    assert '<h2 id="about-heading">About this model</h2>' in about
    for fact in ("TensorFlow.js graph model", "320 × 240 pixels", "2.5 MB (TF.js)"):
        assert fact in about
    assert 'href="#classes-heading"' in about and 'id="classes-heading"' in page
    assert "<summary>Model card</summary>" in about and "<h3>Signs detector</h3>" in about
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in about and "<script>alert" not in page
    assert '<td class="align-right">0.97</td>' in about
    levels = _headings(page)  # axe's heading-order: no heading more than one below the one before
    assert levels[0] == 1
    assert all(b <= a + 1 for a, b in itertools.pairwise(levels)), levels
    assert page.count('id="about-heading"') == 1


def test_page_without_page_text_keeps_the_default_meta_description():
    page = render_site(_config())["index.html"]
    assert 'class="intro' not in page and "<summary>Model card" not in page
    assert (
        '<meta name="description" content="Road signs: an object detector that runs in your '
        'browser. The camera picture never leaves your device.">'
    ) in page
    assert '<section class="about" aria-labelledby="about-heading">' in page  # the model's facts


def test_page_text_is_escaped_in_the_meta_description():
    page = render_site(_config(description='Say "hi" <b>now</b> & go'))["index.html"]
    assert 'content="Say &#34;hi&#34; &lt;b&gt;now&lt;/b&gt; &amp; go"' in page


# ---- the build -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tfjs_model(tmp_path_factory) -> Path:
    """A TF.js model.json as sitegen records one (its outputs, labels and input), with one small
    weight shard: the build copies it, no TensorFlow needed."""
    folder = tmp_path_factory.mktemp("tfjs") / "model"
    folder.mkdir()
    (folder / "group1-shard1of1.bin").write_bytes(bytes(16))
    nms = {"scoreThreshold": 1e-8, "iouThreshold": 0.6, "maxPerClass": 100, "maxTotal": 100,
           "classAgnostic": False, "source": "defaults"}  # fmt: skip
    manifest = {
        "format": "graph-model",
        "modelTopology": {"node": [{"name": "input_tensor", "op": "Placeholder"}]},
        "weightsManifest": [
            {
                "paths": ["group1-shard1of1.bin"],
                "weights": [{"name": "w", "shape": [4], "dtype": "float32"}],
            }
        ],
        "userDefinedMetadata": {
            "sitegen": {
                "labels": {"1": "kangaroo", "2": "stop"},
                "input": "input_tensor",
                "outputs": {"raw_boxes": "Identity_6", "raw_scores": "Identity_7"},
                "model": {
                    "input": {"name": "input_tensor", "dtype": "int32", "size": [64, 64]},
                    "numClasses": 2,
                    "nms": nms,
                },
            }
        },
    }
    (folder / "model.json").write_text(json.dumps(manifest))
    return folder / "model.json"


def test_build_renders_description_and_model_card(run_cli, tmp_path, tfjs_model):
    card = tmp_path / "MODEL_CARD.md"
    card.write_text(CARD + "\nSee [the repository file](../docs/x.md).\n", encoding="utf-8")
    about = tmp_path / "about.md"
    about.write_text("Finds **road signs** on this device.\n", encoding="utf-8")
    out = tmp_path / "dist"
    result = run_cli(
        "build", tfjs_model, "--out", out, "--title", "Signs",
        "--description", about, "--model-card", card,
    )  # fmt: skip
    assert result.code == 0, result.err
    assert "--model-card: shown as text on the page: link ../docs/x.md" in result.err
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "<h1>Signs</h1>" in page
    assert "<p>Finds <strong>road signs</strong> on this device.</p>" in page
    assert "<h3>Signs detector</h3>" in page and "<h4>Metrics</h4>" in page
    assert "the repository file" in page and "../docs/x.md" not in page
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))
    assert config["description"] == "Finds **road signs** on this device."
    assert config["modelCard"].startswith("# Signs detector")  # the Markdown, not HTML
    arguments = json.loads((out / MARKER).read_text())["build"]["arguments"]
    assert arguments[arguments.index("--description") + 1] == str(about.resolve())
    assert arguments[arguments.index("--model-card") + 1] == str(card.resolve())

    published = tmp_path / "published"
    assert run_cli("publish", "static", out, "--generate-dir", published).code == 0
    again = (published / "index.html").read_text(encoding="utf-8")
    for part in (("<header", "</header>"), ('<section class="about"', "</section>")):
        assert _section(again, *part) == _section(page, *part)


def test_build_records_a_description_given_as_text(run_cli, tmp_path, tfjs_model):
    out = tmp_path / "dist"
    assert run_cli("build", tfjs_model, "--out", out, "--description", "Road *signs*").code == 0
    arguments = json.loads((out / MARKER).read_text())["build"]["arguments"]
    assert arguments[arguments.index("--description") + 1] == "Road *signs*"
    assert "--model-card" not in arguments
    assert "<p>Road <em>signs</em></p>" in (out / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        (("--model-card", "missing.md"), ("--model-card missing.md", "does not exist")),
        (("--description", "missing.md"), ("--description missing.md", "no such file")),
        (("--description", "x" * 2001), ("2,000 allowed",)),
    ],
    ids=["missing model card", "missing description file", "long description"],
)
def test_bad_page_text_stops_the_build(run_cli, tmp_path, tfjs_model, arguments, words):
    out = tmp_path / "dist"
    result = run_cli("build", tfjs_model, "--out", out, *arguments)
    assert result.code == ModelError.exit_code
    line = result.error_line
    assert all(word in line for word in words), line
    assert not out.exists()


def test_a_failed_rebuild_leaves_the_site(run_cli, tmp_path, tfjs_model):
    out = tmp_path / "dist"
    assert run_cli("build", tfjs_model, "--out", out).code == 0
    before = tree_digest(out)
    assert run_cli("build", tfjs_model, "--out", out, "--model-card", tmp_path / "x.md").code != 0
    assert tree_digest(out) == before


def test_the_pages_workflow_rebuilds_the_same_page_text(run_cli, tmp_path, tfjs_model, monkeypatch):
    """publish github-pages writes a workflow whose build gives the deployed config.json again:
    the model card and a description file as repository paths, a Markdown text with quotes and
    newlines intact inside the YAML block."""
    yaml = pytest.importorskip("yaml")
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    shutil.copytree(tfjs_model.parent, root / "models" / "m")
    (root / "docs").mkdir()
    (root / "docs" / "CARD.md").write_text("# Card\n\nHello.\n")
    (root / "docs" / "about.md").write_text("About *this*.\n")
    monkeypatch.chdir(root)
    for description in (
        "docs/about.md",
        "Two paragraphs.\n\n  Second 'one' \"x\" $HOME `id`.",
        "/not/a/file.md is text",
    ):
        for leftover in ("dist", "_site", "rebuilt", ".github"):
            shutil.rmtree(root / leftover, ignore_errors=True)
        assert (
            run_cli(
                "build",
                "models/m/model.json",
                "--out",
                "dist",
                "--model-card",
                "docs/CARD.md",
                "--description",
                description,
                "--title",
                'T\'s "x"',
            ).code
            == 0
        )
        assert run_cli("publish", "github-pages", "dist", "--generate-dir", "_site").code == 0
        text = (root / ".github/workflows/sitegen-pages.yml").read_text()
        workflow = yaml.safe_load(text)
        runs = [s["run"].strip() for s in workflow["jobs"]["build"]["steps"] if "run" in s]
        (build,) = [r for r in runs if r.startswith("sitegen build ")]
        words = shlex.split(build)
        assert words[words.index("--model-card") + 1] == "docs/CARD.md"
        if description == "docs/about.md":
            assert words[words.index("--description") + 1] == "docs/about.md"
        else:
            assert words[words.index("--description") + 1] == description
        words[words.index("--out") + 1] = "rebuilt"
        assert run_cli(*words[1:]).code == 0
        rebuilt = json.loads((root / "rebuilt" / "config.json").read_text())
        deployed = json.loads((root / "_site" / "config.json").read_text())
        assert rebuilt == deployed
        assert rebuilt["modelCard"] == "# Card\n\nHello."
