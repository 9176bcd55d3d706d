"""What each endpoint accepts. Every field has a type and bounds; anything else is a 422 naming
the field. Strict: "3" is not a number, 1 is not true, and unknown fields are refused."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

MAX_BODY_BYTES = 1_000_000  # a larger request body is a 413
MAX_TEXTS = 64  # texts or sentences per request
MAX_TEXT_CHARS = 20_000  # characters per text to classify (the longest IMDB review has 13,704)
MAX_SENTENCE_CHARS = 500  # characters per sentence to translate
MAX_SEED_CHARS = 1_000
MAX_LENGTH = 2_000  # characters generated per sample
MAX_NUM = 16  # samples per generation request
MAX_BEAM = 16
MAX_INSPECT_CHARS = 1_000

ModelName = Annotated[str | None, Field(default=None, max_length=200, description="a name from /v1/models; "
                                                                                 "default: the first of the task")]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class SentimentRequest(Request):
    model: ModelName = None
    texts: list[Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS)]] = Field(
        min_length=1, max_length=MAX_TEXTS)
    explain: bool = Field(False, description="add each word's contribution to the predicted label")


class GenerateRequest(Request):
    model: ModelName = None
    seed: str = Field("", max_length=MAX_SEED_CHARS, description="text to continue")
    length: int = Field(200, ge=1, le=MAX_LENGTH, description="characters per sample")
    temperature: float = Field(1.0, gt=0, le=100, allow_inf_nan=False)
    top_k: int | None = Field(None, ge=1, le=100_000, description="sample among the k likeliest characters")
    top_p: float | None = Field(None, gt=0, le=1, allow_inf_nan=False,
                                description="sample among the likeliest characters holding this probability")
    num: int = Field(1, ge=1, le=MAX_NUM, description="samples")
    seed_rng: int | None = Field(None, ge=0, le=2**63 - 1, description="seed of the random numbers: repeatable text")
    stream: bool = Field(False, description="answer as Server-Sent Events, one event per step")


class TranslateRequest(Request):
    model: ModelName = None
    sentences: list[Annotated[str, Field(min_length=1, max_length=MAX_SENTENCE_CHARS)]] = Field(
        min_length=1, max_length=MAX_TEXTS)
    beam: int = Field(1, ge=1, le=MAX_BEAM, description="beam width (1: greedy)")
    language: str | None = Field(None, max_length=20, description="target language of a multi-task run")
    attention: bool = Field(False, description="add the attention weights (models with attention)")


class InspectRequest(Request):
    model: ModelName = None
    text: str = Field(min_length=1, max_length=MAX_INSPECT_CHARS)
