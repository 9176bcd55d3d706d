"""Hostile and damaged run directories: every command that loads a run answers one line naming
the file and what is wrong, with exit code 2, and never unpickles anything but tensors."""

import json
import pickle
import shutil

import pytest
import torch
from safetensors.torch import load_file, save_file

from lstmkit.cli import main


TASKS = ["sentiment", "textgen", "translate"]


@pytest.fixture(scope="module")
def trained(trained_runs):
    """One small finished run per task: task -> its folder (copy it before damaging it)."""
    return trained_runs


def loading_commands(task, run, commands, inputs) -> list[list[str]]:
    """Every command of `task` that loads the run directory `run`."""
    run = str(run)
    train_again = [*map(str, commands[task]), "--out", run, "--resume", "--epochs", "3", "--quiet"]
    return {
        "sentiment": [["sentiment", "predict", run, "a good film"],
                      ["sentiment", "evaluate", run, "--data", str(inputs["sentiment"])], train_again],
        "textgen": [["textgen", "sample", run, "--length", "5"],
                    ["textgen", "evaluate", run, "--text", str(inputs["textgen"])], train_again],
        "translate": [["translate", "run", run, "one two."], ["translate", "evaluate", run], train_again],
    }[task]


@pytest.fixture(scope="module")
def inputs(commands):
    return {"sentiment": commands["sentiment"][commands["sentiment"].index("--data") + 1],
            "textgen": commands["textgen"][commands["textgen"].index("--text") + 1]}


class Marker:
    """Unpickling it creates a file: a stand-in for code a hostile file would run."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def pickle_bomb(path, marker) -> None:
    with open(path, "wb") as handle:
        pickle.dump({"weights": Marker(marker)}, handle)


def damage_config(run, change) -> None:
    saved = json.loads((run / "config.json").read_text(encoding="utf-8"))
    change(saved)
    (run / "config.json").write_text(json.dumps(saved), encoding="utf-8")


def rewrite_weights(run, name, change) -> None:
    tensors = load_file(run / name)
    change(tensors)
    save_file(tensors, run / name)


def first_key(tensors) -> str:
    return sorted(tensors)[0]


def truncate(path) -> None:
    path.write_bytes(path.read_bytes()[:300])


# how each case damages a run -> (the file the message must name, which commands load it: the ones
# that use the model, --resume, or both)
DAMAGE = {
    "truncated weights": ("model.safetensors", "use", lambda run: truncate(run / "model.safetensors")),
    "weights of the wrong shape": ("model.safetensors", "use", lambda run: rewrite_weights(
        run, "model.safetensors", lambda t: t.update({first_key(t): torch.zeros(3, 1)}))),
    "weights of the wrong dtype": ("model.safetensors", "use", lambda run: rewrite_weights(
        run, "model.safetensors", lambda t: t.update({key: value.double() for key, value in t.items()}))),
    "a weight missing": ("model.safetensors", "use", lambda run: rewrite_weights(
        run, "model.safetensors", lambda t: t.pop(first_key(t)))),
    "truncated last weights": ("last.safetensors", "resume", lambda run: truncate(run / "last.safetensors")),
    "truncated trainer state": ("trainer.pt", "resume", lambda run: truncate(run / "trainer.pt")),
    "config.json not JSON": ("config.json", "both", lambda run: (run / "config.json").write_text("{'task': ")),
    "a config value of the wrong type": ("config.json", "both", lambda run: damage_config(
        run, lambda saved: saved["config"].update(epochs="many"))),
    "a config value outside its declared limit": ("config.json", "both", lambda run: damage_config(
        run, lambda saved: saved["config"].update(batch_size=0))),
    "a config word outside its declared choices": ("config.json", "both", lambda run: damage_config(
        run, lambda saved: saved["config"].update(optimizer="sgd"))),
    "an unknown config key": ("config.json", "both", lambda run: damage_config(
        run, lambda saved: saved["config"].update(flux_capacitor=1.21))),
    "the config missing": ("config.json", "both", lambda run: damage_config(run, lambda saved: saved.pop("config"))),
    "a newer format": ("config.json", "both", lambda run: damage_config(run, lambda saved: saved.update(format=99))),
    "vocab.json not JSON": ("vocab.json", "both", lambda run: (run / "vocab.json").write_bytes(b"\xff\xfe garbage")),
    "a vocabulary of the wrong shape": ("vocab.json", "both", lambda run: (run / "vocab.json").write_text("[1, 2]")),
}


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("case", list(DAMAGE))
def test_a_damaged_run_is_one_line_naming_the_file_with_exit_code_2(task, case, trained, commands, inputs, tmp_path,
                                                                    capfd):
    run = tmp_path / "run"
    shutil.copytree(trained[task], run)
    name, loaders, damage = DAMAGE[case]
    damage(run)
    every = loading_commands(task, run, commands, inputs)
    for command in {"use": every[:-1], "resume": every[-1:], "both": every}[loaders]:
        code = main(command)
        errors = capfd.readouterr().err
        assert code == 2, (command, errors)
        assert errors.count("\n") == 1 and errors.startswith("lstmkit: error: ") and "Traceback" not in errors
        assert str(run / name) in errors, (command, errors)


@pytest.mark.parametrize("task", TASKS)
def test_pickles_in_a_run_are_never_unpickled(task, trained, commands, inputs, tmp_path, capfd):
    marker = tmp_path / "unpickled"
    for name in ("model.safetensors", "last.safetensors", "trainer.pt", "config.json", "vocab.json"):
        run = tmp_path / name
        shutil.copytree(trained[task], run)
        pickle_bomb(run / name, marker)
        for command in loading_commands(task, run, commands, inputs):
            main(command)
            assert not marker.exists(), (name, command)
        errors = capfd.readouterr().err
        assert "Traceback" not in errors


@pytest.mark.parametrize("task", TASKS)
def test_a_run_of_another_task_is_refused(task, trained, commands, inputs, capfd):
    other = trained["textgen" if task != "textgen" else "sentiment"]
    for command in loading_commands(task, other, commands, inputs)[:-1]:  # --resume: another task's folder, below
        assert main(command) == 2
        errors = capfd.readouterr().err
        assert errors.count("\n") == 1 and "run, not a" in errors


def test_resuming_into_another_tasks_run_is_refused(trained, commands, train_cli):
    code, _, errors = train_cli(commands["sentiment"], trained["textgen"], "--resume")
    assert code == 2 and "holds a 'textgen' run, not a sentiment one" in errors


def test_weights_stored_in_bfloat16_load_as_the_models_float32(trained_runs, tmp_path):
    """lstmkit-models stores its largest model's weights in bfloat16 (half the size): they load as the
    float32 model they round to; a float64 tensor is still refused."""
    import lstmkit

    run = tmp_path / "run"
    shutil.copytree(trained_runs["textgen"], run)
    weights = load_file(run / "model.safetensors")
    save_file({key: value.bfloat16() for key, value in weights.items()}, run / "model.safetensors")
    model = lstmkit.load(run).model
    for key, value in model.state_dict().items():
        assert value.dtype == torch.float32 and torch.equal(value, weights[key].bfloat16().float())
    save_file({key: value.double() for key, value in weights.items()}, run / "model.safetensors")
    with pytest.raises(Exception, match="does not fit the run's model"):
        lstmkit.load(run)
