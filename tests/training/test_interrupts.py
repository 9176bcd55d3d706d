"""Ctrl-C and SIGTERM (training/interrupts.py): noted by one handler, training stops at a step end
or after the epoch it is saving, exit 130 / 143 with one line, and --resume ends where an
uninterrupted run ends.

The signals are raised from inside the code (signal.raise_signal runs the handler there and then),
so each test knows exactly where its signal lands; tests/training/test_signal_drills.py sends real
signals from outside at random moments."""

import signal
import subprocess
import sys
import weakref

import pytest
import torch
from safetensors.torch import load_file

from lstmkit.training import recipe  # every task's train() calls fit() from here
from lstmkit.training import loop
from lstmkit.training.run import LAST, RunDirectory


EPOCHS = 3


@pytest.fixture(autouse=True)
def ctrl_c_not_ignored():
    """SIGINT as in a terminal: a shell that starts the suite in the background (CI may) ignores it,
    and the command leaves a signal ignored that it was started with ignored."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def as_in_a_terminal() -> None:
    """preexec_fn for a command started by a test: SIGINT back to its default (see above)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def signal_in_fit(monkeypatch, task: str, where: str, epoch: int, signals=(signal.SIGINT,)) -> None:
    """Makes the task's training raise `signals` in this process at `where` of epoch `epoch`:
    "a step" (the third of the epoch), "validation" (its first forward pass), "saving" (after the
    epoch's weights are written, before the trainer state) or "plotting" (in a weakref finalizer,
    where a raised KeyboardInterrupt used to be swallowed and training ran on)."""
    original_fit, validations = recipe.fit, []

    def send():
        for signum in signals:
            signal.raise_signal(signum)

    def batches_with_a_signal(batches, number):
        for index, batch in enumerate(batches(number)):
            if number == epoch and index == 2:
                send()
            yield batch

    def validate_with_a_signal(validate, model):
        validations.append(model)
        if len(validations) != epoch:
            return validate(model)
        def signal_once(*_):  # returns None: the output stays as it is
            hook.remove()
            send()

        hook = torch.nn.modules.module.register_module_forward_hook(signal_once)
        try:
            return validate(model)
        finally:
            hook.remove()

    def fit(model, optimizer, **kwargs):
        batches, validate = kwargs["batches"], kwargs["validate"]
        if where == "a step":
            kwargs["batches"] = lambda number: batches_with_a_signal(batches, number)
        elif where == "validation":
            kwargs["validate"] = lambda model: validate_with_a_signal(validate, model)
        return original_fit(model, optimizer, **kwargs)

    if where == "saving":
        save_trainer = RunDirectory.save_trainer

        def save_trainer_with_a_signal(self, state):
            if state["epoch"] == epoch:
                send()
            save_trainer(self, state)

        monkeypatch.setattr(RunDirectory, "save_trainer", save_trainer_with_a_signal)
    elif where == "plotting":
        plot_curves = loop.plot_curves

        def plot_with_a_finalizer(history, path):
            holder = type("Holder", (), {})()
            if len(history) == epoch:
                weakref.finalize(holder, send)
            del holder  # the finalizer runs here
            plot_curves(history, path)

        monkeypatch.setattr(loop, "plot_curves", plot_with_a_finalizer)
    monkeypatch.setattr(recipe, "fit", fit)


def assert_same_last_weights(first, second) -> None:
    first, second = load_file(first / LAST), load_file(second / LAST)
    assert first.keys() == second.keys()
    for key in first:
        assert torch.equal(first[key], second[key]), key


def assert_stopped(code, errors, run, epochs_kept, exit_code=130, validated=None) -> None:
    """Exit code, one line saying what was kept and how to resume, and the run holding just that
    (`validated` epochs in the history: all kept ones unless said)."""
    assert code == exit_code, errors
    assert "Traceback" not in errors and "Exception ignored" not in errors
    assert errors.count("\n") == 1, errors
    assert errors.startswith(f"lstmkit: interrupted; the last completed epoch ({epochs_kept}) is saved in {run}; "
                             "continue with: lstmkit "), errors
    assert errors.endswith(" --resume\n")
    assert len(RunDirectory(run).load_history()) == (epochs_kept if validated is None else validated)
    assert RunDirectory(run).trained_epochs() == epochs_kept
    assert not list(run.glob(".*.tmp"))


@pytest.fixture(scope="module")
def uninterrupted(commands, tmp_path_factory):
    """Each task trained for EPOCHS epochs without a signal: task -> its run directory."""
    from lstmkit.cli import main

    folder = tmp_path_factory.mktemp("uninterrupted")
    runs = {}
    for task, command in commands.items():
        runs[task] = folder / task
        assert main([str(arg) for arg in [*command, "--epochs", EPOCHS, "--batch-size", 8, "--out", runs[task],
                                          "--quiet"]]) == 0
    return runs


# where the signal lands -> (its epoch, the epochs then kept)
LANDINGS = {"a step": (2, 1), "validation": (2, 2), "saving": (1, 1), "plotting": (2, 2)}


@pytest.mark.parametrize("task", ["sentiment", "textgen", "translate"])
@pytest.mark.parametrize("where", list(LANDINGS))
def test_a_ctrl_c_stops_training_where_nothing_is_lost_and_resume_ends_as_an_uninterrupted_run(task, where, commands,
                                                                                               uninterrupted, tmp_path,
                                                                                               monkeypatch, train_cli):
    epoch, kept = LANDINGS[where]
    command, run = [*commands[task], "--epochs", EPOCHS, "--batch-size", 8], tmp_path / "run"
    signal_in_fit(monkeypatch, task, where, epoch)
    code, _, errors = train_cli(command, run)
    assert_stopped(code, errors, run, kept)
    monkeypatch.undo()
    code, _, errors = train_cli(command, run, "--resume")
    assert code == 0, errors
    assert [row["epoch"] for row in RunDirectory(run).load_history()] == list(range(1, EPOCHS + 1))
    assert_same_last_weights(run, uninterrupted[task])


def test_sigterm_stops_like_ctrl_c_with_exit_code_143(commands, uninterrupted, tmp_path, monkeypatch, train_cli):
    command, run = [*commands["textgen"], "--epochs", EPOCHS, "--batch-size", 8], tmp_path / "run"
    signal_in_fit(monkeypatch, "textgen", "a step", 2, signals=(signal.SIGTERM,))
    code, _, errors = train_cli(command, run)
    assert_stopped(code, errors, run, 1, exit_code=143)


def test_a_second_ctrl_c_stops_at_once_and_the_run_still_loads_and_resumes(commands, uninterrupted, tmp_path,
                                                                           monkeypatch, train_cli):
    command, run = [*commands["sentiment"], "--epochs", EPOCHS, "--batch-size", 8], tmp_path / "run"
    signal_in_fit(monkeypatch, "sentiment", "validation", 2, signals=(signal.SIGINT, signal.SIGINT))
    code, _, errors = train_cli(command, run)
    assert_stopped(code, errors, run, 2, validated=1)  # stopped in epoch 2's validation: trained, not validated
    from lstmkit.tasks.sentiment import load

    load(run)
    monkeypatch.undo()
    assert train_cli(command, run, "--resume")[0] == 0
    assert_same_last_weights(run, uninterrupted["sentiment"])


def test_a_ctrl_c_outside_training_stops_the_command_at_once(uninterrupted, capfd, monkeypatch):
    from lstmkit.cli import main
    from lstmkit.tasks import textgen

    sample = textgen.TextGenerator.sample

    def sample_then_ctrl_c(self, *args, on_text=None, **kwargs):
        return sample(self, *args, **kwargs, on_text=lambda text: (on_text(text), signal.raise_signal(signal.SIGINT)))

    monkeypatch.setattr(textgen.TextGenerator, "sample", sample_then_ctrl_c)
    code = main(["textgen", "sample", str(uninterrupted["textgen"]), "--length", "50"])
    output, errors = capfd.readouterr()
    assert code == 130 and errors == "lstmkit: interrupted\n"
    assert output.startswith(textgen.LECTURE_SEED) and len(output) < len(textgen.LECTURE_SEED) + 20  # one piece


# A program in which a KeyboardInterrupt is raised inside a weakref finalizer, where Python swallows
# it: the command ends all the same, with its message and exit code, and no "Exception ignored".
SWALLOWED = """
import signal, sys, weakref
from lstmkit.training import interrupts

def said():
    print("stopped: " + str(interrupts.received()), file=sys.stderr)
    return interrupts.exit_code()

with interrupts.handled(on_lost=said):
    holder = type("Holder", (), {})()
    weakref.finalize(holder, signal.raise_signal, signal.SIGTERM)
    del holder
    print("ran on")
"""


def test_an_interrupt_swallowed_in_a_finalizer_still_ends_the_command():
    done = subprocess.run([sys.executable, "-c", SWALLOWED], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (143, "", f"stopped: {int(signal.SIGTERM)}\n")


def test_a_signal_while_the_command_starts_stops_it_before_it_begins(tmp_path):
    # the signal is raised as the command module is imported (torch loading), before main() runs
    program = ("import signal, sys; from lstmkit.training import interrupts; interrupts.install(); "
               "signal.raise_signal(signal.SIGINT); from lstmkit.cli import main; "
               f"sys.exit(main(['sentiment', 'train', '--data', 'x', '--out', {str(tmp_path / 'run')!r}]))")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60,
                          preexec_fn=as_in_a_terminal)
    assert done.returncode == 130
    assert done.stderr.startswith(f"lstmkit: interrupted before the first epoch completed; nothing trained is saved "
                                  f"in {tmp_path / 'run'}; continue with: lstmkit sentiment train")
    assert not (tmp_path / "run").exists()
