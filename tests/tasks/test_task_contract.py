"""A task is one folder: `first` (tests/tasks/plugins/first), named by LSTMKIT_TASK_PATH and in no
other file, is trained, loaded, on the command line, served and on the page as the built-in tasks are."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import lstmkit
import lstmkit.tasks
from lstmkit.errors import RunError
from lstmkit.serve.app import create_app, load_models
from lstmkit.tasks import TASK_PATH_VARIABLE, registry

PLUGINS = Path(__file__).parent / "plugins"


@pytest.fixture
def plugin_tasks(monkeypatch):
    """The registry with the folders of `plugins` added, as LSTMKIT_TASK_PATH adds them."""
    monkeypatch.setenv(TASK_PATH_VARIABLE, str(PLUGINS))
    path = list(lstmkit.tasks.__path__)
    registry.cache_clear()
    yield registry()
    lstmkit.tasks.__path__[:] = path
    registry.cache_clear()
    for name in [name for name in sys.modules if name.startswith("lstmkit.tasks.first")]:
        del sys.modules[name]


def lstmkit_command(*arguments, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lstmkit", *map(str, arguments)], capture_output=True, text=True,
                          env={**os.environ, TASK_PATH_VARIABLE: str(PLUGINS), "OMP_NUM_THREADS": "1", **(env or {})},
                          timeout=300)


def test_the_built_in_tasks_are_in_the_registry_and_a_plugin_only_where_named(plugin_tasks):
    assert list(plugin_tasks) == ["first", "sentiment", "textgen", "translate"]
    registry.cache_clear()
    os.environ.pop(TASK_PATH_VARIABLE)
    lstmkit.tasks.__path__[:] = lstmkit.tasks.__path__[:1]
    assert list(registry()) == ["sentiment", "textgen", "translate"]


def test_a_task_in_its_own_folder_trains_loads_and_answers_on_the_command_line(tmp_path, plugin_tasks):
    run = tmp_path / "run"
    trained = lstmkit_command("first", "train", "--out", run, "--epochs", 2, "--strings", 64, "--device", "cpu")
    assert trained.returncode == 0, trained.stderr
    assert "val_accuracy" in trained.stdout
    history = json.loads((run / "config.json").read_text())
    assert history["task"] == "first" and history["config"]["strings"] == 64
    predicted = lstmkit_command("first", "predict", run, "abba", "baab")
    assert predicted.returncode == 0, predicted.stderr
    assert json.loads(predicted.stdout)[0] in ("a", "b") and len(json.loads(predicted.stdout)) == 2
    # its limits are the command line's: a value out of range is one line naming the flag
    refused = lstmkit_command("first", "train", "--out", tmp_path / "other", "--strings", 1)
    assert refused.returncode == 2 and "--strings" in refused.stderr and "Traceback" not in refused.stderr
    # from Python
    predictor = lstmkit.load(run)
    assert predictor.predict(["ab"])[0] in ("a", "b") and predictor.parameter_count() > 0
    # served: its endpoint, /v1/models, /v1/inspect, and its tab, panel and script on the page
    client = TestClient(create_app(load_models([run])))
    answer = client.post("/v1/first", json={"texts": ["abab", "bbba"]})
    assert answer.status_code == 200 and len(answer.json()["letters"]) == 2
    assert client.get("/v1/models").json()["models"][0]["task"] == "first"
    inspected = client.post("/v1/inspect", json={"text": "abba"}).json()
    assert inspected["tokens"] == list("abba") and inspected["layers"][0]["name"] == "layer 1"
    page = client.get("/").text
    assert 'id="tab-first"' in page and '<section id="first"' in page and "/static/tasks/first.js" in page
    assert "first-form" in client.get("/static/tasks/first.js").text
    assert client.post("/v1/first", json={"texts": []}).status_code == 422
    assert "/v1/first" in client.get("/openapi.json").json()["paths"]


def test_a_folder_without_a_task_declaration_is_one_clear_error(tmp_path, monkeypatch):
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "__init__.py").write_text("NOT_A_TASK = 1\n")
    result = lstmkit_command("--help", env={TASK_PATH_VARIABLE: str(tmp_path)})
    assert result.returncode != 0
    assert "broken" in result.stderr and "TASK" in result.stderr and "Traceback" not in result.stderr
    monkeypatch.setenv(TASK_PATH_VARIABLE, str(tmp_path))
    registry.cache_clear()
    path = list(lstmkit.tasks.__path__)
    try:
        with pytest.raises(RunError, match="broken"):
            registry()
    finally:
        lstmkit.tasks.__path__[:] = path
        registry.cache_clear()
        sys.modules.pop("lstmkit.tasks.broken", None)
