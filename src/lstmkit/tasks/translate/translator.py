"""A trained translation run in use: load it, translate, score, and draw attention."""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import torch

from ...catalogue import located
from ...dependencies import need
from ...errors import DataError, RunError, SettingsError
from ...generation.search import beam_decode, greedy_decode, sentences_per_batch
from ...inspection import Inspection, inspect_layers
from ...limits import check
from ...metrics import translation_scores
from ...text.batching import pad_right
from ...text.tokens import PAD, UNKNOWN
from ...text.vocabulary import Vocabulary
from ...training.recipe import load_trained
from ...training.run import RunDirectory
from . import LIMITS
from .config import TranslateConfig
from .data import preprocess
from .model import Seq2Seq, Seq2SeqSteps
from .pairs import cut, read_pairs


@dataclass
class Translator:
    """A trained model with its vocabularies and limits, ready to translate. Calls only read the
    weights (the decoder caches their step layout once): threads may share one translator."""

    model: Seq2Seq
    config: TranslateConfig
    source: Vocabulary
    targets: dict[str, Vocabulary]
    max_source: int  # longest training source, in tokens: longer inputs are cut
    max_output: int  # decoding guard, in tokens

    @property
    def device(self):
        return next(self.model.parameters()).device

    def translate(self, sentences: list[str], *, language: str | None = None, beam: int = 1,
                  alpha: float = 1.0, keep_attention: bool = False, bf16: bool = False):
        """-> translations (and with keep_attention, [(source tokens, target tokens, weights (T, S))]).
        bf16: every matrix product in bfloat16 (Seq2SeqSteps)."""
        language, vocabulary = self.target(language)
        check("beam", beam, LIMITS)
        check("alpha", alpha, LIMITS)
        encoded = self.source_ids(sentences)
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
        results, maps = [None] * len(encoded), [None] * len(encoded)
        if self.model.training:
            self.model.eval()
        size = sentences_per_batch(beam, vocabulary.size)
        decoder = Seq2SeqSteps(self.model, language, bf16)
        for start in range(0, len(order), size):
            rows = order[start: start + size]
            source, lengths = pad_right([encoded[r] for r in rows])
            source, lengths = source.to(self.device), lengths.to(self.device)
            attention = None
            if beam > 1:
                ids = beam_decode(decoder, source, lengths, self.max_output, beam, alpha)
            else:
                ids, attention = greedy_decode(decoder, source, lengths, self.max_output, keep_attention=keep_attention)
            for position, row in enumerate(rows):
                results[row] = vocabulary.decode(ids[position].tolist())
                if keep_attention and attention is not None:
                    steps = int((ids[position] != PAD).sum())
                    source_tokens = [self.source.tokens[i] for i in encoded[row]]
                    target_tokens = [vocabulary.tokens[i] for i in ids[position, :steps].tolist()]
                    maps[row] = (source_tokens, target_tokens, attention[position, :steps, : len(encoded[row])])
        return (results, maps) if keep_attention else results

    def target(self, language: str | None) -> tuple[str, Vocabulary]:
        """The target language asked for (None: the run's first) and its vocabulary."""
        language = language or self.model.languages[0]
        if language not in self.targets:
            raise SettingsError("language", f"{language!r}: this run translates into {', '.join(self.targets)}")
        return language, self.targets[language]

    def source_ids(self, sentences: list[str]) -> list[list[int]]:
        """Each English sentence preprocessed as in training and encoded, cut to the longest
        training source (with a warning); one the vocabulary knows nothing of is one unknown token."""
        for number, sentence in enumerate(sentences, 1):
            if not sentence.strip():
                raise DataError(f"sentence {number} to translate is empty; expected some words")
        encoded = []
        for sentence in sentences:
            ids = cut(self.source.encode(preprocess(sentence, self.config)), self.max_source,
                      f"input {sentence[:40]!r}")
            encoded.append(ids or [UNKNOWN])
        return encoded

    def parameter_count(self) -> int:
        """The weights it computes with."""
        return sum(p.numel() for p in self.model.parameters())

    def inspect(self, sentence: str) -> Inspection:
        """The encoder's LSTM layers over the English `sentence`, token by token (as preprocessed)."""
        ids = self.source.encode(preprocess(sentence, self.config))[: self.max_source] or [UNKNOWN]
        with torch.no_grad():
            x = self.model.encoder.input(torch.tensor([ids], device=self.device))
        return inspect_layers(self.model.encoder.layers, x, [self.source.tokens[i] for i in ids], "LSTM")


def group_references(pairs) -> tuple[list[str], list[list[str]]]:
    """Pairs -> (unique English sentences in first-seen order, every translation of each)."""
    grouped: dict[str, list[str]] = {}
    for english, other in pairs:
        grouped.setdefault(english, []).append(other)
    return list(grouped), list(grouped.values())


def score(translator: Translator, pairs, *, language: str | None = None, beam: int = 1, alpha: float = 1.0,
          examples: int = 0, bf16: bool = False) -> dict:
    """BLEU, chrF and exact match of the translations of the pairs' English sentences; each sentence
    is translated once and scored against all its translations in `pairs`."""
    sources, references = group_references(pairs)
    started = time.perf_counter()
    hypotheses = translator.translate(sources, language=language, beam=beam, alpha=alpha, bf16=bf16)
    seconds = time.perf_counter() - started
    result = translation_scores(hypotheses, references)
    result.update(sentences=len(sources), pairs=len(pairs), seconds=round(seconds, 2))
    if examples:
        result["examples"] = [{"source": s, "translation": h, "references": r}
                              for s, h, r in list(zip(sources, hypotheses, references))[:examples]]
    return result


def load(run_path, device: str = "cpu") -> Translator:
    def make_model(config, vocabularies):
        source, targets = vocabularies
        return Seq2Seq(config, source.size, {language: target.size for language, target in targets.items()})

    def vocabularies_of(data, run):
        return read_vocabularies(data, run.saved("languages", list[str]))

    model, (source, targets), config, run = load_trained(run_path, "translate", TranslateConfig, vocabularies_of,
                                                         make_model, device)
    return Translator(model, config, source, targets, run.saved("max_source", int), run.saved("max_output", int))


def open_translator(runs: list, device: str = "cpu") -> Translator:
    """lstmkit.load's: the translator of one run."""
    (run_path,) = runs
    return load(run_path, device)


def read_vocabularies(data: dict, languages: list[str]) -> tuple[Vocabulary, dict[str, Vocabulary]]:
    """vocab.json's data -> (source vocabulary, {language: target vocabulary})."""
    return (Vocabulary.from_json(data["source"]),
            {language: Vocabulary.from_json(data["targets"][language]) for language in languages})


def held_out_pairs(run_path, part: str = "test") -> list[tuple[str, str]]:
    """The run's own validation or test pairs (as preprocessed for it)."""
    path = RunDirectory(located(run_path)).file(f"{part}.tsv")
    if not path.is_file():
        raise RunError(f"{run_path} has no {part}.tsv; expected a folder written by `lstmkit translate train`")
    return read_pairs(path).pairs


def evaluate(run_path, pairs_path=None, *, beam: int = 1, alpha: float = 1.0, language: str | None = None,
             device: str = "auto", examples: int = 5, bf16: bool = False) -> dict:
    """Scores on the run's test split, or on every pair of `pairs_path` (preprocessed as in training)."""
    translator = load(run_path, device)
    if pairs_path is None:
        main_language = translator.model.languages[0]
        if language not in (None, main_language):
            raise SettingsError("language", f"{language}: the run's test split holds {main_language} references; "
                             f"give --pairs FILE with {language} translations")
        pairs = held_out_pairs(run_path, "test")
    else:
        pair_file = read_pairs(pairs_path)
        pairs = [(preprocess(e, translator.config), preprocess(o, translator.config)) for e, o in pair_file.pairs]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # overlong inputs are cut; one warning each would flood the output
        result = score(translator, pairs, language=language, beam=beam, alpha=alpha, examples=examples, bf16=bf16)
    result.update(beam=beam, bf16=bf16)
    return result


def plot_attention(maps, path) -> None:
    """Saves one heat map per sentence (target tokens down, source tokens across) in one PNG."""
    figure_class = need("matplotlib.figure", "plotting the attention map").Figure  # not pyplot: no global state
    maps = [m for m in maps if m is not None]
    figure = figure_class(figsize=(max(6.5, 0.45 * max(len(m[0]) for m in maps) + 3),
                                   sum(0.35 * len(m[1]) + 1.2 for m in maps)))
    axes = figure.subplots(len(maps), 1, squeeze=False)
    for axis, (source_tokens, target_tokens, weights) in zip(axes[:, 0], maps):
        image = axis.imshow(weights.numpy(), cmap="viridis", aspect="auto", vmin=0, vmax=1)
        figure.colorbar(image, ax=axis, label="attention weight")
        axis.set_title(f"{''.join(source_tokens) if len(source_tokens[0]) == 1 else ' '.join(source_tokens)}",
                       fontsize=9, loc="left")
        axis.set_xticks(range(len(source_tokens)), [repr(t)[1:-1] for t in source_tokens], rotation=90)
        axis.set_yticks(range(len(target_tokens)), [repr(t)[1:-1] for t in target_tokens])
        axis.set_xlabel("source")
        axis.set_ylabel("translation")
    figure.suptitle("Attention: how much each translated token looks at each source token", fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
