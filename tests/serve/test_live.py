"""`lstmkit serve` as a user starts it: a process on a loopback port (0: any free one, printed), the
API key on a non-loopback bind, and a graceful stop on SIGTERM with a request in flight."""

import gc
import json
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request

import pytest


def start(*arguments):
    """`lstmkit serve *arguments --port 0` -> (process, base URL from the line it prints)."""
    process = subprocess.Popen([sys.executable, "-m", "lstmkit", "serve", *map(str, arguments), "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    assert "serving" in line, (line, process.stderr.read() if process.poll() is not None else "")
    return process, "http://127.0.0.1:" + line.split("http://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1] + "/"


def post(url, body, key=None):
    request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json",
                                                                      **({"X-API-Key": key} if key else {})})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_a_bind_beyond_loopback_needs_a_key_and_sigterm_lets_the_request_in_flight_finish(trained_runs):
    refused = subprocess.run([sys.executable, "-m", "lstmkit", "serve", trained_runs["textgen"], "--host", "0.0.0.0"],
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1
    assert refused.stderr.startswith("lstmkit: error: --api-key is required to serve on 0.0.0.0")

    process, url = start(trained_runs["textgen"], "--host", "0.0.0.0", "--api-key", "k3y")
    try:
        assert post(url + "v1/generate", {"length": 5})[0] == 401
        assert post(url + "v1/generate", {"length": 5}, key="wrong")[0] == 401
        with urllib.request.urlopen(url + "healthz", timeout=60) as response:
            assert json.load(response) == {"status": "ok", "models": 1}
        # a long streamed generation; SIGTERM once its first piece has come
        request = urllib.request.Request(url + "v1/generate", json.dumps({"length": 2000, "stream": True,
                                                                          "seed": 1}).encode(),
                                         {"Content-Type": "application/json", "X-API-Key": "k3y"})
        events, first_piece = [], threading.Event()

        def read():
            with urllib.request.urlopen(request, timeout=120) as response:
                for line in response:
                    events.append(line.decode())
                    first_piece.set()

        reader = threading.Thread(target=read)
        reader.start()
        assert first_piece.wait(60)
        process.send_signal(signal.SIGTERM)
        reader.join(120)
        assert process.wait(60) == 0
    finally:
        process.kill()
    assert events[-2].startswith("data: ") and events[-3] == "event: done\n"
    assert len(json.loads(events[-2][6:])["samples"][0]) == 2000


def test_a_run_that_is_not_one_fails_the_start_with_one_line(tmp_path):
    result = subprocess.run([sys.executable, "-m", "lstmkit", "serve", tmp_path], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and str(tmp_path) in result.stderr


@pytest.mark.parametrize("workers", [2])
def test_several_worker_processes_answer_on_one_port(trained_runs, workers):
    process, url = start(trained_runs["sentiment"], "--workers", workers)
    try:
        answers = [post(url + "v1/sentiment", {"texts": ["a good film"]}) for _ in range(4)]
        assert all(status == 200 for status, _ in answers) and len({body for _, body in answers}) == 1
        process.send_signal(signal.SIGINT)
        assert process.wait(60) == 0
    finally:
        process.kill()


def test_a_server_process_runs_on_httptools_and_uvloop_with_its_start_up_frozen(trained_runs, monkeypatch):
    from lstmkit.cli.serve import server_config
    from lstmkit.serve.app import from_environment

    monkeypatch.setenv("LSTMKIT_SERVE", json.dumps({"runs": [str(trained_runs["sentiment"])], "device": "cpu",
                                                    "settings": {}}))
    frozen = gc.get_freeze_count()
    try:
        app = from_environment()  # a worker's app, as `--workers N` makes it
        assert gc.get_freeze_count() > frozen  # full collections no longer scan what start-up made
    finally:
        gc.unfreeze()
    config = server_config(app)
    config.load()
    assert config.http_protocol_class.__name__ == "HttpToolsProtocol"
    loop = config.get_loop_factory()()
    try:
        assert type(loop).__module__.startswith("uvloop")
    finally:
        loop.close()


def test_inspect_draws_the_gates_of_a_run_of_each_task(trained_runs, tmp_path, run_cli):
    from PIL import Image

    for task, text in (("sentiment", "a wonderful superb film"), ("textgen", '"the will," he said'),
                       ("translate", "one two three")):
        picture = tmp_path / f"{task}.png"
        code, out, err = run_cli("inspect", trained_runs[task], text, "--out", picture, "--units", "0,3")
        assert code == 0 and out.startswith("gates and cell state of units 0, 3 (layer 1)"), err
        assert Image.open(picture).size[0] > 700
    code, out, _ = run_cli("inspect", trained_runs["textgen"], "ab")
    assert code == 0 and len(__import__("json").loads(out)["layers"][0]["f"]) == 2
    code, _, err = run_cli("inspect", trained_runs["textgen"], "ab", "--units", "0,999", "--out", tmp_path / "x.png")
    assert code == 2 and err == "lstmkit: error: --units: 999 is not a unit of layer 1; it has units 0 to 31\n"
