"""A trained char model that writes: seeds, sampling strategies, streaming, and its gates."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator

import torch

from ...errors import RunError
from ...inspection import Inspection, inspect_layers
from ...limits import check
from ...generation.sampling import sample, sampled_tokens, sampling_options, stepwise
from ...text.vocabulary import Vocabulary
from ...training.recipe import load_trained, run_list
from .chars import read_text
from .config import CONTEXT, TextgenConfig
from .model import CharEnsemble, CharModel, held_out_nats, known_ids


def load(run_path, device: str = "cpu") -> tuple[CharModel, Vocabulary, TextgenConfig]:
    model, vocabulary, config, _ = load_trained(run_path, "textgen", TextgenConfig,
                                                lambda data, run: Vocabulary.from_json(data),
                                                lambda config, vocabulary: CharModel(config, vocabulary.size), device)
    return model, vocabulary, config


def load_runs(run_paths, device: str = "cpu") -> tuple[CharModel | CharEnsemble, Vocabulary, TextgenConfig]:
    """One run directory, or a list of them: an ensemble, whose runs must know the same characters
    and read text the same way (lower-cased or not); the first run's vocabulary and config."""
    paths = run_list(run_paths)
    loaded = [load(path, device) for path in paths]
    first, (_, vocabulary, config) = paths[0], loaded[0]
    for path, (_, other, other_config) in zip(paths[1:], loaded[1:]):
        if other.kept != vocabulary.kept:
            raise RunError(f"{path} was trained on other characters ({other.size}) than {first} ({vocabulary.size}); "
                           f"an ensemble needs runs trained on the same characters (the same text)")
        if other_config.lowercase != config.lowercase:
            raise RunError(f"{path} reads text {'lower-cased' if other_config.lowercase else 'as written'} but "
                           f"{first} does not; an ensemble needs runs that read text the same way")
    model = loaded[0][0] if len(loaded) == 1 else CharEnsemble([member for member, _, _ in loaded])
    return model, vocabulary, config


class TextGenerator:
    """A trained character model (or an ensemble: several whose probabilities are averaged) ready to
    write, with the weights as they are when it is made. Calls only read them (each has its own
    state and random numbers): threads may share one generator."""

    def __init__(self, model: CharModel | CharEnsemble, vocabulary: Vocabulary, config: TextgenConfig,
                 name: str = "the model"):
        self.model, self.vocabulary, self.config, self.name = model, vocabulary, config, name
        self.sampler = model.sampler()  # its weight tables, laid out once for every call

    @classmethod
    def load(cls, run_paths, device: str = "cpu") -> "TextGenerator":
        """One run directory, or a list of them (an ensemble: see load_runs)."""
        return cls(*load_runs(run_paths, device), name=" + ".join(map(str, run_list(run_paths))))

    def seed_ids(self, seed_text: str) -> torch.Tensor:
        """The seed text's ids; characters the model never saw are left out (with a warning), and a text
        with none it knows starts from a newline (or the first character)."""
        text = seed_text.lower() if self.config.lowercase else seed_text
        if unknown := self.vocabulary.unknown(text):
            warnings.warn(f"{self.name} never saw {''.join(unknown)!r} in training; left out of the text it reads",
                          stacklevel=3)
        ids = known_ids(self.vocabulary, text)
        return ids if len(ids) else torch.tensor([self.vocabulary.index.get("\n", 0)])

    def _start(self, seed_text: str, length: int, num: int, seed: int | None):
        """-> (the seed texts' ids (num, time), the random generator) for one call."""
        check("length", length)
        check("num", num)
        if seed is not None:
            check("seed", seed)
        generator = torch.Generator().manual_seed(seed) if seed is not None else None
        return self.seed_ids(seed_text)[None].repeat(num, 1), generator

    def generate(self, seed_text: str, length: int, *, strategy: str | None = None, temperature: float = 1.0,
                 top_k: int | None = None, top_p: float | None = None, num: int | None = None,
                 seed: int | None = None) -> Iterator[str] | Iterator[tuple[str, ...]]:
        """Yields, as they are made, `length` pieces of text after `seed_text`: one character per step,
        so `"".join(generator.generate("the ", 50))` is 50 characters. With `num`, that many samples
        at once, and each step yields a tuple of one piece per sample. top_k or top_p picks that
        strategy (see sampling_options); `seed` makes the random draws repeatable."""
        options = sampling_options(strategy, temperature, top_k, top_p)
        seeds, generator = self._start(seed_text, length, 1 if num is None else num, seed)
        for token in stepwise(sampled_tokens(self.sampler, seeds, length, options, generator)):
            pieces = tuple(self.vocabulary.decode(token[row: row + 1]) for row in range(len(token)))
            yield pieces[0] if num is None else pieces

    def sample(self, seed_text: str, length: int, *, strategy: str | None = None, temperature: float = 1.0,
               top_k: int | None = None, top_p: float | None = None, num: int = 1, seed: int | None = None,
               on_text=None) -> list[str]:
        """`num` whole samples of `length` characters after `seed_text` in one fast pass: the text
        generate() gives for the same seed. `on_text(str)` receives the first sample's
        characters as they are made. It lowers torch's thread count while it runs (small steps
        are faster on one thread): call it from one thread at a time."""
        options = sampling_options(strategy, temperature, top_k, top_p)
        seeds, generator = self._start(seed_text, length, num, seed)
        stream = (lambda token: on_text(self.vocabulary.decode(token[:1]))) if on_text else None
        generated = sample(self.sampler, seeds, length, options, generator, on_token=stream)
        return [self.vocabulary.decode(row) for row in generated]

    def parameter_count(self) -> int:
        """The weights it computes with (an ensemble's: all its members')."""
        return sum(p.numel() for p in self.model.parameters())

    def inspect(self, text: str) -> Inspection:
        """Every LSTM layer's gates, candidate, cell state and output at each character of `text`
        (characters the model never saw are left out); of an ensemble, its first run's."""
        ids = self.seed_ids(text)
        model = self.model.members[0] if isinstance(self.model, CharEnsemble) else self.model
        device = next(model.parameters()).device
        x = model.input_table().to(device)[ids.to(device)][None]
        return inspect_layers(model.recurrent, x, [self.vocabulary.decode(ids[t: t + 1]) for t in range(len(ids))],
                              "LSTM")


def evaluate(run_paths, text_path, *, device: str = "auto") -> dict:
    """nats/char and bits/char of a trained run (or an ensemble: a list of runs) on every position
    of a text (60-character context)."""
    model, vocabulary, config = load_runs(run_paths, device)
    text = read_text(text_path, lowercase=config.lowercase, min_chars=CONTEXT + 2)
    unknown = vocabulary.unknown(text)
    ids = known_ids(vocabulary, text)
    nats = held_out_nats(model, ids, next(model.parameters()).device)
    runs = len(model.members) if isinstance(model, CharEnsemble) else 1
    return {"nats_per_char": nats, "bits_per_char": nats / math.log(2), "characters": len(ids), "runs": runs,
            "skipped_unknown_characters": len(text) - len(ids), "unknown": "".join(unknown)}


def open_generator(runs: list, device: str = "cpu") -> TextGenerator:
    """lstmkit.load's: the generator of one run, or of an ensemble of several."""
    return TextGenerator.load(runs, device)
