"""Labelled texts as the model trains on them: class indices, word ids, the validation split,
batches, and pretrained word vectors."""

from __future__ import annotations

import dataclasses
import time

import torch

from ...errors import DataError
from ...text.batching import length_batches, padded_batches
from .readers import LabelledTexts, read_labelled, read_unlabelled
from .vectors import EXPECTED_VECTORS, embedding_matrix, load_word_vectors, train_word2vec, vector_size
from ...text.vocabulary import Vocabulary
from .config import SentimentConfig


def class_indices(data: LabelledTexts, classes: list[str]) -> list[int]:
    """Each text's class index; a label the model never saw is a DataError naming it."""
    index = {name: position for position, name in enumerate(classes)}
    unseen = sorted(set(data.labels) - set(index))
    if unseen:
        raise DataError(f"{data.source}: label {unseen[0]!r} was never seen in training; "
                        f"the model knows: {', '.join(classes)}")
    return [index[label] for label in data.labels]


def encode_last(vocabulary: Vocabulary, text: str, maxlen: int | None) -> list[int]:
    """The ids of `text`'s last `maxlen` words (as the lecture's pad_sequences keeps them: a review's
    verdict tends to come at its end)."""
    ids = vocabulary.encode(text)
    return ids[-maxlen:] if maxlen else ids


class Prepared:
    """One split as id sequences and integer targets: class indices, or for unlabelled texts each
    text's position (carried through the batches so that results go back in the texts' order)."""

    def __init__(self, sequences: list[list[int]], targets: list[int]):
        self.sequences, self.targets = sequences, targets

    @classmethod
    def labelled(cls, data: LabelledTexts, vocabulary: Vocabulary, classes: list[str], maxlen: int):
        return cls([encode_last(vocabulary, text, maxlen) for text in data.texts], class_indices(data, classes))

    @classmethod
    def unlabelled(cls, texts: list[str], vocabulary: Vocabulary, maxlen: int):
        return cls([encode_last(vocabulary, text, maxlen) for text in texts], list(range(len(texts))))

    def __len__(self):
        return len(self.targets)


FEW_VALIDATION_TEXTS = 30  # below this, one text moves validation accuracy by > 3 points


def split_validation(data: LabelledTexts, fraction: float, seed: int,
                     by_group: bool = False) -> tuple[LabelledTexts, LabelledTexts]:
    """(train, validation): a seeded shuffle, the last `fraction` for validation. by_group shuffles
    data.groups instead and validates on the last whole groups that make up `fraction` of the texts."""
    generator = torch.Generator().manual_seed(seed)
    if by_group:
        if data.groups is None:
            raise DataError(f"{data.source}: `val_by_group` needs a group per text (aclImdb's "
                            f"{{train,test}}/urls_<class>.txt give each review's movie; for CSV/TSV/JSONL "
                            f"name the column with `group_column`); none found")
        members: dict[str, list[int]] = {}
        for row, group in enumerate(data.groups):
            members.setdefault(group, []).append(row)
        groups = list(members)
        order = [row for g in torch.randperm(len(groups), generator=generator).tolist() for row in members[groups[g]]]
    else:
        order = torch.randperm(len(data.texts), generator=generator).tolist()
    cut = len(order) - max(1, round(len(order) * fraction))
    while by_group and 0 < cut < len(order) and data.groups[order[cut - 1]] == data.groups[order[cut]]:
        cut -= 1  # the group at the cut goes to validation whole
    return data.rows(order[:cut]), data.rows(order[cut:])


def sample_texts(data: LabelledTexts, count: int, seed: int) -> LabelledTexts:
    """A seeded sample of `count` of the texts, in their order (all of them if there are no more)."""
    if count >= len(data):
        return data
    chosen = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))[:count]
    return data.rows(sorted(chosen.tolist()))


def batches_of(prepared: Prepared, config: SentimentConfig, generator=None, batch_size=None) -> list:
    size = batch_size or config.batch_size
    if config.batching == "padded":
        return list(padded_batches(prepared.sequences, prepared.targets, size, config.maxlen, generator))
    return list(length_batches(prepared.sequences, prepared.targets, size, generator))


def pretrain_word_vectors(data_path, dim: int, *, train_texts=None, unlabelled=None, seed: int = 0, log=print):
    """Step 1 of the lecture's pretraining: word2vec on the unlabelled reviews (aclImdb's
    train/unsup, or `unlabelled`) plus the training texts (all of `data_path`'s training split if
    not given). Test texts are never read. -> gensim KeyedVectors."""
    if train_texts is None:
        splits = read_labelled(data_path)
        train_texts = (splits.get("train") or splits["all"]).texts
    corpus = read_unlabelled(unlabelled or data_path) + list(train_texts)
    started = time.perf_counter()
    vectors = train_word2vec(corpus, dim, seed=seed)
    log(f"word2vec: {len(corpus):,} texts, {len(vectors.key_to_index):,} words, {time.perf_counter() - started:.0f} s")
    return vectors


def sized_for_vectors(config: SentimentConfig, log) -> SentimentConfig:
    """The config with a vectors file's size as its embedding_dim, read from the file's first line:
    every process of a distributed run reads it there (the file, as the data, lies at the same path
    on each machine), without a collective call and without loading the vectors."""
    if config.pretrained in (None, "word2vec"):
        return config
    size = vector_size(config.pretrained)
    if size != config.embedding_dim:
        log(f"embedding dim set to {size}, the vectors' size")
        config = dataclasses.replace(config, embedding_dim=size)
    return config


def pretrained_matrix(config: SentimentConfig, vocabulary: Vocabulary, data_path, train_texts, unlabelled,
                      log) -> torch.Tensor:
    """Steps 1-2 of the lecture's pretraining: word vectors from a large text, kept as an embedding
    (config sized_for_vectors) -> the embedding matrix (vocabulary.size, embedding_dim)."""
    generator = torch.Generator().manual_seed(config.seed)
    if config.pretrained == "word2vec":
        vectors = pretrain_word_vectors(data_path, config.embedding_dim, train_texts=train_texts,
                                        unlabelled=unlabelled, seed=config.seed, log=log)
    else:
        vectors = load_word_vectors(config.pretrained)
        if vectors.vector_size != config.embedding_dim:
            raise DataError(f"{config.pretrained}: vectors of size {vectors.vector_size} after a first line of "
                            f"size {config.embedding_dim}; expected {EXPECTED_VECTORS}")
    matrix, found = embedding_matrix(vectors, vocabulary, generator=generator)
    log(f"pretrained vectors for {found:,} of {len(vocabulary.kept):,} vocabulary words")
    return matrix
