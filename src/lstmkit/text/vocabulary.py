"""One vocabulary type for every task: tokens <-> ids, special tokens, unknown tokens, save and load.

A vocabulary knows how its text splits into tokens (its `tokenizer`) and joins back:
  char   characters (Unicode code points): text generation, character-level translation
  word   words and single punctuation marks, joined back with writing's spacing: translation
  imdb   the lecture's IMDB words: lower-case, `<br />` and punctuation dropped, joined by spaces
Ids: the special tokens first, then the kept tokens (most frequent first, or in code-point order).
A special token has a role: `pad` (never a token of text), `unknown` (every token outside the
vocabulary maps to it; without one, encode refuses or drops such tokens), `start` and `stop`
(decoding skips pads and starts and ends at the first stop).
"""

from __future__ import annotations

from collections import Counter
from typing import Callable, Iterable, NamedTuple

from . import distinct_strings
from .tokens import PAIR_SPECIALS, detokenize, tokenize
from .words import IMDB_SPECIALS, words

ROLES = ("pad", "unknown", "start", "stop")


class Tokenizer(NamedTuple):
    split: Callable[[str], list[str]]
    join: Callable[[list[str]], str]
    unknown_mark: str  # how an unknown token prints when decoded


TOKENIZERS = {
    "char": Tokenizer(list, "".join, "\ufffd"),
    "word": Tokenizer(lambda text: tokenize(text, "word"), lambda tokens: detokenize(tokens, "word"), "<unk>"),
    "imdb": Tokenizer(words, " ".join, "<unk>"),
}


class Vocabulary:
    """Token <-> id for one tokenizer. `specials`: role -> token, in id order from 0."""

    def __init__(self, tokenizer: str, kept: list[str], specials: dict[str, str] | None = None):
        if tokenizer not in TOKENIZERS:
            raise ValueError(f"tokenizer must be one of {', '.join(TOKENIZERS)}, got {tokenizer!r}")
        if unknown_roles := set(specials or {}) - set(ROLES):
            raise ValueError(f"special token roles are {', '.join(ROLES)}, got {', '.join(sorted(unknown_roles))}")
        self.tokenizer, self.specials = tokenizer, dict(specials or {})
        self.tokens = [*self.specials.values(), *kept]
        self.index = {token: position for position, token in enumerate(self.tokens)}
        if len(self.index) != len(self.tokens):
            raise ValueError("tokens repeat (a kept token, or one that is also a special token)")
        self.ids = {role: self.index[token] for role, token in self.specials.items()}  # role -> id
        self._tokenizer = TOKENIZERS[tokenizer]

    @classmethod
    def fit(cls, texts: Iterable[str], tokenizer: str, *, specials: dict[str, str] | None = None,
            max_size: int | None = None, min_count: int = 1, order: str = "frequency") -> "Vocabulary":
        """The tokens of `texts`: by `order` "frequency" the most frequent (ties alphabetically) seen
        at least `min_count` times, at most `max_size` ids with the specials; by "code point" all."""
        split = TOKENIZERS[tokenizer].split
        counts = Counter(token for text in texts for token in split(text))
        reserved = set((specials or {}).values())
        if order == "code point":
            return cls(tokenizer, sorted(set(counts) - reserved), specials)
        ranked = sorted((item for item in counts.items() if item[1] >= min_count and item[0] not in reserved),
                        key=lambda item: (-item[1], item[0]))
        if max_size is not None:
            ranked = ranked[: max(0, max_size - len(reserved))]
        return cls(tokenizer, [token for token, _ in ranked], specials)

    @property
    def size(self) -> int:
        """Every id, the specials' included: Embedding(vocabulary.size, dim) covers them all."""
        return len(self.tokens)

    @property
    def kept(self) -> list[str]:
        """The tokens after the specials."""
        return self.tokens[len(self.specials):]

    def split(self, text: str) -> list[str]:
        return self._tokenizer.split(text)

    def unknown(self, text: str) -> list[str]:
        """The distinct tokens of `text` the vocabulary lacks, sorted."""
        return sorted(set(self.split(text)) - self.index.keys())

    def encode(self, text: str, *, skip_unknown: bool = False) -> list[int]:
        """`text`'s ids. A token outside the vocabulary gets the unknown id; without one, it is
        dropped with skip_unknown, else a ValueError names the tokens."""
        unknown_id = self.ids.get("unknown")
        if unknown_id is not None:
            return [self.index.get(token, unknown_id) for token in self.split(text)]
        index = self.index
        tokens = self.split(text)
        if not skip_unknown and (missing := sorted(set(tokens) - index.keys())):
            raise ValueError(f"{'characters' if self.tokenizer == 'char' else 'tokens'} never seen in training: "
                             f"{self._tokenizer.join(missing)!r}")
        return [index[token] for token in tokens if token in index]

    def decode(self, ids: Iterable) -> str:
        """Ids (ints or a tensor) up to the first stop -> text: pads and starts left out, unknown
        ids printed as the tokenizer's mark."""
        stop, unknown = self.ids.get("stop"), self.ids.get("unknown")
        skipped = {self.ids[role] for role in ("pad", "start") if role in self.ids}
        tokens = []
        for i in map(int, ids.tolist() if hasattr(ids, "tolist") else ids):  # a tensor's items one by one are slow
            if i == stop:
                break
            if i not in skipped:
                tokens.append(self._tokenizer.unknown_mark if i == unknown else self.tokens[i])
        return self._tokenizer.join(tokens)

    def to_json(self) -> dict:
        return {"kind": "vocabulary", "tokenizer": self.tokenizer, "specials": self.specials, "tokens": self.kept}

    @classmethod
    def from_json(cls, data: dict) -> "Vocabulary":
        """What to_json wrote, or a vocabulary saved by lstmkit before this type (kinds chars,
        words and tokens)."""
        kind = data.get("kind")
        if kind == "chars":
            return cls("char", distinct_strings(data["chars"], "chars"))
        if kind == "words":
            return cls("imdb", distinct_strings(data["words"], "words"), IMDB_SPECIALS)
        if kind == "tokens":
            level = data["level"]  # a KeyError for another: the run directory says the file is damaged
            return cls(level, distinct_strings(data["tokens"], "tokens"), PAIR_SPECIALS[level])
        if kind != "vocabulary" or not isinstance(data.get("specials"), dict):
            raise ValueError(f"kind must be vocabulary, got {kind!r}")
        specials = data["specials"]
        return cls(data["tokenizer"], distinct_strings(data["tokens"], "tokens"),
                   dict(zip(specials, distinct_strings(list(specials.values()), "specials"))))

