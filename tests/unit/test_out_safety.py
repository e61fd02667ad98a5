"""--out never replaces a folder holding the user's files that sitegen must not touch: the input
model (or a folder inside or above it), the current folder or one above it, home, a git work
tree's root; with or without --force. --force on another folder moves its contents aside."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.support import tree_digest


@pytest.fixture
def workspace(tmp_path, monkeypatch) -> Path:
    """A user's downloaded export in downloads/model, and home/work/project/ with notes, where the shell
    is."""
    home = tmp_path / "home"
    project = home / "work" / "project"
    model = tmp_path / "downloads" / "model"
    (model / "saved_model" / "variables").mkdir(parents=True)
    (model / "saved_model" / "saved_model.pb").write_bytes(b"\x08\x01 not really a graph")
    (model / "saved_model" / "variables" / "variables.index").write_bytes(b"\x00" * 16)
    (model / "labelmap.pbtxt").write_text("item { id: 1 name: 'raccoon' }\n")
    project.mkdir(parents=True)
    (project / "notes.md").write_text("my notes")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(project)
    return tmp_path


def _refused(run_cli, root: Path, *args: str) -> str:
    before = tree_digest(root)
    result = run_cli("build", *args)
    assert result.code == 6, result.err
    assert tree_digest(root) == before, "a file changed"
    assert not [p for p in root.rglob("*") if ".staging-" in p.name or ".previous" in p.name]
    return result.error_line


@pytest.mark.parametrize("force", [False, True], ids=["plain", "force"])
@pytest.mark.parametrize(
    ("model", "out", "words"),
    [
        ("model", "model", "holds the input model"),
        ("model", "model/saved_model", "is part of the input model"),
        ("model/saved_model", "model", "holds the input model"),
        ("model", "downloads", "holds the input model"),
        ("model", ".", "is the current folder"),
        ("model", "~", "is your home folder"),
        ("model", "..", "holds the current folder"),
    ],
    ids=["model", "inside-model", "model-folder", "model-parent", "cwd", "home", "cwd-parent"],
)
def test_out_that_holds_the_users_files_is_refused(run_cli, workspace, model, out, words, force):
    downloads = workspace / "downloads"
    model = str(downloads / model)
    out = {"~": str(Path.home()), "downloads": str(downloads)}.get(out, out)
    if out.startswith("model"):
        out = str(downloads / out)
    line = _refused(run_cli, workspace, model, "--out", out, *(["--force"] if force else []))
    assert words in line and "not even with --force" in line and "--out dist" in line


@pytest.mark.parametrize("force", [False, True], ids=["plain", "force"])
def test_git_work_tree_root_is_refused(run_cli, workspace, tmp_path, force):
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "README.md").write_text("a repository")
    model = str(workspace / "downloads" / "model")
    line = _refused(run_cli, workspace, model, "--out", str(repo), *(["--force"] * force))
    assert "root of a git work tree" in line


@pytest.mark.tensorflow
def test_force_on_a_foreign_folder_moves_it_aside(run_cli, tmp_path, tiny_tf2):
    out = tmp_path / "dist"
    out.mkdir()
    (out / "old.txt").write_text("precious")
    (tmp_path / "dist.previous-1").mkdir()  # taken: the next free number is used
    before = tree_digest(out)
    result = run_cli("build", tiny_tf2, "--out", out, "--force")
    assert result.code == 0, result.err
    assert tree_digest(tmp_path / "dist.previous-2") == before
    assert f"now in {tmp_path / 'dist.previous-2'}" in result.err
    assert json.loads((out / "config.json").read_text())["schema"] == 1
    # A rebuild replaces sitegen's own output without setting anything aside.
    assert run_cli("build", tiny_tf2, "--out", out, "--force").code == 0
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("dist")) == [
        "dist",
        "dist.previous-1",
        "dist.previous-2",
    ]
