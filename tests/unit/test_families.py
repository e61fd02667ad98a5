"""The model families are one table (``sitegen.model.families.FAMILIES``): each row must point at
a module and functions that exist, and the post-processing modes it names must be the contract's
and the page's, so a new family cannot be half-added."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import typing
from pathlib import Path

import pytest

from sitegen import contract
from sitegen.model.families import FAMILIES, family_for

REPO = Path(__file__).resolve().parents[2]
FAMILY_FOLDER = REPO / "sitegen" / "model" / "families"
CONTRACT_JS = REPO / "assets" / "js" / "contract.js"
FUNCTION_FIELDS = ("recognise", "cut", "reference", "labels", "saved_model_beside")


def page_modes() -> set[str]:
    """The modes the page post-processes: the keys of contract.js's OUTPUTS_FOR (node imports
    the module where it can; otherwise the object literal is read)."""
    node = shutil.which("node")
    if node is not None:
        script = (
            f"import({json.dumps(CONTRACT_JS.as_uri())})"
            ".then((m) => process.stdout.write(JSON.stringify(Object.keys(m.OUTPUTS_FOR))))"
        )
        done = subprocess.run(
            [node, "--input-type=module", "-e", script], capture_output=True, text=True, check=True
        )
        return set(json.loads(done.stdout))
    literal = re.search(r"OUTPUTS_FOR = Object\.freeze\(\{([^}]*)\}", CONTRACT_JS.read_text())
    assert literal, "OUTPUTS_FOR not found in contract.js"
    return set(re.findall(r"(\w+):", literal.group(1)))


def test_each_family_is_named_once_and_has_its_module():
    names = [family.name for family in FAMILIES]
    assert len(names) == len(set(names))
    for name in names:
        assert (FAMILY_FOLDER / f"{name}.py").is_file(), f"no sitegen/model/families/{name}.py"


def test_each_function_the_table_names_exists():
    for family in FAMILIES:
        for field in FUNCTION_FIELDS:
            if getattr(family, field) is not None:
                assert callable(family.function(field)), f"{family.name}.{field}"


def test_every_contract_mode_is_used_by_a_family():
    used = {mode for family in FAMILIES for mode in family.postprocess}
    assert used == set(typing.get_args(contract.Postprocess))


def test_every_family_mode_is_one_the_page_handles():
    handled = page_modes()
    for family in FAMILIES:
        assert family.postprocess, f"{family.name} names no post-processing mode"
        assert set(family.postprocess) <= handled, family.name


def test_families_sharing_a_mode_share_its_reference():
    # family_for answers with the first family that names a mode; that is right only while
    # every family naming it is verified against the same reference.
    for family in FAMILIES:
        for mode in family.postprocess:
            assert family_for(mode).reference == family.reference, (family.name, mode)
    with pytest.raises(ValueError):
        family_for("no-such-mode")


def test_no_module_spells_the_yolo_mode_outside_the_families_and_contract():
    # Dispatch on the family goes through the table or the family's module.
    allowed = {REPO / "sitegen" / "contract.py", *FAMILY_FOLDER.glob("*.py")}
    spelled = [
        path.relative_to(REPO).as_posix()
        for path in (REPO / "sitegen").rglob("*.py")
        if path not in allowed and re.search(r"postprocess\s*[!=]=\s*\"yolo\"", path.read_text())
    ]
    assert spelled == [], spelled
