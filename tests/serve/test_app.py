"""The HTTP API on small real runs of each task (trained once by the suite), in process."""

import json

import pytest
from fastapi.testclient import TestClient

import lstmkit
from lstmkit.serve.app import Settings, create_app, load_models
from lstmkit.serve.schemas import MAX_BODY_BYTES, MAX_TEXT_CHARS, MAX_TEXTS


@pytest.fixture(scope="module")
def runs(served_runs):
    return served_runs


@pytest.fixture(scope="module")
def client(runs):
    models = load_models([runs["sentiment"], runs["textgen"], runs["translate"], runs["attention"]])
    with TestClient(create_app(models)) as client:
        yield client


def test_health_and_the_models_served(client, runs):
    assert client.get("/healthz").json() == {"status": "ok", "models": 4}
    models = client.get("/v1/models").json()["models"]
    assert [(m["name"], m["task"]) for m in models] == [("sentiment", "sentiment"), ("textgen", "textgen"),
                                                         ("translate", "translate"), ("attention", "translate")]
    assert all(m["parameters"] > 0 and m["epochs"] == (8 if m["name"] == "attention" else 1) for m in models)


def test_sentiment_gives_what_the_python_api_gives(client, runs):
    texts = ["a wonderful superb film", "dull awful boring plot"]
    answer = client.post("/v1/sentiment", json={"texts": texts}).json()
    expected = lstmkit.load(runs["sentiment"]).predict(texts)
    assert [r["label"] for r in answer["results"]] == [r["label"] for r in expected]
    assert [r["probability"] for r in answer["results"]] == pytest.approx([r["probability"] for r in expected])
    explained = client.post("/v1/sentiment", json={"texts": texts[:1], "explain": True}).json()["results"][0]
    assert [word for word, _ in explained["words"]] == ["a", "wonderful", "superb", "film"]


def test_generation_is_repeatable_with_a_seed_and_streams_as_server_sent_events(client, runs):
    request = {"seed_text": "the ", "length": 40, "temperature": 0.7, "num": 2, "seed": 3}
    samples = client.post("/v1/generate", json=request).json()["samples"]
    expected = lstmkit.load(runs["textgen"]).sample("the ", 40, temperature=0.7, num=2, seed=3)
    assert samples == expected
    with client.stream("POST", "/v1/generate", json={**request, "stream": True}) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [block for block in response.read().decode().split("\n\n") if block]
    steps = [json.loads(event.removeprefix("data: "))["pieces"] for event in events[:-1]]
    assert len(steps) == 40 and all(len(pieces) == 2 for pieces in steps)
    assert ["".join(step[k] for step in steps) for k in range(2)] == expected
    assert events[-1].startswith("event: done") and json.loads(events[-1].split("data: ", 1)[1])["samples"] == expected


def test_translation_with_attention_weights(client, runs):
    translator = lstmkit.load(runs["attention"])
    beam = client.post("/v1/translate", json={"model": "attention", "sentences": ["one two", "three"], "beam": 3})
    assert [r["translation"] for r in beam.json()["results"]] == translator.translate(["one two", "three"], beam=3)
    answer = client.post("/v1/translate", json={"model": "attention", "sentences": ["one two", "three"],
                                                "attention": True}).json()["results"]
    assert [r["translation"] for r in answer] == translator.translate(["one two", "three"])
    weights = answer[0]["attention"]["weights"]
    assert len(weights) == len(answer[0]["attention"]["target"]) and all(sum(row) == pytest.approx(1, abs=1e-3)
                                                                         for row in weights)
    refused = client.post("/v1/translate", json={"model": "translate", "sentences": ["one"], "attention": True})
    assert refused.status_code == 422 and refused.json()["error"] == "attention: model 'translate' has no attention"


@pytest.mark.parametrize("model, text", [("sentiment", "a wonderful film"), ("textgen", "the will"),
                                         ("attention", "one two three")])
def test_inspect_gives_every_gate_per_step(client, model, text):
    answer = client.post("/v1/inspect", json={"model": model, "text": text}).json()
    layer = answer["layers"][0]
    assert len(answer["tokens"]) == len(layer["f"]) > 0
    assert {"f", "i", "o", "candidate", "c", "h"} <= set(layer)
    assert all(0 <= value <= 1 for step in layer["f"] for value in step)


@pytest.mark.parametrize("path, body, status, error", [
    ("/v1/sentiment", {"texts": []}, 422, "texts: List should have at least 1 item after validation, not 0"),
    ("/v1/sentiment", {"texts": ["!!!"]}, 422, "texts: text 1 to predict is empty"),
    ("/v1/sentiment", {"texts": ["good"], "model": "textgen"}, 404, "model: no sentiment model named 'textgen'"),
    ("/v1/generate", {"temperature": 0}, 422, "temperature: Input should be greater than or equal to 0.000001"),
    ("/v1/generate", {"num": 2.5}, 422, "num: Input should be a valid integer"),
    ("/v1/sentiment", {"texts": ["<BR />..."]}, 422, "texts: text 1 to predict is empty"),
    ("/v1/sentiment", {"texts": ["good"], "model": ""}, 422, "model: String should have at least 1 character"),
    ("/v1/generate", {"top_p": 1.5}, 422, "top_p: Input should be less than or equal to 1"),
    ("/v1/generate", {"length": "10"}, 422, "length: Input should be a valid integer"),
    ("/v1/generate", {"lenght": 10}, 422, "lenght: Extra inputs are not permitted"),
    ("/v1/translate", {"sentences": ["one"], "beam": 65}, 422, "beam: Input should be less than or equal to 64"),
    ("/v1/translate", {"sentences": ["one"], "language": "xx"}, 422, "language 'xx': this run translates into"),
    ("/v1/inspect", {"model": "nope", "text": "a"}, 404, "model: no model named 'nope'"),
])
def test_bad_requests_are_one_line_naming_the_field(client, path, body, status, error):
    answer = client.post(path, json=body)
    assert answer.status_code == status and answer.json()["error"].startswith(error), answer.json()


def test_a_body_over_the_limit_is_413_and_not_json_is_422_or_400(client):
    huge = client.post("/v1/sentiment", content=b'{"texts": ["' + b"a" * MAX_BODY_BYTES + b'"]}',
                       headers={"content-type": "application/json"})
    assert huge.status_code == 413 and huge.json()["error"] == f"request body over {MAX_BODY_BYTES:,} bytes"
    largest = json.dumps({"texts": ["\U0001f642" * MAX_TEXT_CHARS] * MAX_TEXTS, "explain": False})
    assert len(largest.encode()) < MAX_BODY_BYTES  # any body the schema accepts is read
    broken = client.post("/v1/sentiment", content=b"{not json", headers={"content-type": "application/json"})
    assert broken.status_code == 422 and "JSON" in broken.json()["error"]
    undecodable = client.post("/v1/sentiment", content=b"\xff\xfeX", headers={"content-type": "application/json"})
    assert undecodable.status_code == 400 and undecodable.json()["error"].startswith("body: not JSON")
    assert client.get("/v1/nope").json() == {"error": "/v1/nope: no such path; /docs lists the API"}


def test_values_the_schema_accepts_are_answered(client):
    tiny = client.post("/v1/generate", json={"top_p": 5e-324, "length": 20, "seed": 1})  # 0 in float32
    greedy = client.post("/v1/generate", json={"top_k": 1, "length": 20}).json()["samples"]
    assert tiny.status_code == 200 and tiny.json()["samples"] == greedy  # top-p keeps the likeliest
    assert client.post("/v1/generate", json={"num": 2.0, "length": 3.0}).json()["samples"][1]  # JSON's integers
    nothing = client.post("/v1/inspect", json={"model": "sentiment", "text": "}"})  # no words: no steps
    assert nothing.status_code == 200 and nothing.json() == {"model": "sentiment", "task": "sentiment",
                                                             "tokens": [], "layers": []}


def test_the_openapi_document_lists_every_status_and_what_each_served_model_accepts(client):
    document = client.get("/openapi.json").json()
    statuses = {path: set(operations[next(iter(operations))]["responses"])
                for path, operations in document["paths"].items()}
    assert statuses["/v1/sentiment"] == statuses["/v1/generate"] == statuses["/v1/translate"] == {
        "200", "400", "404", "413", "422", "500", "503", "504"}
    assert statuses["/v1/inspect"] == {"200", "400", "404", "413", "422", "500", "504"}
    assert statuses["/healthz"] == statuses["/v1/models"] == {"200", "413", "500"}
    error = document["paths"]["/v1/generate"]["post"]["responses"]["504"]["content"]["application/json"]["schema"]
    assert error == {"$ref": "#/components/schemas/ErrorBody"}
    assert "text/event-stream" in document["paths"]["/v1/generate"]["post"]["responses"]["200"]["content"]
    served = document["components"]["schemas"]["TranslateRequest"]["anyOf"]
    assert [branch["allOf"][2] for branch in served] == [
        {"properties": {"attention": {"const": False}}},  # translate: no attention
        {"anyOf": [{"properties": {"attention": {"const": False}}}, {"properties": {"beam": {"const": 1}}}]}]


def test_an_api_key_is_required_on_the_api_when_set(runs):
    with TestClient(create_app(load_models([runs["sentiment"]]), Settings(api_key="s3cret"))) as client:
        def status(**headers):
            return client.post("/v1/sentiment", json={"texts": ["good"]}, headers=headers).status_code

        assert status() == 401 and status(**{"X-API-Key": "wrong"}) == 401
        document = client.get("/openapi.json").json()
        assert document["paths"]["/v1/sentiment"]["post"]["security"] == [{"APIKey": []}]
        assert "401" in document["paths"]["/v1/sentiment"]["post"]["responses"]
        assert status(**{"X-API-Key": "s3cret"}) == 200 and status(Authorization="Bearer s3cret") == 200
        assert client.get("/healthz").status_code == 200 and client.get("/").status_code == 200


def test_a_full_queue_is_503_with_retry_after(runs):
    models = load_models([runs["sentiment"], runs["textgen"]])
    with TestClient(create_app(models, Settings(max_pending=2))) as client:
        answer = client.post("/v1/sentiment", json={"texts": ["good", "bad", "fine"]})
        assert answer.status_code == 503 and answer.headers["retry-after"] == "1"
        assert answer.json()["error"].startswith("busy: ")
        streamed = client.post("/v1/generate", json={"num": 3, "stream": True})  # refused before streaming
        assert streamed.status_code == 503
        assert client.post("/v1/sentiment", json={"texts": ["good", "bad"]}).status_code == 200


def test_cors_is_off_unless_an_origin_is_named(runs):
    models = load_models([runs["sentiment"]])
    asked = {"Origin": "https://example.org", "Access-Control-Request-Method": "POST"}
    with TestClient(create_app(models)) as client:
        assert "access-control-allow-origin" not in client.options("/v1/sentiment", headers=asked).headers
    with TestClient(create_app(models, Settings(cors_origins=["https://example.org"]))) as client:
        allowed = client.options("/v1/sentiment", headers=asked)
        assert allowed.headers["access-control-allow-origin"] == "https://example.org"


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_api_docs_pages_load_their_scripts_from_the_server(client, path):
    import re

    page = client.get(path)
    assert page.status_code == 200 and "://" not in page.text  # no CDN: nothing from another host
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    assert any(asset.endswith(".js") for asset in assets)
    for asset in assets:
        assert client.get(asset).status_code == 200, asset


def test_concurrent_translations_share_one_call_and_each_hears_of_its_own_error(runs):
    """Beam searches asking alike are one call of the translator; greedy requests join one running
    batch (generation/continuous.py) and translate as the translator does alone."""
    import asyncio

    from lstmkit.errors import LstmkitError
    from lstmkit.serve.app import Service
    from lstmkit.tasks.translate.service import TranslateRequest

    [model] = load_models([runs["translate"]])
    Service([model], Settings())  # starts the model's engines
    translator, calls = model.predictor, []
    sentences = ["one two.", "nine.", "five four"]
    alone = {beam: {s: translator.translate([s], beam=beam)[0] for s in sentences} for beam in (1, 2)}
    real_translate = translator.translate

    def counted(sentences, **options):
        calls.append(list(sentences))
        return real_translate(sentences, **options)

    translator.translate = counted

    async def together(beam):
        bodies = [TranslateRequest(sentences=["one two."], beam=beam),
                  TranslateRequest(sentences=["nine.", "five four"], beam=beam),
                  TranslateRequest(sentences=["one."], language="xx", beam=beam)]
        return await asyncio.gather(*(model.engine.submit(body) for body in bodies), return_exceptions=True)

    async def both():  # one event loop: the engines live on it
        return [await together(beam) for beam in (2, 1)]

    for beam, (first, second, wrong) in zip((2, 1), asyncio.run(both())):
        assert [result["translation"] for result in first + second] == [alone[beam][s] for s in sentences]
        assert isinstance(wrong, LstmkitError) and "xx" in str(wrong)
    # the two beam searches alike: one call (the one into xx its own, which fails); greedy ones never call it
    assert calls == [sentences, ["one."]]
    assert set(model.engine.continuous) == {translator.model.languages[0]}
