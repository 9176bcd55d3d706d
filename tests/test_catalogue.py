"""Installed models by name (lstmkit/catalogue.py): a catalogue package found through its entry point,
its files checked against their sha256, and every command that reads a run taking the name."""

import hashlib
import json
import shutil
import sys

import pytest

import lstmkit
from lstmkit import catalogue
from lstmkit.cli.serve import default_runs
from lstmkit.errors import RunError

RUN_FILES = ("config.json", "vocab.json", "model.safetensors", "history.jsonl")


def _install_catalogue(site, runs: dict, defaults=()):
    """A package `my_models` with catalogue.json and the given runs (name -> run folder), and the
    distribution metadata that declares it under the `lstmkit.models` entry-point group."""
    package, entries = site / "my_models", []
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    for name, run in runs.items():
        shutil.copytree(run, package / name, ignore=lambda folder, names: [n for n in names if n not in RUN_FILES])
        (package / name / catalogue.CARD).write_text(f"# {name}\n\nA card.\n")
        files = {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in (package / name).iterdir()}
        task = json.loads((run / "config.json").read_text())["task"]
        entries.append({"name": name, "task": task, "path": name, "summary": f"{name} for tests",
                        "metric": {"name": "m", "value": 0.5}, "licence": "test data", "files": files,
                        "default": name in defaults})
    (package / catalogue.INDEX).write_text(json.dumps({"models": entries}))
    info = site / "my_models-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: my-models\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[{catalogue.GROUP}]\nmine = my_models\n")
    return package


@pytest.fixture
def installed(trained_runs, tmp_path, monkeypatch):
    """The small trained runs installed as models named tiny-<task>; tiny-sentiment is a default."""
    package = _install_catalogue(tmp_path / "site", {f"tiny-{task}": run for task, run in trained_runs.items()},
                                 defaults=("tiny-sentiment", "tiny-textgen"))
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.delitem(sys.modules, "my_models", raising=False)  # another test's package of the same name
    monkeypatch.chdir(tmp_path)  # no folder named like a model here
    catalogue.catalogue.cache_clear()
    catalogue._checked.clear()
    yield package
    catalogue.catalogue.cache_clear()


def test_a_name_loads_the_installed_run_as_its_path_does(installed, trained_runs):
    by_name = lstmkit.load("tiny-sentiment")
    by_path = lstmkit.load(trained_runs["sentiment"])
    text = ["a fine film"]
    assert by_name.predict(text)[0]["probabilities"] == by_path.predict(text)[0]["probabilities"]
    assert "".join(lstmkit.load("tiny-textgen").generate("the ", 5, seed=1)) == \
        "".join(lstmkit.load(trained_runs["textgen"]).generate("the ", 5, seed=1))


def test_models_lists_and_prints_cards(installed, run_cli):
    code, out, _ = run_cli("models", "--json")
    listed = {model["name"]: model for model in json.loads(out)}
    assert code == 0 and set(listed) >= {"tiny-sentiment", "tiny-textgen", "tiny-translate"}
    assert listed["tiny-sentiment"]["task"] == "sentiment" and listed["tiny-sentiment"]["default"]
    assert listed["tiny-sentiment"]["bytes"] > 0
    code, out, _ = run_cli("models")
    assert code == 0 and "tiny-translate" in out and "tiny-sentiment *" in out
    code, out, _ = run_cli("models", "tiny-textgen")
    assert code == 0 and out == "# tiny-textgen\n\nA card.\n"


def test_commands_take_a_name(installed, run_cli):
    code, out, _ = run_cli("sentiment", "predict", "tiny-sentiment", "--json", "a fine film")
    assert code == 0 and json.loads(out)[0]["label"] in ("neg", "pos")
    code, out, _ = run_cli("textgen", "sample", "tiny-textgen", "--seed-text", "the ", "--length", "8")
    assert code == 0 and len(out) >= 8
    code, out, _ = run_cli("translate", "run", "tiny-translate", "one two")
    assert code == 0 and out.count("\n") == 1  # one translation (the tiny model may say nothing)


def test_a_changed_byte_is_one_error_naming_the_file(installed, run_cli):
    weights = installed / "tiny-sentiment" / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1
    weights.write_bytes(bytes(data))
    code, out, err = run_cli("sentiment", "predict", "tiny-sentiment", "a film")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and str(weights) in err and "damaged" in err
    with pytest.raises(RunError, match="model.safetensors: damaged"):
        lstmkit.load("tiny-sentiment")


def test_a_missing_file_is_named(installed):
    (installed / "tiny-textgen" / "vocab.json").unlink()
    with pytest.raises(RunError, match="vocab.json: missing from the installed model tiny-textgen"):
        lstmkit.load("tiny-textgen")


def test_a_folder_that_exists_wins_over_a_name(installed, trained_runs, tmp_path):
    shutil.copytree(trained_runs["textgen"], tmp_path / "tiny-sentiment")  # a textgen run under a model's name
    assert catalogue.located("tiny-sentiment") == "tiny-sentiment"
    assert lstmkit.load("tiny-sentiment").__class__.__name__ == "TextGenerator"


def test_serve_without_runs_serves_one_default_of_each_task(installed):
    tasks = [catalogue.named(name).task for name in default_runs()]
    assert "sentiment" in tasks and len(tasks) == len(set(tasks))
    assert all(catalogue.named(name).default for name in default_runs())


def test_an_unknown_name_says_what_is_installed(installed):
    with pytest.raises(RunError, match="no installed model is named 'nope'; installed: .*tiny-sentiment"):
        catalogue.named("nope")


def test_demo_samples_from_the_installed_char_model_without_training(installed, run_cli):
    code, out, err = run_cli("demo", "--length", 20, "--quiet")
    default = next(model for model in catalogue.defaults() if model.task == "textgen")
    assert code == 0, err
    assert out.startswith(f"The installed char model {default.name}: ") and "Training" not in out
    assert out.count("--- temperature") == 3
    assert "serve" in out and "demo --out runs/demo" in out  # how to serve them, and how to train one's own


def test_a_broken_catalogue_package_is_one_error_naming_it(installed, run_cli):
    (installed / "__init__.py").write_text("raise ImportError('half installed')\n")
    code, out, err = run_cli("models")
    assert code == 2 and out == ""
    assert err == ("lstmkit: error: the model catalogue my_models (entry point mine of lstmkit.models) cannot be "
                   "imported: ImportError: half installed\n")
