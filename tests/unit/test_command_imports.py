"""Commands are thin orchestrations of stages: no module of sitegen/commands imports another one
(what two commands share is a stage, such as sitegen.build or sitegen.eval.accuracy)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

COMMANDS = Path(__file__).resolve().parents[2] / "sitegen" / "commands"


def _imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            names |= {f"{module}.{alias.name}" for alias in node.names} | {module}
    return names


@pytest.mark.parametrize("path", sorted(COMMANDS.glob("*.py")), ids=lambda p: p.name)
def test_a_command_imports_no_other_command(path):
    commands = [n for n in _imported(path) if n.startswith(("sitegen.commands", "."))]
    assert not commands, f"{path.name} imports {commands}: share a stage instead"
