"""Pretrained word vectors for an Embedding: trained with gensim's word2vec, or read from the
standard formats (GloVe: `word v1 v2 ...` per line; word2vec text: the same after a `count dim`
header line; word2vec binary, a .bin file). gensim is the [vectors] extra."""

from __future__ import annotations

import struct
import warnings
from pathlib import Path

import numpy
import torch

from ...dependencies import need
from ...errors import DataError
from ...text.vocabulary import Vocabulary
from ...text.words import words

FEATURE = "loading or training word vectors"
EXPECTED_VECTORS = ("a GloVe or word2vec text file (lines of 'word v1 v2 ...', optionally after a 'count dim' "
                    "line) or a word2vec .bin file")


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


def _first_line(path: Path, limit: int) -> tuple[list[bytes], bool]:
    """The fields of a vectors file's first line (at most `limit` bytes of it), and whether they are
    word2vec's `count dim` header; DataError if the file is missing."""
    if not path.is_file():
        raise DataError(f"{path}: word-vector file not found; expected {EXPECTED_VECTORS}")
    with open(path, "rb") as handle:
        first = handle.readline(limit).split()
    return first, len(first) == 2 and all(part.isdigit() for part in first)


def vector_size(path) -> int:
    """The size of the vectors in a GloVe or word2vec file, from its first line (word2vec's `count
    dim` header, or GloVe's first `word v1 v2 ...`); load_word_vectors checks the whole file."""
    path = Path(path)
    first, has_header = _first_line(path, 1 << 20)
    if has_header:
        return int(first[1])
    if len(first) < 2:
        raise DataError(f"{path}: no word vectors on its first line; expected {EXPECTED_VECTORS}")
    return len(first) - 1


def load_word_vectors(path) -> "object":
    """GloVe or word2vec file -> gensim KeyedVectors: text (`word v1 v2 ...` per line, after an
    optional `count dim` header, which is detected) or, for a .bin file, word2vec's binary format.
    DataError (one line naming the file) for anything else, and for vectors that are not finite."""
    path = Path(path)
    binary = path.suffix.lower() == ".bin"
    first, has_header = _first_line(path, 1024)
    if not first:
        raise DataError(f"{path}: no word vectors in it; expected {EXPECTED_VECTORS}")
    if binary and not has_header:
        raise DataError(f"{path}: a .bin file without a 'count dim' first line; expected {EXPECTED_VECTORS}")
    if has_header:  # gensim allocates count x dim floats up front: the file must be able to hold them
        count, dim = map(int, first)
        if count < 1 or dim < 1 or count * dim * (4 if binary else 2) > path.stat().st_size:
            raise DataError(f"{path}: its header says {count:,} vectors of size {dim:,}, more than the file's "
                            f"{path.stat().st_size:,} bytes can hold; expected {EXPECTED_VECTORS}")
    keyed_vectors = need("gensim.models", FEATURE).KeyedVectors
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # gensim's notes on lines it repairs
            vectors = keyed_vectors.load_word2vec_format(str(path), binary=binary, no_header=not has_header)
    except (ValueError, UnicodeError, EOFError, IndexError, KeyError, TypeError, struct.error, OverflowError) as error:
        reason = str(error).strip().splitlines()[0][:160] if str(error).strip() else type(error).__name__
        raise DataError(f"{path}: not a {'word2vec binary' if binary else 'GloVe/word2vec text'} file ({reason}); "
                        f"expected {EXPECTED_VECTORS}") from None
    if len(vectors) == 0 or not numpy.isfinite(vectors.vectors).all():
        raise DataError(f"{path}: {'no vectors' if len(vectors) == 0 else 'vectors with NaN or infinite values'}; "
                        f"expected {EXPECTED_VECTORS}")
    return vectors


def embedding_matrix(vectors, vocabulary: Vocabulary, *, generator: torch.Generator | None = None):
    """(vocabulary.size, dim) float32: each kept word's vector where `vectors` has it, else
    uniform in [-0.05, 0.05] (Keras's embedding init); the padding row is zero.
    -> (matrix, number of words found)."""
    dim = vectors.vector_size
    matrix = torch.empty(vocabulary.size, dim).uniform_(-0.05, 0.05, generator=generator)
    matrix[vocabulary.ids["pad"]] = 0.0
    found = 0
    for index, word in enumerate(vocabulary.kept, len(vocabulary.specials)):
        if word in vectors.key_to_index:
            matrix[index] = torch.from_numpy(vectors[word].copy())
            found += 1
    return matrix, found
