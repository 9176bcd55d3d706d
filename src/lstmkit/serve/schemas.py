"""What the endpoints accept, the parts every task's request schema shares. Every field has a type
and bounds; anything else is a 422 naming the field. Strict: "3" is not a number, 1 is not true, and
unknown fields are refused; 3.0 is the whole number 3, as JSON Schema says. Bounds of settings come
from limits.py (a task's own: its LIMITS)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from ..limits import LIMITS, Limit

MAX_TEXTS = 64  # texts or sentences per request
MAX_TEXT_CHARS = 20_000  # characters per text (the longest IMDB review has 13,704)
# a larger request body is a 413; any body the schema accepts fits, a character at most 12 bytes of JSON ("\ud83d\ude00")
MAX_BODY_BYTES = MAX_TEXTS * MAX_TEXT_CHARS * 12 + 100_000
MAX_INSPECT_CHARS = 1_000
INSPECT_DIGITS = 4  # gate values (and attention weights) are rounded to this many decimals in a response

ModelName = Annotated[str | None, Field(default=None, min_length=1, max_length=200,
                                        description="a name from /v1/models; default: the first of the task")]


def _integral(value):
    """16.0 is the integer 16, as JSON Schema counts it; 16.5, "16" and true are not."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def whole(**bounds):
    """An integer field with these bounds that takes 16.0 as 16 (bounds first: the schema shows them)."""
    return Annotated[int, Field(**bounds), BeforeValidator(_integral)]


def bounds(name: str, limits: Mapping[str, Limit] = LIMITS) -> dict:
    """The Field bounds of a setting, from its one home (limits.py, or a task's LIMITS)."""
    limit = limits[name]
    return {"gt" if limit.open_low else "ge": limit.low, "lt" if limit.open_high else "le": limit.high}


class StrictRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class InspectRequest(StrictRequest):
    model: ModelName = None
    text: str = Field(min_length=1, max_length=MAX_INSPECT_CHARS,
                      description="what the model reads of it is inspected (none of it: no steps)")
