"""What each endpoint accepts. Every field has a type and bounds; anything else is a 422 naming
the field. Strict: "3" is not a number, 1 is not true, and unknown fields are refused; 3.0 is the
whole number 3, as JSON Schema says. Bounds of settings come from limits.py."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from ..limits import LIMITS
from ..text.words import HAS_A_WORD, NOT_BLANK

MAX_TEXTS = 64  # texts or sentences per request
MAX_TEXT_CHARS = 20_000  # characters per text to classify (the longest IMDB review has 13,704)
# a larger request body is a 413; any body the schema accepts fits, a character at most 12 bytes of JSON ("\ud83d\ude00")
MAX_BODY_BYTES = MAX_TEXTS * MAX_TEXT_CHARS * 12 + 100_000
MAX_SENTENCE_CHARS = 500  # characters per sentence to translate
MAX_SEED_CHARS = 1_000
MAX_LENGTH = 2_000  # characters generated per sample
MAX_NUM = 16  # samples per generation request
MAX_BEAM = 16
MAX_INSPECT_CHARS = 1_000

ModelName = Annotated[str | None, Field(default=None, min_length=1, max_length=200,
                                        description="a name from /v1/models; default: the first of the task")]


def _integral(value):
    """16.0 is the integer 16, as JSON Schema counts it; 16.5, "16" and true are not."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def whole(**bounds):
    """An integer field with these bounds that takes 16.0 as 16 (bounds first: the schema shows them)."""
    return Annotated[int, Field(**bounds), BeforeValidator(_integral)]


def bounds(name: str) -> dict:
    """The Field bounds of a setting, from its one home (limits.py)."""
    limit = LIMITS[name]
    return {"gt" if limit.open_low else "ge": limit.low, "lt" if limit.open_high else "le": limit.high}


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class SentimentRequest(Request):
    model: ModelName = None
    # the pattern is checked by the classifier (its message names the text): the schema says it
    texts: list[Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS, json_schema_extra={
        "pattern": HAS_A_WORD, "description": "a text with a word: not only punctuation, white space and <br />"})]
    ] = Field(min_length=1, max_length=MAX_TEXTS)
    explain: bool = Field(False, description="add each word's contribution to the predicted label")


class GenerateRequest(Request):
    model: ModelName = None
    seed: str = Field("", max_length=MAX_SEED_CHARS, description="text to continue")
    length: whole(ge=1, le=MAX_LENGTH) = Field(200, description="characters per sample")
    temperature: float = Field(1.0, **bounds("temperature"), allow_inf_nan=False)
    top_k: whole(**bounds("top_k")) | None = Field(
        None, description="sample among the k likeliest characters")
    top_p: float | None = Field(None, **bounds("top_p"), allow_inf_nan=False,
                                description="sample among the likeliest characters holding this probability "
                                            "(the likeliest always)")
    num: whole(ge=1, le=MAX_NUM) = Field(1, description="samples")
    # 2**53 - 1: the largest integer a float (JSON in a browser, a schema validator) holds exactly
    seed_rng: whole(ge=0, le=2**53 - 1) | None = Field(
        None, description="seed of the random numbers: repeatable text")
    stream: bool = Field(False, description="answer as Server-Sent Events, one event per step")


class TranslateRequest(Request):
    model: ModelName = None
    # the pattern is checked by the translator (its message names the sentence): the schema says it
    sentences: list[Annotated[str, Field(min_length=1, max_length=MAX_SENTENCE_CHARS, json_schema_extra={
        "pattern": NOT_BLANK, "description": "not only white space"})]] = Field(
        min_length=1, max_length=MAX_TEXTS)
    beam: whole(ge=1, le=MAX_BEAM) = Field(1, description="beam width (1: greedy)")
    language: str | None = Field(None, max_length=20, description="target language of a multi-task run")
    attention: bool = Field(False, description="add the attention weights (models with attention)")


class InspectRequest(Request):
    model: ModelName = None
    text: str = Field(min_length=1, max_length=MAX_INSPECT_CHARS,
                      description="what the model reads of it is inspected (none of it: no steps)")
