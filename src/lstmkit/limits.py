"""The allowed range of every number a user sets: the settings every task shares, in one table here;
each task's own beside its declaration (its `LIMITS`, this table and its own entries).

The command line parses its numeric flags with them (`flag_type`: a bad value is refused before
anything runs), the library checks settings with them (`check`; a config's: settings.check_config) and the service's
request schemas take their bounds from them, so all say the same thing. The upper bounds keep a typo
(an extra zero, 1e308) from turning into hours of work or an allocation the machine cannot make; each
is far above any sensible value.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Mapping
from dataclasses import dataclass

from .errors import SettingsError


@dataclass(frozen=True)
class Limit:
    low: float
    high: float
    whole: bool = False  # integers only
    open_low: bool = False  # low itself is not allowed
    open_high: bool = False
    note: str = ""  # what a special value means, such as "0: no clipping"

    def describe(self) -> str:
        """'a whole number from 1 to 100,000', 'a number in (0, 1]', with the note."""
        if self.whole:
            said = f"a whole number from {self.low:,} to {self.high:,}"
        else:
            low, high = "(" if self.open_low else "[", ")" if self.open_high else "]"
            said = f"a number in {low}{self.low:g}, {self.high:g}{high}"
        return said + (f" ({self.note})" if self.note else "")

    def allows(self, value) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if self.whole and not (isinstance(value, int) or (math.isfinite(value) and value == int(value))):
            return False
        above = value > self.low if self.open_low else value >= self.low
        below = value < self.high if self.open_high else value <= self.high
        return above and below  # NaN fails both


def whole(low: int, high: int, note: str = "") -> Limit:
    return Limit(low, high, whole=True, note=note)


SEED = whole(0, 2**32 - 1)
_SIZE = whole(1, 16_384)
COUNT = whole(1, 10_000_000)

LIMITS: dict[str, Limit] = {
    # training, every task
    "epochs": whole(1, 100_000),
    "batch_size": whole(1, 65_536),
    "lr": Limit(0, 10, open_low=True),
    "lr_decay": Limit(0, 1, open_low=True, note="1 keeps the learning rate"),
    "dropout": Limit(0, 1, open_high=True),
    "clip_norm": Limit(0, 1e6, note="0: no clipping"),
    "minutes": Limit(0, 100_000, open_low=True),
    "patience": whole(1, 10_000),
    "micro_batch": whole(0, 65_536, "0: whole batches"),
    "ema": Limit(0, 1, open_low=True, open_high=True, note="such as 0.999"),
    "seed": SEED,
    "processes": whole(1, 1024),
    "threads": whole(1, 1024),
    # models
    "hidden": _SIZE,
    "units": _SIZE,
    "layers": whole(1, 64),
    "embedding_dim": whole(0, 16_384, "0: one-hot inputs"),
    "dim": _SIZE,
    # generation
    "length": whole(0, 10_000_000),
    "num": whole(1, 10_000),
    "temperature": Limit(1e-6, 100, note="logits / temperature: lower overflows float32"),
    "top_k": whole(1, 1_000_000),
    "top_p": Limit(0, 1, open_low=True),
    # serve
    "port": whole(0, 65_535, "0: any free port"),
    "workers": whole(1, 256),
    "layer": whole(1, 64),
    "max_batch": whole(1, 4_096, "1: no batching"),
    "max_pending": whole(1, 1_000_000),
    "request_timeout": Limit(0, 86_400, open_low=True),
}


def check(name: str, value, limits: Mapping[str, Limit] = LIMITS) -> None:
    """Raises SettingsError naming the setting when `value` is outside its limit in `limits`."""
    limit = limits[name]
    if not limit.allows(value):
        raise SettingsError(name, f"must be {limit.describe()}, got {value!r}")


def flag_type(name: str, limits: Mapping[str, Limit] = LIMITS):
    """An argparse `type` that reads the flag's number and checks it against the setting's limit."""
    limit = limits[name]

    def parse(text: str):
        try:
            value = int(text) if limit.whole else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {limit.describe()}, got {text!r}") from None
        if not limit.allows(value):
            raise argparse.ArgumentTypeError(f"must be {limit.describe()}, got {text}")
        return value

    parse.__name__ = name  # argparse names the type in some messages
    return parse
