"""Pretrained word vectors for an Embedding: trained with gensim's word2vec, or read from the
standard text formats (GloVe: `word v1 v2 ...` per line; word2vec: the same after a
`count dim` header line)."""

from __future__ import annotations

from pathlib import Path

import torch

from ..dependencies import need
from .readers import DataError
from .words import PAD, WordVocabulary, words


FEATURE = "loading or training word vectors"


class _Sentences:
    """Re-iterable word lists (gensim reads its corpus once per epoch)."""

    def __init__(self, texts: list[str]):
        self.texts = texts

    def __iter__(self):
        return (words(text) for text in self.texts)


def train_word2vec(texts: list[str], dim: int, *, seed: int = 0, epochs: int = 5, workers: int = 2):
    """Skip-gram word2vec on `texts` (step 1 of the lecture's pretraining) -> gensim KeyedVectors."""
    word2vec = need("gensim.models", FEATURE).Word2Vec
    model = word2vec(sentences=_Sentences(texts), vector_size=dim, window=5, min_count=2, sg=1, negative=5,
                     epochs=epochs, seed=seed, workers=workers)
    return model.wv


def load_word_vectors(path) -> "object":
    """GloVe or word2vec text file -> gensim KeyedVectors. The header line is detected."""
    keyed_vectors = need("gensim.models", FEATURE).KeyedVectors
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: word-vector file not found; expected a GloVe or word2vec text file")
    with open(path, encoding="utf-8", errors="replace") as handle:
        first = handle.readline().split()
    if not first:
        raise DataError(f"{path}: empty word-vector file; expected lines of 'word v1 v2 ...'")
    has_header = len(first) == 2 and all(part.isdigit() for part in first)
    try:
        return keyed_vectors.load_word2vec_format(str(path), binary=False, no_header=not has_header)
    except (ValueError, UnicodeDecodeError) as error:
        raise DataError(f"{path}: not a GloVe/word2vec text file ({error}); "
                        "expected lines of 'word v1 v2 ...', optionally after a 'count dim' header") from None


def embedding_matrix(vectors, vocabulary: WordVocabulary, *, generator: torch.Generator | None = None):
    """(vocabulary.size, dim) float32: each kept word's vector where `vectors` has it, else
    uniform in [-0.05, 0.05] (Keras's embedding init); the padding row is zero.
    -> (matrix, number of words found)."""
    dim = vectors.vector_size
    matrix = torch.empty(vocabulary.size, dim).uniform_(-0.05, 0.05, generator=generator)
    matrix[PAD] = 0.0
    found = 0
    for word, index in vocabulary.index.items():
        if word in vectors.key_to_index:
            matrix[index] = torch.from_numpy(vectors[word].copy())
            found += 1
    return matrix, found
