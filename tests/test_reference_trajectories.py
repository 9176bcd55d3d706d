"""No behaviour change: short seeded runs of each task give the numbers recorded in
tests/data/reference_trajectories.json: every epoch's training and held-out values, and what the
trained run then predicts, samples and translates.

Two strengths of comparison, chosen by the machine:
- **Exact** on the machine that recorded the file (same CPU, same torch, same thread count, no
  kernel-choosing environment variable: `machine()` below): every value to the last bit, so a
  refactor there proves that not one bit changed.
- **Within tolerance** anywhere else: oneDNN and ATen pick kernels by the CPU's instruction set, so
  the last bits of a float32 sum differ between machines (2e-7 relative after these short runs on
  an AVX-512 machine against an AVX2 one). Floats then agree to `RELATIVE`; integers, labels, epochs,
  best epochs and every text exactly. The texts can be held exactly because the recording checked
  that each one has a margin: the same answers come out of the trained weights scaled by 1 ± 1e-4
  (`PERTURBATION`, 500x the kernels' difference), so a kernel's last bit cannot flip a sampled
  character, a beam or a label.

A failure in either mode means the code now trains or decodes differently: another initialisation,
order of batches, formula or sampling rule. A change of behaviour that is meant is recorded anew
(on any machine; the file then names that machine as the exact one):
`LSTMKIT_RECORD_REFERENCE=1 .venv/bin/python -m pytest -q tests/test_reference_trajectories.py`.
"""

import json
import math
import os
import platform
import shutil
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from lstmkit.cli import main
from lstmkit.training.run import RunDirectory

REFERENCE = Path(__file__).parent / "data" / "reference_trajectories.json"
TIMINGS = {"seconds", "val_seconds"}  # wall-clock: the only values that may differ
SEEDS = (0, 7)
# float32 carries 7 digits; kernels that sum in another order move these values by at most a few
# 1e-7 after the short runs; a behaviour change moves them by 1e-3 or more. 1e-5 sits between.
RELATIVE = 1e-5
ABSOLUTE = 1e-7  # for values near 0 (probabilities, chrF of an untrained model)
PERTURBATION = 1e-4
# environment variables that make ATen or oneDNN choose other kernels on the same CPU
KERNEL_SETTINGS = ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA", "ONEDNN_DEFAULT_FPMATH_MODE",
                   "MKL_CBWR", "MKL_ENABLE_INSTRUCTIONS", "LSTMKIT_STEP_LOOPS")


def machine() -> dict:
    """What decides the bits of a float32 result here: the CPU, torch, the threads, kernel settings."""
    cpu = {}
    if Path("/proc/cpuinfo").is_file():
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("vendor_id", "cpu family", "model", "model name", "flags", "cache size") and key not in cpu:
                cpu[key.strip()] = value.strip()
    return {"torch": torch.__version__, "capability": torch.backends.cpu.get_cpu_capability(),
            "architecture": platform.machine(), "threads": torch.get_num_threads(), "cpu": cpu,
            "settings": {name: os.environ[name] for name in KERNEL_SETTINGS if name in os.environ}}


def use_commands(task: str, run: Path) -> list[list[str]]:
    """What each task's trained run is asked after training; the answers go into the reference."""
    return {
        "sentiment": [["sentiment", "predict", run, "--json", "a good great film", "dull and awful", "the plot"]],
        "textgen": [["textgen", "sample", run, "--json", "--seed", 3, "--length", 60, "--num", 2, "--temperature", 0.7,
                     "--seed-text", "the "],
                    ["textgen", "sample", run, "--json", "--seed", 3, "--length", 40, "--top-p", 0.8]],
        "translate": [["translate", "run", run, "--json", "one two three.", "nine.", "five four"],
                      ["translate", "run", run, "--json", "--beam", 3, "one two three.", "seven eight"]],
    }[task]


def answers(task: str, run: Path, capsys) -> list:
    found = []
    for command in use_commands(task, run):
        assert main([str(arg) for arg in command]) == 0
        found.append(json.loads(capsys.readouterr().out))
    return found


def trajectory(task: str, seed: int, commands, folder: Path, capsys) -> tuple[dict, Path]:
    run = folder / f"{task}-{seed}"
    assert main([str(arg) for arg in [*commands[task], "--seed", seed, "--out", run, "--quiet"]]) == 0
    capsys.readouterr()
    epochs = [{key: value for key, value in row.items() if key not in TIMINGS}
              for row in RunDirectory(run).load_history()]
    return {"epochs": epochs, "answers": answers(task, run, capsys)}, run


def perturbed(run: Path, sign: float, folder: Path) -> Path:
    """A copy of `run` whose best weights are scaled by 1 ± PERTURBATION, the sign varying by element."""
    copy = folder / f"{run.name}-perturbed{sign:+.0f}"
    shutil.copytree(run, copy)
    with safe_open(run / "model.safetensors", "pt") as weights:
        metadata, tensors = weights.metadata(), {key: weights.get_tensor(key) for key in weights.keys()}
    generator = torch.Generator().manual_seed(0)
    for key, tensor in tensors.items():
        if tensor.is_floating_point():
            signs = torch.randint(0, 2, tensor.shape, generator=generator).to(tensor.dtype) * 2 - 1
            tensors[key] = tensor * (1 + sign * PERTURBATION * signs)
    save_file(tensors, copy / "model.safetensors", metadata=metadata)
    return copy


def without_floats(value):
    """What must not move at all: every text, label and count (floats become None)."""
    if isinstance(value, float):
        return None
    if isinstance(value, dict):
        return {key: without_floats(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_floats(item) for item in value]
    return value


def differences(got, expected, where: str = "") -> list[str]:
    """Where `got` and `expected` differ: floats beyond RELATIVE/ABSOLUTE, anything else at all."""
    if isinstance(expected, float) and isinstance(got, float):
        close = math.isclose(got, expected, rel_tol=RELATIVE, abs_tol=ABSOLUTE)
        return [] if close else [f"{where}: {got!r} != {expected!r}"]
    if isinstance(expected, dict) and isinstance(got, dict) and got.keys() == expected.keys():
        return [found for key in expected for found in differences(got[key], expected[key], f"{where}.{key}")]
    if isinstance(expected, list) and isinstance(got, list) and len(got) == len(expected):
        return [found for index, pair in enumerate(zip(got, expected))
                for found in differences(*pair, f"{where}[{index}]")]
    return [] if got == expected and type(got) is type(expected) else [f"{where}: {got!r} != {expected!r}"]


def test_differences_holds_floats_to_the_tolerance_and_the_rest_exactly():
    assert differences({"loss": 0.6750875264406204, "label": "pos"}, {"loss": 0.6750874985009432, "label": "pos"}) == []
    assert differences([1.0 + 3e-5], [1.0]) == ["[0]: 1.00003 != 1.0"]
    assert differences({"epoch": 2}, {"epoch": 2.0}) != []  # an int is not a float
    assert differences({"sample": "the wil"}, {"sample": "the will"}) == [".sample: 'the wil' != 'the will'"]
    assert differences([{"a": 1}], [{"a": 1}, {"a": 1}]) != []
    assert without_floats({"p": 0.5, "t": ["x", 1, 2.5]}) == {"p": None, "t": ["x", 1, None]}


@pytest.mark.parametrize("task", ["sentiment", "textgen", "translate"])
def test_short_seeded_runs_give_the_recorded_numbers(task, commands, tmp_path, capsys):
    got, runs = {}, {}
    for seed in SEEDS:
        got[str(seed)], runs[str(seed)] = trajectory(task, seed, commands, tmp_path, capsys)
    if os.environ.get("LSTMKIT_RECORD_REFERENCE"):
        for seed, run in runs.items():  # only answers with a margin are recorded (see the docstring)
            for sign in (1.0, -1.0):
                moved = answers(task, perturbed(run, sign, tmp_path), capsys)
                assert without_floats(moved) == without_floats(got[seed]["answers"]), \
                    f"{task} seed {seed}: an answer flips when the weights move by {PERTURBATION}: pick other inputs"
        recorded = json.loads(REFERENCE.read_text(encoding="utf-8")) if REFERENCE.is_file() else {}
        REFERENCE.parent.mkdir(exist_ok=True)
        recorded[task] = {"machine": machine(), "runs": got}
        REFERENCE.write_text(json.dumps(recorded, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    reference = json.loads(REFERENCE.read_text(encoding="utf-8"))[task]
    expected = reference["runs"]
    assert got.keys() == expected.keys()
    if reference["machine"] == machine():
        assert got == expected, f"{task}: not bit for bit what this machine recorded"
    else:
        assert differences(got, expected) == [], f"{task}: beyond {RELATIVE} relative, or a text/label/count differs"
