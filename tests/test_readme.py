"""The README's quick-start outputs are what their commands print now (tools/quickstart.py made them)."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("quickstart", ROOT / "tools" / "quickstart.py")
quickstart = importlib.util.module_from_spec(spec)
spec.loader.exec_module(quickstart)


def test_every_task_has_a_quick_start_output():
    blocks = quickstart.blocks(quickstart.README.read_text(encoding="utf-8"))
    assert sorted(block["command"].split()[1] for block in blocks) == ["sentiment", "textgen", "translate"]
    assert all(block["shown"].startswith(f"```console\n$ {block['command']}\n") for block in blocks)


def test_the_quick_start_outputs_are_what_the_installed_models_print():
    for block in quickstart.blocks(quickstart.README.read_text(encoding="utf-8")):
        assert quickstart.same(block["shown"], quickstart.shown(block["command"])), block["command"]


def test_outputs_are_the_same_within_the_stated_tolerance_only():
    assert quickstart.same("pos\t0.998\tGood.", "pos\t0.997\tGood.")
    assert not quickstart.same("pos\t0.998\tGood.", "pos\t0.990\tGood.")
    assert not quickstart.same("pos\t0.998\tGood.", "neg\t0.998\tGood.")
    assert not quickstart.same("the will to power", "the will to live")
