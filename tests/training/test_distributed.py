"""Training in several processes (training/distributed.py, launch.py): one process's result, faster."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
import torch.distributed as dist
from safetensors.torch import load_file

from lstmkit.training import distributed
from lstmkit.training.launch import free_port
from lstmkit.training.run import RunDirectory



def assert_same_weights(first, second, atol):
    first, second = load_file(first / "model.safetensors"), load_file(second / "model.safetensors")
    assert first.keys() == second.keys()
    for key in first:
        assert torch.allclose(first[key], second[key], atol=atol), key


@pytest.mark.parametrize("task", ["sentiment", "textgen", "translate"])
def test_two_processes_train_the_model_one_process_trains(task, commands, tmp_path, train_cli):
    code, _, _ = train_cli(commands[task], tmp_path / "one")
    assert code == 0
    code, output, errors = train_cli(commands[task], tmp_path / "two", "--processes", 2)
    assert code == 0, errors
    assert output.count("run saved in") == 1  # process 0 speaks, the other stays quiet
    assert_same_weights(tmp_path / "one", tmp_path / "two", atol=1e-5)
    one, two = RunDirectory(tmp_path / "one").load_history(), RunDirectory(tmp_path / "two").load_history()
    assert [row["loss"] for row in two] == pytest.approx([row["loss"] for row in one], rel=1e-5)


def test_torchrun_trains_the_same_model(commands, tmp_path, train_cli):
    assert train_cli(commands["textgen"], tmp_path / "one")[0] == 0
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", "-m", "lstmkit"]
    done = subprocess.run([*torchrun, *map(str, commands["textgen"]), "--out", str(tmp_path / "two"), "--quiet"],
                          env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("run saved in") == 1
    assert_same_weights(tmp_path / "one", tmp_path / "two", atol=1e-5)


def test_two_processes_resume_exactly_with_dropout(commands, tmp_path, train_cli):
    command = [*commands["sentiment"][:-8], "--embedding-dim", 16, "--units", 16, "--batch-size", 30,
               "--dropout", 0.3]
    assert train_cli(command, tmp_path / "straight", "--processes", 2, "--epochs", 2)[0] == 0
    assert train_cli(command, tmp_path / "resumed", "--processes", 2, "--epochs", 1)[0] == 0
    assert train_cli(command, tmp_path / "resumed", "--processes", 2, "--epochs", 2, "--resume")[0] == 0
    assert_same_weights(tmp_path / "straight", tmp_path / "resumed", atol=1e-6)


def test_process_0_loads_the_pretrained_vectors_for_all(commands, tmp_path, train_cli):
    vectors = tmp_path / "glove.txt"  # process 1 reads its first line only: it gets process 0's embedding
    vectors.write_text("good 0.5 0.25 -1\nbad -0.5 1 2\n", encoding="utf-8")
    command = [*commands["sentiment"], "--pretrained", vectors, "--freeze-embedding"]
    assert train_cli(command, tmp_path / "one")[0] == 0
    assert train_cli(command, tmp_path / "two", "--processes", 2)[0] == 0
    assert_same_weights(tmp_path / "one", tmp_path / "two", atol=1e-5)


def test_resuming_where_a_process_sees_no_run_is_refused(commands, tmp_path, train_cli):
    command = [str(arg) for arg in [*commands["sentiment"], "--epochs", 1, "--quiet"]]
    assert train_cli(command, tmp_path / "run")[0] == 0
    port = str(free_port())  # two machines without a shared folder: each process its own --out
    workers = [subprocess.Popen([sys.executable, "-m", "lstmkit", *command, "--out", str(out), "--resume"],
                                env={**os.environ, "RANK": str(rank), "WORLD_SIZE": "2", "MASTER_ADDR": "127.0.0.1",
                                     "MASTER_PORT": port, "OMP_NUM_THREADS": "1"},
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
               for rank, out in enumerate([tmp_path / "run", tmp_path / "elsewhere"])]
    errors = [worker.communicate(timeout=120)[1] for worker in workers]
    assert [worker.returncode for worker in workers] == [2, 2]
    assert "process 0 sees a run to resume there and process(es) 1 do not" in errors[0]
    assert RunDirectory(tmp_path / "run").load_history()[-1]["epoch"] == 1  # nothing trained or lost
    assert not (tmp_path / "elsewhere").exists()


@pytest.mark.parametrize("sent", ["Ctrl-C from a terminal", "SIGTERM to each worker"])
def test_a_signal_stops_every_process_and_keeps_the_last_epoch(sent, commands, tmp_path, train_cli):
    out = tmp_path / "run"
    command = [sys.executable, "-m", "lstmkit", *map(str, commands["textgen"]), "--epochs", "1000", "--out", str(out),
               "--quiet", "--processes", "2"]
    # SIGINT back to its default: a shell starting the suite in the background ignores it, and children inherit that
    launcher = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                start_new_session=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    while not (out / "history.jsonl").is_file() and launcher.poll() is None:
        time.sleep(0.2)
    if sent == "Ctrl-C from a terminal":  # to the launcher's process group: the workers have groups of their own
        os.killpg(launcher.pid, signal.SIGINT)
    else:  # as a job scheduler stopping each process; the launcher is not told
        children = f"/proc/{launcher.pid}/task/{launcher.pid}/children"
        for pid in map(int, open(children).read().split()):
            os.kill(pid, signal.SIGTERM)
    errors = launcher.communicate(timeout=120)[1]
    assert launcher.returncode == (130 if sent.startswith("Ctrl-C") else 143), errors
    assert errors.startswith("lstmkit: interrupted; the last completed epoch (") and errors.count("\n") == 1, errors
    assert errors.endswith(" --processes 2 --resume\n")
    done = len(RunDirectory(out).load_history())
    assert done >= 1 and RunDirectory(out).load_trainer()["epoch"] == done and not list(out.glob(".*.tmp"))
    assert train_cli(commands["textgen"], out, "--resume", "--epochs", done + 1, "--processes", 2)[0] == 0
    assert len(RunDirectory(out).load_history()) == done + 1


def test_a_killed_launcher_leaves_no_worker_training(commands, tmp_path):
    out = tmp_path / "run"
    command = [sys.executable, "-m", "lstmkit", *map(str, commands["textgen"]), "--epochs", "1000", "--out", str(out),
               "--quiet", "--processes", "2"]
    launcher = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not (out / "history.jsonl").is_file() and launcher.poll() is None:
        time.sleep(0.2)
    workers = list(map(int, open(f"/proc/{launcher.pid}/task/{launcher.pid}/children").read().split()))
    launcher.kill()
    launcher.wait()
    def running(pid):  # an orphan's exit may stay a zombie where nothing reaps it
        try:
            return open(f"/proc/{pid}/stat").read().split()[2] != "Z"
        except FileNotFoundError:
            return False

    deadline = time.monotonic() + 120
    while any(map(running, workers)) and time.monotonic() < deadline:  # the kernel sends each one SIGTERM
        time.sleep(0.2)
    assert not any(map(running, workers))
    assert RunDirectory(out).load_trainer()["epoch"] == len(RunDirectory(out).load_history()) >= 1


def test_bad_input_in_several_processes_is_one_error_line(tmp_path, train_cli):
    code, _, errors = train_cli(["sentiment", "train", "--data", tmp_path / "missing.csv"], tmp_path / "run",
                            "--processes", 2)
    assert code == 2
    assert errors.strip().count("\n") == 0 and errors.startswith("lstmkit: error:") and "missing.csv" in errors


def test_each_process_takes_its_own_slice_and_its_own_dropout_noise(monkeypatch):
    batch = (torch.arange(5), None)
    monkeypatch.setattr(distributed, "world", lambda: (1, 2))
    assert distributed.my_slice(batch)[0].tolist() == [2, 3, 4] and distributed.my_slice(batch)[1] is None
    generator = torch.Generator().manual_seed(0)
    distributed.seed_for_epoch(3, generator)
    second = torch.rand(4)
    monkeypatch.setattr(distributed, "world", lambda: (0, 2))
    assert distributed.my_slice(batch)[0].tolist() == [0, 1]
    assert distributed.my_slice((torch.arange(1),)) is None  # fewer samples than processes: process 1 has it
    distributed.seed_for_epoch(3, generator)
    first = torch.rand(4)
    distributed.seed_for_epoch(3, generator)
    assert torch.equal(torch.rand(4), first) and not torch.equal(first, second)


def test_more_processes_than_gpus_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setenv("WORLD_SIZE", "3")
    monkeypatch.setenv("LOCAL_RANK", "2")
    with pytest.raises(ValueError, match="process 2 of this machine needs GPU 2 .* the machine has 2; start at most 2"):
        distributed.start("cuda")


def test_a_command_leaves_the_process_group_it_ran_in(commands, tmp_path, train_cli):
    # as torch asks of every process before it ends (NCCL: so that its pending operations finish)
    dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    try:
        assert train_cli(commands["textgen"], tmp_path / "run")[0] == 0
        assert not dist.is_initialized()
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def test_a_worker_ends_at_once_with_its_output_and_exit_code(commands, tmp_path, train_cli):
    assert train_cli(commands["textgen"], tmp_path / "run")[0] == 0
    sample = [sys.executable, "-m", "lstmkit", "textgen", "sample", str(tmp_path / "run"), "--num", "3", "--length",
              "200", "--json"]
    env = {**os.environ, "WORLD_SIZE": "2"}  # one of two training processes: ends with os._exit
    env.pop("PYTHONUNBUFFERED", None)  # so stdout, a pipe, is buffered as it is for most users
    done = subprocess.run(sample, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0  # and the buffered output was flushed before the end:
    assert [len(item["sample"]) for item in json.loads(done.stdout)] == [200] * 3
    done = subprocess.run([*sample[:5], str(tmp_path / "missing")], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stderr.startswith("lstmkit: error:")
