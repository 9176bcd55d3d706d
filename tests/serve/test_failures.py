"""Every request is answered: a bug in the model thread is a 500 of one line (its traceback logged)
and the server goes on; a request past its deadline is a 504 and its work never runs. The deadlines
here have passed before the work starts: nothing depends on timing."""

import json
import logging

import pytest
from fastapi.testclient import TestClient

import lstmkit.generation.continuous as streams
from lstmkit.serve.app import Settings, create_app, load_models


@pytest.fixture(scope="module")
def models(trained_runs):
    return load_models([trained_runs["sentiment"], trained_runs["textgen"], trained_runs["translate"]])


def test_a_bug_in_the_generation_engine_is_a_500_of_one_line_and_the_next_request_is_served(models, monkeypatch,
                                                                                             caplog):
    def choose(*args):
        raise RuntimeError("probability tensor contains either inf, nan or element < 0\nsecond line")

    monkeypatch.setattr(streams, "choose", choose)
    with TestClient(create_app(models)) as client, caplog.at_level(logging.ERROR, "lstmkit.serve"):
        failed = client.post("/v1/generate", json={"top_k": 3, "length": 5})
        assert failed.status_code == 500 and failed.json() == {
            "error": "internal error: RuntimeError: probability tensor contains either inf, nan or element < 0"}
        assert "Traceback" in caplog.text and "in choose" in caplog.text  # where it happened, in the log
        with client.stream("POST", "/v1/generate", json={"top_k": 3, "length": 5, "stream": True}) as response:
            events = response.read().decode()
        assert events.startswith("event: error") and "internal error: RuntimeError" in events
        monkeypatch.undo()
        assert len(client.post("/v1/generate", json={"top_k": 3, "length": 5}).json()["samples"][0]) == 5


def test_a_bug_in_a_batch_of_sentiment_is_a_500_and_the_next_batch_is_served(models, monkeypatch):
    classifier = models[0].predictor
    monkeypatch.setattr(classifier, "probabilities", lambda texts: 1 / 0)
    with TestClient(create_app(models)) as client:
        failed = client.post("/v1/sentiment", json={"texts": ["good"]})
        assert failed.status_code == 500 and failed.json()["error"] == "internal error: ZeroDivisionError: division by zero"
        monkeypatch.undo()
        assert client.post("/v1/sentiment", json={"texts": ["good"]}).status_code == 200


@pytest.mark.parametrize("path, body", [("/v1/generate", {"length": 50}), ("/v1/sentiment", {"texts": ["good"]}),
                                        ("/v1/sentiment", {"texts": ["good"], "explain": True}),
                                        ("/v1/translate", {"sentences": ["hi"]}), ("/v1/inspect", {"text": "good"})])
def test_a_request_past_its_deadline_is_504_and_its_work_never_runs(models, path, body):
    with TestClient(create_app(models, Settings(request_timeout=0))) as client:
        answer = client.post(path, json=body)
    assert answer.status_code == 504 and answer.json()["error"].startswith("deadline: not done within the server's 0 s")
    assert models[0].engine.pending == 0 and models[1].engine.pending == 0  # cancelled before it was queued


def test_a_stream_past_its_deadline_ends_with_an_error_event(models):
    with TestClient(create_app(models, Settings(request_timeout=0))) as client:
        with client.stream("POST", "/v1/generate", json={"length": 50, "stream": True}) as response:
            events = [block for block in response.read().decode().split("\n\n") if block]
    assert response.status_code == 200 and len(events) == 1 and events[0].startswith("event: error")
    assert json.loads(events[0].split("data: ", 1)[1])["error"].startswith("deadline: ")


def test_the_deadline_is_a_server_setting_checked_as_the_others(trained_runs, run_cli):
    code, _, err = run_cli("serve", trained_runs["textgen"], "--request-timeout", 0)
    assert code == 2 and err.count("\n") == 1 and "--request-timeout: must be a number in (0, 86400], got 0" in err
