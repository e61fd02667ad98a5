"""sitegen publish: what each target writes, the GitHub Actions workflow, and every bad input
(one line, a non-zero exit, nothing written or changed)."""

from __future__ import annotations

import json
import os
import shlex
import stat
from pathlib import Path

import pytest

from sitegen.contract import format_header_rules, host_header_rules, parse_header_rules
from sitegen.options import Host
from tests.helpers.support import tree_digest

yaml = pytest.importorskip("yaml")


@pytest.fixture(scope="module")
def repo(tmp_path_factory, tiny_tf2) -> Path:
    """A user's git repository holding a model, and a site built from it with options."""
    import shutil

    from sitegen.build import BuildOptions, build

    root = tmp_path_factory.mktemp("user") / "repo"
    (root / ".git").mkdir(parents=True)
    shutil.copytree(tiny_tf2, root / "models" / "signs")
    options = BuildOptions(
        model=root / "models" / "signs",
        out=root / "dist",
        title="Road signs",
        threshold=0.4,
        max_detections=7,
    )
    build(options)
    return root


@pytest.fixture
def in_repo(repo, monkeypatch) -> Path:
    monkeypatch.chdir(repo)
    yield repo
    for leftover in ("_site", ".github"):
        path = repo / leftover
        if path.exists():
            import shutil

            shutil.rmtree(path)


def _unchanged(run_cli, root: Path, *args, code: int, words: tuple[str, ...]) -> str:
    before = tree_digest(root)
    result = run_cli("publish", *args)
    assert result.code == code, result.err
    line = result.error_line
    assert all(word in line for word in words), line
    assert tree_digest(root) == before, "something was written or changed"
    return line


def test_github_pages_copy_and_workflow(run_cli, in_repo):
    site = tree_digest(in_repo / "dist")
    result = run_cli("publish", "github-pages", "dist", "--generate-dir", "_site")
    assert result.code == 0, result.err
    assert tree_digest(in_repo / "dist") == site  # the built site is never modified
    out = in_repo / "_site"
    assert (out / ".nojekyll").is_file() and (out / "sw.js").is_file()
    assert 'data-service-worker="sw.js"' in (out / "index.html").read_text()
    assert 'id="offline"' in (out / "index.html").read_text()
    assert json.loads((out / "config.json").read_text()) == json.loads(
        (in_repo / "dist" / "config.json").read_text()
    )
    workflow = yaml.safe_load((in_repo / ".github/workflows/sitegen-pages.yml").read_text())
    assert workflow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    deploy = workflow["jobs"]["deploy"]
    assert deploy["environment"]["name"] == "github-pages" and deploy["needs"] == "build"
    assert deploy["steps"][-1]["uses"].startswith("actions/deploy-pages@")
    steps = workflow["jobs"]["build"]["steps"]
    uses = [step.get("uses", "") for step in steps]
    assert any(u.startswith("actions/upload-pages-artifact@") for u in uses)
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-pages-artifact"))
    assert upload["with"]["path"] == "_site"
    runs = [step["run"].strip() for step in steps if "run" in step]
    assert any(r.startswith("pip install 'sitegen[convert,verify]") for r in runs)
    assert "sitegen publish github-pages dist --generate-dir _site --no-workflow" in runs


@pytest.mark.tensorflow
def test_workflow_build_command_builds_the_site_it_deploys(run_cli, in_repo):
    assert run_cli("publish", "github-pages", "dist", "--generate-dir", "_site").code == 0
    workflow = yaml.safe_load((in_repo / ".github/workflows/sitegen-pages.yml").read_text())
    runs = [s["run"].strip() for s in workflow["jobs"]["build"]["steps"] if "run" in s]
    (build,) = [r for r in runs if r.startswith("sitegen build ")]
    words = shlex.split(build)
    assert words[2] == "models/signs" and "--title" in words  # relative to the repository
    words[words.index("--out") + 1] = "rebuilt"
    assert run_cli(*words[1:]).code == 0
    rebuilt = json.loads((in_repo / "rebuilt" / "config.json").read_text())
    deployed = json.loads((in_repo / "_site" / "config.json").read_text())
    assert rebuilt == deployed
    assert (rebuilt["title"], rebuilt["threshold"], rebuilt["maxDetections"]) == (
        "Road signs",
        0.4,
        7,
    )


def test_netlify_headers_and_toml(run_cli, in_repo):
    tomllib = pytest.importorskip("tomllib")
    assert run_cli("publish", "netlify", "dist", "--generate-dir", "_site").code == 0
    out = in_repo / "_site"
    rules = host_header_rules()
    assert (out / "_headers").read_text() == format_header_rules(rules)
    assert parse_header_rules((out / "_headers").read_text()) == rules
    toml = tomllib.loads((out / "netlify.toml").read_text())
    assert toml["build"]["publish"] == "."
    assert [(h["for"], h["values"]) for h in toml["headers"]] == rules
    headers = dict(rules)
    assert "frame-ancestors 'self'" in headers["/*"]["Content-Security-Policy"]
    assert headers["/*"]["Permissions-Policy"] == "camera=(self)"
    assert headers["/config.json"]["Cache-Control"] == "no-cache"
    assert "immutable" in headers["/vendor/tfjs/chunk-*"]["Cache-Control"]
    assert not (in_repo / ".github").exists()  # only github-pages writes a workflow


def test_a_new_build_gets_a_new_service_worker(run_cli, in_repo, tmp_path):
    assert run_cli("publish", "static", "dist", "--generate-dir", tmp_path / "a").code == 0
    changed = tmp_path / "changed"
    import shutil

    shutil.copytree(in_repo / "dist", changed)
    config = json.loads((changed / "config.json").read_text())
    config["title"] = "Another build"
    (changed / "config.json").write_text(json.dumps(config))
    assert run_cli("publish", "static", changed, "--generate-dir", tmp_path / "b").code == 0
    first, second = ((tmp_path / d / "sw.js").read_text() for d in "ab")
    assert first != second and "BUILD_ID" in first


def test_not_a_sitegen_build(run_cli, tmp_path):
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "index.html").write_text("<p>mine</p>")
    _unchanged(
        run_cli,
        tmp_path,
        "static",
        tmp_path / "folder",
        "--generate-dir",
        tmp_path / "out",
        code=8,
        words=("not a site built by sitegen", "sitegen build MODEL"),
    )


def test_unknown_target_is_a_usage_error(run_cli, in_repo):
    line = _unchanged(run_cli, in_repo, "glitch", "dist", code=2, words=("glitch", "netlify"))
    assert "github-pages" in line


def test_workflow_outside_a_git_repository(run_cli, repo, tmp_path):
    line = _unchanged(
        run_cli,
        tmp_path,
        "github-pages",
        repo / "dist",
        "--generate-dir",
        tmp_path / "out",
        "--workflow",
        tmp_path / "elsewhere" / "pages.yml",
        code=8,
        words=("not inside a git repository", "--no-workflow"),
    )
    assert not (tmp_path / "out").exists(), line


def test_workflow_not_written_by_sitegen(run_cli, in_repo):
    workflow = in_repo / ".github" / "workflows" / "sitegen-pages.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text("name: my own deploy\n")
    _unchanged(
        run_cli,
        in_repo,
        "github-pages",
        "dist",
        code=8,
        words=("was not written by sitegen", "another --workflow"),
    )


def test_generate_dir_inside_the_site(run_cli, in_repo):
    _unchanged(
        run_cli,
        in_repo,
        "static",
        "dist",
        "--generate-dir",
        "dist/deploy",
        code=8,
        words=("inside the built site", "--generate-dir _site"),
    )


def test_generate_dir_holding_the_site(run_cli, in_repo):
    _unchanged(
        run_cli, in_repo, "static", "dist", "--generate-dir", ".", code=6, words=("built site",)
    )


def _path_without(monkeypatch, tmp_path, name: str) -> None:
    """PATH with only this interpreter's folder and an empty one: no host CLIs."""
    empty = tmp_path / "empty-bin"
    empty.mkdir(exist_ok=True)
    monkeypatch.setenv("PATH", str(empty))
    assert not any((Path(p) / name).exists() for p in os.environ["PATH"].split(os.pathsep))


def test_deploy_without_the_netlify_cli(run_cli, in_repo, monkeypatch, tmp_path):
    _path_without(monkeypatch, tmp_path, "netlify")
    _unchanged(
        run_cli,
        in_repo,
        "netlify",
        "dist",
        "--deploy",
        code=8,
        words=("netlify CLI", "not installed", "netlify deploy --prod --dir _site"),
    )


def test_deploy_without_gh(run_cli, in_repo, monkeypatch, tmp_path):
    _path_without(monkeypatch, tmp_path, "gh")
    _unchanged(
        run_cli,
        in_repo,
        "github-pages",
        "dist",
        "--deploy",
        code=8,
        words=("gh CLI", "gh workflow run sitegen-pages.yml"),
    )


def test_deploy_static_has_no_host_cli(run_cli, in_repo):
    _unchanged(run_cli, in_repo, "static", "dist", "--deploy", code=8, words=("upload",))


def test_deploy_runs_the_netlify_cli(run_cli, in_repo, monkeypatch, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "netlify-args"
    fake = bin_dir / "netlify"
    fake.write_text(f'#!/bin/sh\necho "$@" > {log}\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    result = run_cli("publish", "netlify", "dist", "--generate-dir", "_site", "--deploy")
    assert result.code == 0, result.err
    assert log.read_text().split() == ["deploy", "--prod", "--dir", "_site"]


def _get(url: str) -> tuple[int, dict]:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


def test_serve_as_github_pages_and_as_netlify(run_cli, in_repo):
    from sitegen.site.serve import serve_in_thread

    assert run_cli("publish", "netlify", "dist", "--generate-dir", "_site").code == 0
    server, url = serve_in_thread(
        in_repo / "_site", as_host=Host.github_pages, prefix="/some-repo/"
    )
    try:
        assert url.endswith("/some-repo/")
        status, headers = _get(url)
        assert status == 200 and "Cross-Origin-Opener-Policy" not in headers
        assert not {"Cross-Origin-Embedder-Policy", "Permissions-Policy"} & set(headers)
        assert _get(url.replace("/some-repo/", "/"))[0] == 404  # only under the sub-path
    finally:
        server.shutdown()
        server.server_close()
    server, url = serve_in_thread(in_repo / "_site", as_host=Host.netlify)
    try:
        status, headers = _get(url + "config.json")
        rules = dict(host_header_rules())
        for name, value in {**rules["/*"], **rules["/config.json"]}.items():
            assert headers[name] == value, name
        assert _get(url + "vendor/tfjs/tf.js")[1]["Cache-Control"] != "no-cache"
    finally:
        server.shutdown()
        server.server_close()


def test_serve_as_netlify_needs_the_published_headers(run_cli, tmp_path):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<p>x</p>")
    result = run_cli("serve", tmp_path / "site", "--as", "netlify", "--port", "0")
    assert result.code == 6 and "sitegen publish netlify" in result.error_line


def test_the_repositorys_own_deploys_use_the_users_commands():
    root = Path(__file__).resolve().parents[2]
    text = (root / ".github" / "workflows" / "sitegen-pages.yml").read_text()
    assert text.startswith("# Written by sitegen publish github-pages")
    steps = yaml.safe_load(text)["jobs"]["build"]["steps"]
    runs = [s["run"].strip() for s in steps if "run" in s]
    assert "sitegen build models/default --out dist --verify" in runs
    assert "sitegen publish github-pages dist --generate-dir _site --no-workflow" in runs
    netlify = (root / "netlify.toml").read_text()
    assert "sitegen publish netlify dist --generate-dir _netlify" in netlify
