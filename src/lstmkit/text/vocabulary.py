"""One vocabulary type for every task: tokens <-> ids, special tokens, unknown tokens, save and load.

A vocabulary knows how its text splits into tokens (its `tokenizer`) and joins back:
  char   characters (Unicode code points): text generation, character-level translation
  word   words and single punctuation marks, joined back with writing's spacing: translation
  imdb   the lecture's IMDB words: lower-case, `<br />` and punctuation dropped, joined by spaces
  subword  pieces of words learned from the training text (SentencePiece's unigram model, kept in
         the vocabulary): a rare word is spelled from pieces instead of being unknown
Ids: the special tokens first, then the kept tokens (most frequent first, or in code-point order).
A special token has a role: `pad` (never a token of text), `unknown` (every token outside the
vocabulary maps to it; without one, encode refuses or drops such tokens), `start` and `stop`
(decoding skips pads and starts and ends at the first stop).
"""

from __future__ import annotations

import base64
import io
from collections import Counter
from typing import Callable, Iterable, NamedTuple

from ..dependencies import need
from . import distinct_strings
from .tokens import PAIR_SPECIALS, detokenize, tokenize
from .words import IMDB_SPECIALS, words

ROLES = ("pad", "unknown", "start", "stop")
SUBWORD_FEATURE = "subword vocabularies (--level subword)"
WORD_START = "\u2581"  # SentencePiece's mark of a piece that starts a word ("▁")


class Tokenizer(NamedTuple):
    split: Callable[[str], list[str]]
    join: Callable[[list[str]], str]
    unknown_mark: str  # how an unknown token prints when decoded


TOKENIZERS = {
    "char": Tokenizer(list, "".join, "\ufffd"),
    "word": Tokenizer(lambda text: tokenize(text, "word"), lambda tokens: detokenize(tokens, "word"), "<unk>"),
    "imdb": Tokenizer(words, " ".join, "<unk>"),
}


def _subword_tokenizer(model: bytes) -> Tokenizer:
    """Splitting by a trained SentencePiece model; pieces join back by their word-start marks."""
    try:
        processor = need("sentencepiece", SUBWORD_FEATURE).SentencePieceProcessor(model_proto=model)
    except RuntimeError as error:  # sentencepiece's word for a model it cannot parse
        raise ValueError(f"not a SentencePiece model ({str(error).splitlines()[0]})") from None
    return Tokenizer(processor.encode_as_pieces, lambda pieces: "".join(pieces).replace(WORD_START, " ").strip(),
                     "<unk>")


def _train_subwords(texts: Iterable[str], size: int) -> tuple[bytes, list[str]]:
    """A SentencePiece unigram model of about `size` pieces learned from `texts` -> (the model, its
    pieces). One thread: the same texts give the same pieces."""
    sentencepiece = need("sentencepiece", SUBWORD_FEATURE)
    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter([text for text in texts if text.strip()]), model_writer=model, vocab_size=size,
        model_type="unigram", character_coverage=1.0, hard_vocab_limit=False, num_threads=1, unk_id=0,
        bos_id=-1, eos_id=-1, pad_id=-1, minloglevel=2, normalization_rule_name="identity")
    processor = sentencepiece.SentencePieceProcessor(model_proto=model.getvalue())
    return model.getvalue(), [processor.id_to_piece(i) for i in range(1, processor.get_piece_size())]


class Vocabulary:
    """Token <-> id for one tokenizer. `specials`: role -> token, in id order from 0; `model`: the
    subword tokenizer's SentencePiece model."""

    def __init__(self, tokenizer: str, kept: list[str], specials: dict[str, str] | None = None,
                 model: bytes | None = None):
        if tokenizer not in TOKENIZERS and tokenizer != "subword":
            raise ValueError(f"tokenizer must be one of {', '.join(TOKENIZERS)}, subword, got {tokenizer!r}")
        if (tokenizer == "subword") != (model is not None):
            raise ValueError("a subword vocabulary, and only one, comes with its SentencePiece model")
        if unknown_roles := set(specials or {}) - set(ROLES):
            raise ValueError(f"special token roles are {', '.join(ROLES)}, got {', '.join(sorted(unknown_roles))}")
        self.tokenizer, self.specials = tokenizer, dict(specials or {})
        self.tokens = [*self.specials.values(), *kept]
        self.index = {token: position for position, token in enumerate(self.tokens)}
        if len(self.index) != len(self.tokens):
            raise ValueError("tokens repeat (a kept token, or one that is also a special token)")
        self.ids = {role: self.index[token] for role, token in self.specials.items()}  # role -> id
        self.model = model
        self._tokenizer = _subword_tokenizer(model) if model is not None else TOKENIZERS[tokenizer]

    @classmethod
    def fit(cls, texts: Iterable[str], tokenizer: str, *, specials: dict[str, str] | None = None,
            max_size: int | None = None, min_count: int = 1, order: str = "frequency") -> "Vocabulary":
        """The tokens of `texts`: by `order` "frequency" the most frequent (ties alphabetically) seen
        at least `min_count` times, at most `max_size` ids with the specials; by "code point" all.
        Subword: the pieces of a unigram model learned to give max_size ids with the specials."""
        if tokenizer == "subword":
            reserved = set((specials or {}).values())
            model, pieces = _train_subwords(texts, (max_size or 8_000) - len(reserved) + 1)  # + its own <unk>
            return cls(tokenizer, [piece for piece in pieces if piece not in reserved], specials, model)
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
        saved = {"kind": "vocabulary", "tokenizer": self.tokenizer, "specials": self.specials, "tokens": self.kept}
        if self.model is not None:
            saved["model"] = base64.b64encode(self.model).decode("ascii")
        return saved

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
        model = base64.b64decode(data["model"], validate=True) if data["tokenizer"] == "subword" else None
        return cls(data["tokenizer"], distinct_strings(data["tokens"], "tokens"),
                   dict(zip(specials, distinct_strings(list(specials.values()), "specials"))), model)

