"""`POST /v1/translate`: English sentences translated (greedy or beam search), with the attention
weights on request. Greedy requests join the running batch of their target language at the next
step and leave it when their sentences are done (generation/continuous.py), as generation requests
do; beam searches and requests for attention are batched (serve/batching.py): those asking for the
same beam, language and attention are translated in one call. The OpenAPI document says each
served run's languages and attention."""

from __future__ import annotations

from typing import Annotated

from fastapi import Request
from pydantic import Field

from ...generation.continuous import ContinuousGeneration, Sequences
from ...generation.search import output_limits
from ...serve.batching import batching
from ...serve.contract import Endpoint, TaskService
from ...serve.guards import HTTPError
from ...serve.schemas import INSPECT_DIGITS, MAX_TEXTS, ModelName, StrictRequest, bounds, whole
from ...text.batching import pad_right
from ...text.tokens import STOP
from ...text.words import NOT_BLANK
from . import LIMITS
from .model import Seq2SeqSteps

MAX_SENTENCE_CHARS = 500  # characters per sentence to translate


class TranslateRequest(StrictRequest):
    model: ModelName = None
    # the pattern is checked by the translator (its message names the sentence): the schema says it
    sentences: list[Annotated[str, Field(min_length=1, max_length=MAX_SENTENCE_CHARS, json_schema_extra={
        "pattern": NOT_BLANK, "description": "not only white space"})]] = Field(
        min_length=1, max_length=MAX_TEXTS)
    beam: whole(**bounds("beam", LIMITS)) = Field(1, description="beam width (1: greedy)")
    language: str | None = Field(None, max_length=20, description="target language of a multi-task run")
    attention: bool = Field(False, description="add the attention weights (models with attention)")


async def translate(service, body: TranslateRequest, request: Request):
    model = service.model_for("translate", body.model)
    if body.attention and not model.predictor.config.attention:
        raise HTTPError(422, f"attention: model {model.name!r} has no attention")
    if body.attention and body.beam > 1:
        raise HTTPError(422, "attention: the weights come with greedy decoding; ask for beam 1")
    results = await service.answer(request, model.engine.submit(body))
    return {"model": model.name, "results": results}


class Engines:
    """What a served translator's requests go to: a continuous batch per target language for greedy
    decoding, a batcher for beam search and attention. Both run on the one model thread."""

    def __init__(self, model, executor, settings):
        self.translator, self.executor, self.settings = model.predictor, executor, settings
        self.batcher = batching(_batch_of)(model, executor, settings)
        self.continuous: dict[str, ContinuousGeneration] = {}  # by language, made on first use

    async def submit(self, body: TranslateRequest) -> list[dict]:
        if body.beam > 1 or body.attention:
            return await self.batcher.submit(body, len(body.sentences))
        translator = self.translator
        language, vocabulary = translator.target(body.language)
        if language not in self.continuous:
            self.continuous[language] = ContinuousGeneration(
                Seq2SeqSteps(translator.model, language), vocabulary.size, self.executor, self.settings.max_batch,
                self.settings.max_pending)
        source, lengths = pad_right(translator.source_ids(body.sentences))
        limits = output_limits(lengths, translator.max_output)
        made = await self.continuous[language].submit(Sequences(source, int(limits.max()), lengths=lengths,
                                                                limits=limits, stop=STOP))
        return [{"sentence": sentence, "translation": vocabulary.decode(ids.tolist())}
                for sentence, ids in zip(body.sentences, made)]


def _batch_of(translator):
    def run(jobs) -> list:
        """Each job's results; requests with the same decoding settings share one call. A call that
        fails is tried again request by request, so each hears of its own error only."""
        groups: dict[tuple, list] = {}
        for job in jobs:
            body = job.request
            groups.setdefault((body.beam, body.language, body.attention), []).append(job)
        answers = {}
        for group in groups.values():
            try:
                answers.update(zip(map(id, group), _translations(translator, [job.request for job in group])))
            except Exception as error:  # noqa: BLE001 - given to the request that caused it
                if len(group) == 1:
                    answers[id(group[0])] = error
                    continue
                for job in group:
                    try:
                        answers[id(job)] = _translations(translator, [job.request])[0]
                    except Exception as alone:  # noqa: BLE001
                        answers[id(job)] = alone
        return [answers[id(job)] for job in jobs]

    return run


def _translations(translator, bodies: list[TranslateRequest]) -> list[list[dict]]:
    """The results of requests with the same beam, language and attention, translated in one call."""
    first = bodies[0]
    sentences = [sentence for body in bodies for sentence in body.sentences]
    output = translator.translate(sentences, language=first.language, beam=first.beam, keep_attention=first.attention)
    translations, maps = output if first.attention else (output, None)
    results = [{"sentence": s, "translation": t} for s, t in zip(sentences, translations)]
    for result, (source, target, weights) in zip(results, maps or ()):
        result["attention"] = {"source": source, "target": target,
                               "weights": weights.round(decimals=INSPECT_DIGITS).tolist()}
    per_request, start = [], 0
    for body in bodies:
        per_request.append(results[start: start + len(body.sentences)])
        start += len(body.sentences)
    return per_request


def _document(document: dict, translators: list) -> None:
    """Each served run's languages and attention, in the request's schema."""
    request = document.get("components", {}).get("schemas", {}).get("TranslateRequest")
    if translators and request is not None:
        request["anyOf"] = [_translator(model, first=number == 0) for number, model in enumerate(translators)]


def _translator(model, first: bool) -> dict:
    """What one translation run accepts: its name (the first also by default), its languages, and
    attention only if it has it, with beam 1."""
    named = {"properties": {"model": {"enum": [model.name]}}, "required": ["model"]}
    chosen = {"anyOf": [named, {"not": {"required": ["model"]}}, {"properties": {"model": {"type": "null"}}}]
              } if first else named
    languages = {"properties": {"language": {"anyOf": [{"type": "null"}, {"enum": ["", *model.predictor.targets]}]}}}
    greedy_if_attention = {"anyOf": [{"properties": {"attention": {"const": False}}},
                                     {"properties": {"beam": {"const": 1}}}]}
    attention = greedy_if_attention if model.predictor.config.attention else {
        "properties": {"attention": {"const": False}}}
    return {"allOf": [chosen, languages, attention]}


def service() -> TaskService:
    return TaskService([Endpoint("/v1/translate", TranslateRequest, translate)], start=Engines, document=_document)
