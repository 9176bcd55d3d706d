"""`POST /v1/sentiment`: labels and probabilities of texts, concurrent requests batched into one
call (serve/batching.py); with `explain`, each word's contribution."""

from __future__ import annotations

from typing import Annotated

from fastapi import Request
from pydantic import Field

from ...errors import LstmkitError
from ...nn.lanes import small_ops_threads
from ...serve.batching import batching
from ...serve.contract import Endpoint, TaskService
from ...serve.guards import HTTPError
from ...serve.schemas import MAX_TEXT_CHARS, MAX_TEXTS, ModelName, StrictRequest
from ...text.words import HAS_A_WORD


class SentimentRequest(StrictRequest):
    model: ModelName = None
    # the pattern is checked by the classifier (its message names the text): the schema says it
    texts: list[Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS, json_schema_extra={
        "pattern": HAS_A_WORD, "description": "a text with a word: not only punctuation, white space and <br />"})]
    ] = Field(min_length=1, max_length=MAX_TEXTS)
    explain: bool = Field(False, description="add each word's contribution to the predicted label")


async def classify(service, body: SentimentRequest, request: Request):
    model = service.model_for("sentiment", body.model)
    try:
        model.predictor.check(body.texts)
    except LstmkitError as error:
        raise HTTPError(422, f"texts: {error}") from None
    if body.explain:
        results = await service.answer(request, _explanations(service, model.predictor, body.texts))
    else:
        results = await service.answer(request, model.engine.submit(body, len(body.texts)))
    return {"model": model.name, "results": results}


async def _explanations(service, classifier, texts: list[str]) -> list[dict]:
    # one text per turn of the model thread: a cancelled request stops after the text in hand
    return [await service.on_model_thread(classifier.explain, text) for text in texts]


def _batch_of(classifier):
    units = max(config.units for _, _, config in classifier.members)

    def run(jobs):
        texts = [text for job in jobs for text in job.request.texts]
        with small_ops_threads(len(texts) * units):  # one thread leaves the event loop a core (bench/serve.py)
            probabilities = classifier.probabilities(texts)
        results, start = [], 0
        for job in jobs:
            count = len(job.request.texts)
            results.append(classifier.labelled(job.request.texts, probabilities[start: start + count]))
            start += count
        return results

    return run


def service() -> TaskService:
    return TaskService([Endpoint("/v1/sentiment", SentimentRequest, classify)], start=batching(_batch_of))
