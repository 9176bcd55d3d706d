"""Characters as tokens: reading a text file, and training batches made
on the fly (never the whole N x 60 x 57 one-hot tensor).

Characters are Unicode code points, so accents and emoji are single tokens.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import torch

from ...errors import DataError
from .config import LECTURE_SEGMENT, LECTURE_STRIDE



def read_text(path, *, lowercase: bool = False, min_chars: int = 2) -> str:
    """A whole UTF-8 text file, every line end (Windows' CR LF, old Macs' CR) read as LF, so a model spends
    no character on them; DataError if it is missing, empty, binary or shorter than min_chars."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: text file not found; expected a UTF-8 text file")
    raw = path.read_bytes()
    if b"\x00" in raw:
        raise DataError(f"{path}: looks binary (contains NUL bytes); expected a UTF-8 text file")
    try:
        text = raw.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not UTF-8 (undecodable byte at offset {error.start}); "
                        "expected a UTF-8 text file") from None
    if len(text) < min_chars:
        raise DataError(f"{path}: has {len(text)} characters; expected at least {min_chars}")
    return text.lower() if lowercase else text


def split_held_out(ids: torch.Tensor, fraction: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(training ids, held-out ids): the last `fraction` of the text is held out, in one piece."""
    if not 0 <= fraction < 1:
        raise ValueError(f"the held-out fraction must lie in [0, 1), got {fraction}")
    cut = len(ids) - int(len(ids) * fraction)
    return ids[:cut], ids[cut:]


def lecture_starts(length: int, segment: int = LECTURE_SEGMENT, stride: int = LECTURE_STRIDE) -> torch.Tensor:
    """Start of every (segment, next character) pair, exactly as the lecture's
    `range(0, len(text) - segment, stride)`: 200,278 for the lowercased Nietzsche text."""
    return torch.arange(0, max(length - segment, 0), stride)


def segment_batches(ids: torch.Tensor, starts: torch.Tensor, segment: int, batch_size: int,
                    generator: torch.Generator | None = None) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Lecture mode (many-to-one): (segments (batch, segment) ids, next characters (batch,)),
    gathered per batch from the id sequence; shuffled if a generator is given."""
    return _gather(ids, starts, segment, batch_size, generator, next_only=True)


def window_batches(ids: torch.Tensor, window: int, batch_size: int,
                   generator: torch.Generator | None = None) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Fast mode (many-to-many): (inputs (batch, window), targets (batch, window)), the targets
    being the inputs shifted by one character. Windows start at a random offset each epoch and come
    shuffled if a generator is given, so every character is a target once per epoch."""
    if len(ids) < window + 1:
        raise ValueError(f"the text has {len(ids)} characters; a window needs at least {window + 1}")
    shift = int(torch.randint(0, window, (1,), generator=generator)) if generator is not None else 0
    return _gather(ids, torch.arange(shift, len(ids) - window, window), window, batch_size, generator,
                   next_only=False)


def _gather(ids, starts, length, batch_size, generator, *, next_only):
    order = starts[torch.randperm(len(starts), generator=generator)] if generator is not None else starts
    offsets = torch.arange(length)
    for first in range(0, len(order), batch_size):
        begin = order[first: first + batch_size]
        index = begin[:, None] + offsets
        yield ids[index], (ids[begin + length] if next_only else ids[index + 1])
