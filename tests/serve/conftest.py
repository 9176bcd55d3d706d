"""Runs to serve: the suite's small runs of each task, and a translation run with attention."""

import pytest

from lstmkit.cli import main


@pytest.fixture(scope="session")
def served_runs(trained_runs, commands, tmp_path_factory):
    attention = tmp_path_factory.mktemp("served") / "attention"
    # long enough to translate into words (about 4 s), so that the page shows a translation
    assert main([str(arg) for arg in [*commands["translate"], "--attention", "--epochs", 8, "--hidden", 32,
                                      "--embedding-dim", 16, "--lr", 0.01, "--patience", 100, "--out", attention,
                                      "--quiet"]]) == 0
    return {**trained_runs, "attention": attention}
