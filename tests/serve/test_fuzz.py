"""No request makes a 500: hypothesis sends each endpoint bodies built from its schema's fields with
values of every JSON type, in and out of bounds (300 or more per endpoint), on small real models."""

import json

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings, strategies as st

from lstmkit.serve.app import create_app, load_models

NUMBERS = [-1, 0, 1, 2, 3, 16, 17, 64, 65, 2000, 2001, 2**63, 10**30, 0.0, 0.5, 1.0, 1.5, -0.0, 1e-300, 1e308,
           float("nan"), float("inf"), float("-inf")]
TEXTS = ["", " ", "good", "!!!", "the will to power", "ünïcödé 日本 🙂", "\x00", "a" * 20_001, "one two three",
         "\"quoted\"\n", "<br />"]
MODELS = ["sentiment", "textgen", "translate", "nope", "", "x" * 201]

scalar = st.one_of(st.none(), st.booleans(), st.sampled_from(NUMBERS), st.integers(), st.floats(),
                   st.sampled_from(TEXTS), st.text(max_size=30), st.sampled_from(MODELS))
value = st.one_of(scalar, st.lists(st.one_of(st.sampled_from(TEXTS), st.text(max_size=20), scalar), max_size=70),
                  st.dictionaries(st.text(max_size=5), scalar, max_size=3))


GOOD = {  # values a caller means: with the others mixed in, bodies reach the models, not only the checks
    "model": st.sampled_from(["sentiment", "textgen", "translate", None]),
    "texts": st.lists(st.sampled_from(["good", "a wonderful film", "ünïcödé 日本 🙂", "dull, awful"]),
                      min_size=1, max_size=4),
    "explain": st.booleans(),
    "seed_text": st.sampled_from(["", "the ", "ünï 🙂", "\n"]),
    "length": st.integers(1, 40),
    "temperature": st.floats(0.05, 3),
    "top_k": st.one_of(st.none(), st.integers(1, 60)),
    "top_p": st.one_of(st.none(), st.floats(0.05, 1)),
    "num": st.integers(1, 4),
    "seed": st.one_of(st.none(), st.integers(0, 2**32 - 1)),
    "stream": st.booleans(),
    "sentences": st.lists(st.sampled_from(["one two", "three", "go to sleep", "ünï", " "]), min_size=1, max_size=3),
    "beam": st.integers(1, 5),
    "language": st.sampled_from([None, "pairs", "xx"]),
    "attention": st.booleans(),
    "text": st.sampled_from(["the will", "a wonderful film", "one two three", "🙂", "!!!"]),
}
FIELDS = {
    "/v1/sentiment": ["model", "texts", "explain"],
    "/v1/generate": ["model", "seed_text", "length", "temperature", "top_k", "top_p", "num", "seed", "stream"],
    "/v1/translate": ["model", "sentences", "beam", "language", "attention"],
    "/v1/inspect": ["model", "text"],
}


REQUIRED = {"texts", "sentences", "text"}


def mostly(good, other, share: int = 8):
    """`good` in `share` draws of 10, else `other` (hypothesis's one_of does not weigh its branches)."""
    return st.integers(0, 9).flatmap(lambda draw: good if draw < share else other)


def bodies(path):
    """Mostly a field's meaningful values, else any JSON value; now and then a required field left
    out, an unknown field, or no object at all."""
    fields = {name: mostly(GOOD[name], value) for name in FIELDS[path]}
    required = {name: strategy for name, strategy in fields.items() if name in REQUIRED}
    optional = {name: strategy for name, strategy in fields.items() if name not in REQUIRED}
    odd = st.one_of(st.fixed_dictionaries({}, optional={**fields, "unknown_field": value}), value)
    return mostly(st.fixed_dictionaries(required, optional=optional), odd, share=7)


@pytest.fixture(scope="module")
def client(trained_runs):
    models = load_models([trained_runs["sentiment"], trained_runs["textgen"], trained_runs["translate"]])
    with TestClient(create_app(models), raise_server_exceptions=False) as client:
        yield client


@pytest.mark.parametrize("path", list(FIELDS))
def test_no_request_body_makes_a_500_and_the_server_answers_afterwards(client, path):
    statuses = []

    @settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(bodies(path))
    def send(body):
        response = client.post(path, content=json.dumps(body, allow_nan=True),
                               headers={"content-type": "application/json"})
        statuses.append(response.status_code)
        assert response.status_code != 500, (body, response.text)
        if response.status_code != 200 or not response.headers["content-type"].startswith("text/event-stream"):
            answer = response.json()
            assert response.status_code == 200 or isinstance(answer["error"], str) and "\n" not in answer["error"]

    send()
    assert len(statuses) >= 300 and statuses.count(200) >= 50 and statuses.count(422) >= 50  # the models ran
    assert client.get("/healthz").json()["status"] == "ok"
