"""A setting declared once, beside the config it belongs to: its default, what it means, its limit (a
number) or its choices (a word). The command line's flags (cli/options.add_config_options), the limits
a task declares, and the checks of a config (`check_config`, run on every config a task trains with
or reads from config.json) are all made from that declaration.

Dataclass metadata, not pydantic: the configs are frozen dataclasses written into config.json as they
are (dataclasses.asdict), and a task's declaration must stay importable without pydantic or torch (the
command line reads it before either loads); the request schemas take their bounds from the same limits.
This module imports nothing heavy.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import SettingsError
from .limits import LIMITS, SEED, Limit, check


def setting(default: Any = None, help: str = "", *, limit: Limit | None = None, choices: Sequence[str] = (),
            metavar: str | None = None, factory=None, flag: bool = True):
    """A config field with what the rest of lstmkit reads of it (`factory`: a mutable default's maker;
    `flag`: whether the command line offers it)."""
    metadata = {"help": help, "limit": limit, "choices": tuple(choices), "metavar": metavar, "flag": flag}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def declaration(config_class, name: str) -> Mapping[str, Any]:
    """What `name` was declared with: a subclass may give a field another default (`lr: float = 0.01`);
    its meaning, limit and choices stay those of the class that declared it."""
    for klass in config_class.__mro__:
        found = getattr(klass, "__dataclass_fields__", {}).get(name)
        if found is not None and found.metadata:
            return found.metadata
    return {}


def limits_of(config_class) -> dict[str, Limit]:
    """Each number of the config with its limit."""
    limits = {}
    for item in dataclasses.fields(config_class):
        limit = declaration(config_class, item.name).get("limit")
        if limit is not None:
            limits[item.name] = limit
    return limits


def check_config(config) -> None:
    """SettingsError naming the first setting of `config` outside its limit or its choices."""
    for item in dataclasses.fields(config):
        value, declared = getattr(config, item.name), declaration(type(config), item.name)
        if value is None:
            continue
        if declared.get("limit") is not None:
            check(item.name, value, {item.name: declared["limit"]})
        if declared.get("choices") and value not in declared["choices"]:
            raise SettingsError(item.name, f"must be one of {', '.join(declared['choices'])}, got {value!r}")


OPTIMIZERS = ("rmsprop", "adam")


@dataclass(frozen=True)
class TrainingConfig:
    """The settings train_recipe reads from every task's config (a task's config extends it, and
    may give other defaults); frozen: the presets are values no training can change."""
    optimizer: str = setting("rmsprop", choices=OPTIMIZERS)
    lr: float = setting(1e-3, "learning rate", limit=LIMITS["lr"])
    batch_size: int = setting(128, limit=LIMITS["batch_size"])
    epochs: int = setting(10, limit=LIMITS["epochs"])
    minutes: float | None = setting(None, "stop after this much training time in all (the epoch in progress "
                                          "ends early)", limit=LIMITS["minutes"])
    clip_norm: float | None = setting(None, "clip the gradient norm at this (0: no clipping)",
                                      limit=LIMITS["clip_norm"])
    ema: float | None = setting(None, "validate and keep a moving average of the weights, updated every step "
                                      "with this decay (such as 0.999)", limit=LIMITS["ema"], metavar="DECAY")
    seed: int = setting(0, limit=SEED)

