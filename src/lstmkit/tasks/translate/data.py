"""Pair files as the model trains on them: preprocessing, the held-out split, and batches."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ...errors import DataError
from ...text.batching import pad_right
from ...text.tokens import PAD, START, STOP
from ...text.vocabulary import Vocabulary
from .config import TranslateConfig
from .pairs import PairFile, Split, language_of, normalize, read_pairs, split_by_source


@dataclass
class Corpus:
    """Every file's pairs after preprocessing, and which English sentences are held out."""

    files: dict[str, PairFile]  # language -> its pairs (preprocessed), main language first
    split: Split

    @property
    def main(self) -> str:
        return next(iter(self.files))

    def part(self, language: str, part: str) -> list[tuple[str, str]]:
        return [pair for pair in self.files[language].pairs if self.split.part_of(split_key(pair[0])) == part]


def split_key(english: str) -> str:
    """What decides an English sentence's part: lower-case, no punctuation, so "Go!" and "Go." never
    land in two parts, and the split does not depend on the run's preprocessing."""
    return normalize(english, lowercase=True, strip_punctuation=True)


def read_corpus(pairs_path, config: TranslateConfig, log=print) -> Corpus:
    files, split = {}, None
    for path in [pairs_path, *config.also]:
        pair_file = read_pairs(path)
        language = language_of(path)
        if language in files:
            raise DataError(f"{path}: a second file for language {language!r}; give each target language once")
        if pair_file.skipped:
            log(f"{path}: skipped {pair_file.skipped:,} malformed lines (no tab, or an empty side)")
        if split is None:  # the main file decides which English sentences are held out, for every file
            keyed = [(split_key(english), other) for english, other in pair_file.pairs]
            split = split_by_source(keyed, test_pairs=config.test_pairs, validation_pairs=config.validation_pairs,
                                    seed=config.split_seed)
            _check_split(path, keyed, split, config)
        pairs = [(preprocess(english, config), preprocess(other, config)) for english, other in pair_file.pairs]
        files[language] = PairFile(pair_file.path, [p for p in pairs if p[0] and p[1]], pair_file.skipped)
    return Corpus(files, split)


def _check_split(path, keyed_pairs, split: Split, config: TranslateConfig) -> None:
    """A file too small for the held-out parts is one clear error, not a failure after training."""
    held_out = sum(split.part_of(english) != "train" for english, _ in keyed_pairs)
    if not split.validation or not split.test or len(keyed_pairs) - held_out < held_out:
        raise DataError(f"{path}: {len(keyed_pairs):,} pairs are too few to hold out `test_pairs` "
                        f"{config.test_pairs:,} "
                        f"and `validation_pairs` {config.validation_pairs:,} and train on the rest; expected at "
                        f"least twice as many pairs as are held out (or give smaller `test_pairs`/`validation_pairs`)")


def preprocess(text: str, config: TranslateConfig) -> str:
    return normalize(text, lowercase=config.lowercase, strip_punctuation=config.strip_punctuation)


def encode_pairs(pairs, source: Vocabulary, target: Vocabulary, max_length: int = 0):
    """-> [(source ids, target ids + stop)], leaving out pairs with a side over max_length tokens."""
    encoded = []
    for english, other in pairs:
        source_ids, target_ids = source.encode(english), target.encode(other)
        if max_length and (len(source_ids) > max_length or len(target_ids) > max_length):
            continue
        encoded.append((source_ids, target_ids + [STOP]))
    return encoded


def pair_batches(encoded, language: int, batch_size: int, generator=None, pool: int = 50):
    """Batches (source (batch, S), lengths (batch,), target_in (batch, T), target_out (batch, T),
    language (batch,)) of similar source lengths. target_in is target_out shifted right behind START."""
    order = torch.randperm(len(encoded), generator=generator).tolist() if generator is not None else \
        list(range(len(encoded)))
    pool_size = batch_size * pool
    for start in range(0, len(order), pool_size):
        chunk = sorted(order[start: start + pool_size], key=lambda r: (len(encoded[r][0]), len(encoded[r][1])))
        for i in range(0, len(chunk), batch_size):
            rows = chunk[i: i + batch_size]
            source, lengths = pad_right([encoded[r][0] for r in rows])
            target_out, _ = pad_right([encoded[r][1] for r in rows])
            target_in = torch.cat([torch.full((len(rows), 1), START), target_out[:, :-1]], 1)
            target_in[target_in == STOP] = PAD  # the stop token is never read
            yield source, lengths, target_in, target_out, torch.full((len(rows),), language)


class LanguageMix:
    """One epoch's batches from every language, in random order, made on the fly."""

    def __init__(self, per_language, batch_size, generator):
        self.per_language, self.batch_size, self.generator = per_language, batch_size, generator

    def __len__(self):
        return sum(math.ceil(len(encoded) / self.batch_size) for encoded in self.per_language)

    def __iter__(self):
        streams = [pair_batches(encoded, index, self.batch_size, self.generator)
                   for index, encoded in enumerate(self.per_language)]
        # which language each batch comes from: a shuffled list with each language's batch count
        turns = [index for index, encoded in enumerate(self.per_language)
                 for _ in range(math.ceil(len(encoded) / self.batch_size))]
        order = torch.randperm(len(turns), generator=self.generator).tolist()
        for position in order:
            yield next(streams[turns[position]])
