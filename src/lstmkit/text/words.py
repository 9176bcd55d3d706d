"""Word tokenization as the lecture does it: lower-case, drop `<br />` and punctuation, split on
white space; a vocabulary of the most frequent words with reserved padding and unknown-word ids.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Iterable

from . import distinct_strings

PAD = 0  # padding id; never a word
OOV = 1  # every word outside the vocabulary maps here
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
# Keras's TextVectorization default strips this punctuation set; "don't" becomes "dont".
_PUNCTUATION = re.compile(r"[!\"#$%&()*+,\-./:;<=>?@\[\\\]^_`{|}~']")


def words(text: str) -> list[str]:
    """'Great<br />movie, isn't it?' -> ['great', 'movie', 'isnt', 'it']"""
    return _PUNCTUATION.sub("", _BREAK.sub(" ", text.lower())).split()


class WordVocabulary:
    """Word <-> id. Ids: 0 padding, 1 out-of-vocabulary, 2.. the kept words, most frequent first.

    `size` counts the two reserved ids, so an Embedding(vocabulary.size, dim) covers every id; the
    lecture's num_words=10000 keeps the 9,998 most frequent words.
    """

    def __init__(self, kept_words: list[str]):
        self.kept_words = list(kept_words)
        self.index = {word: position + 2 for position, word in enumerate(self.kept_words)}

    @classmethod
    def fit(cls, texts: Iterable[str], num_words: int = 10_000) -> "WordVocabulary":
        """The num_words - 2 most frequent words of `texts` (ties broken alphabetically)."""
        if num_words < 3:
            raise ValueError(f"num_words must be at least 3 (padding, unknown, one word), got {num_words}")
        counts = Counter(word for text in texts for word in words(text))
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        return cls([word for word, _ in ranked[: num_words - 2]])

    @property
    def size(self) -> int:
        return len(self.kept_words) + 2

    def encode(self, text: str, maxlen: int | None = None) -> list[int]:
        """Word ids of `text`; longer than maxlen keeps the LAST maxlen words (as the lecture's
        pad_sequences does: a review's verdict tends to come at its end)."""
        ids = [self.index.get(word, OOV) for word in words(text)]
        return ids[-maxlen:] if maxlen else ids

    def decode(self, ids: Iterable[int]) -> str:
        names = ["<pad>", "<unk>", *self.kept_words]
        return " ".join(names[i] for i in ids if i != PAD)

    def to_json(self) -> dict:
        return {"kind": "words", "reserved": {"<pad>": PAD, "<unk>": OOV}, "words": self.kept_words}

    @classmethod
    def from_json(cls, data: dict) -> "WordVocabulary":
        return cls(distinct_strings(data["words"], "words"))
