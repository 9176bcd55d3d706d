"""Sentence pairs for translation: the manythings.org / Anki files, the split by English sentence,
the lecture's preprocessing, and token vocabularies at char or word level.

An Anki file is UTF-8, one pair per line: `English<TAB>Other[<TAB>attribution]`. It is read as the
`.txt`/`.tsv` itself or in place from the `<lang>-eng.zip` that manythings.org serves.
"""

from __future__ import annotations

import random
import re
import unicodedata
import warnings
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from . import distinct_strings
from ..errors import DataError

EXPECTED_PAIRS = "a UTF-8 file of English<TAB>translation lines (manythings.org/anki .txt/.tsv, or its .zip)"
# Token ids every translation vocabulary reserves, at both levels.
PAD, UNKNOWN, START, STOP = 0, 1, 2, 3
# The lecture's char-level dictionaries start a target with '\t' and end it with '\n'.
RESERVED = {"char": ("<pad>", "<unk>", "\t", "\n"), "word": ("<pad>", "<unk>", "<start>", "<stop>")}
UNKNOWN_MARK = {"char": "\ufffd", "word": "<unk>"}  # how an unknown token prints in a translation
_WORD = re.compile(r"\w+(?:['’]\w+)*|[^\w\s]")  # words (with inner apostrophes) and single punctuation marks
_NO_SPACE_BEFORE = re.compile(r" ([.,!?;:%)\]}»“’]|['’]s\b|n't\b)")
_NO_SPACE_AFTER = re.compile(r"([(\[{«„¿¡‘]) ")
_NUMBER_MARK = re.compile(r"(\d) ?([:.,]) (\d)")  # "7 : 45" -> "7:45"


@dataclass
class PairFile:
    """The valid pairs of one file, and how many lines were skipped as malformed."""

    path: str
    pairs: list[tuple[str, str]]  # (English, other)
    skipped: int


def read_pairs(path) -> PairFile:
    """The pairs of an Anki file. Lines without a tab or with an empty side are skipped and
    counted; a missing or empty file, undecodable bytes or no valid pair is a DataError."""
    path = Path(path)
    text = _read_text(path)
    pairs, skipped = [], 0
    for line in text.splitlines():
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) < 2 or not fields[0].strip() or not fields[1].strip():
            skipped += 1
            continue
        pairs.append((fields[0].strip(), fields[1].strip()))
    if not pairs:
        raise DataError(f"{path}: no valid pair in {skipped:,} non-empty lines; expected {EXPECTED_PAIRS}")
    return PairFile(str(path), pairs, skipped)


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise DataError(f"{path}: not found; expected {EXPECTED_PAIRS}")
    if path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as archive:
                names = [n for n in archive.namelist() if n.endswith(".txt") and not n.startswith("_")]
                if len(names) != 1:
                    raise DataError(f"{path}: expected one <lang>.txt in the zip (besides _about.txt), found {names}")
                raw = archive.read(names[0])
        except zipfile.BadZipFile:
            raise DataError(f"{path}: not a readable zip; expected {EXPECTED_PAIRS}") from None
    else:
        raw = path.read_bytes()
    if not raw.strip():
        raise DataError(f"{path}: is empty; expected {EXPECTED_PAIRS}")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not UTF-8 (undecodable byte at offset {error.start}); "
                        f"expected {EXPECTED_PAIRS}") from None


def language_of(path) -> str:
    """'data/deu-eng.tsv' -> 'deu' (manythings.org's naming), else the file's stem."""
    stem = Path(path).name.split(".")[0]
    return stem[: -len("-eng")] if stem.endswith("-eng") else stem


@dataclass
class Split:
    """English sentences held out for validation and test; every other sentence trains."""

    validation: set[str]
    test: set[str]

    def part_of(self, english: str) -> str:
        return "test" if english in self.test else "validation" if english in self.validation else "train"


def split_by_source(pairs: list[tuple[str, str]], *, test_pairs: int = 5000, validation_pairs: int = 2000,
                    seed: int = 0) -> Split:
    """Shuffles the unique English sentences (fixed seed) and takes them for test until ≈test_pairs
    pairs are covered, then for validation: all translations of one English sentence stay in one
    part, so no English sentence is in two parts."""
    translations = Counter(english for english, _ in pairs)
    sentences = sorted(translations)
    random.Random(seed).shuffle(sentences)
    parts, position = [], 0
    for wanted in (test_pairs, validation_pairs):
        chosen, covered = set(), 0
        while covered < wanted and position < len(sentences) - 1:  # always leave one sentence to train on
            chosen.add(sentences[position])
            covered += translations[sentences[position]]
            position += 1
        parts.append(chosen)
    return Split(validation=parts[1], test=parts[0])


def normalize(text: str, *, lowercase: bool, strip_punctuation: bool) -> str:
    """The lecture's preprocessing (both optional): lower-case; drop punctuation. Always NFC and
    single spaces, so the same sentence typed two ways gets the same tokens."""
    text = unicodedata.normalize("NFC", text)
    if lowercase:
        text = text.lower()
    if strip_punctuation:
        text = "".join(" " if unicodedata.category(ch).startswith("P") and ch not in "'’" else ch for ch in text)
    return " ".join(text.split())


def tokenize(text: str, level: str) -> list[str]:
    """'Don't go!' -> char: ['D', 'o', 'n', "'", 't', ' ', 'g', 'o', '!'];
    word: ["Don't", 'go', '!']."""
    return list(text) if level == "char" else _WORD.findall(text)


def detokenize(tokens: list[str], level: str) -> str:
    """Tokens back to a sentence: chars joined; words joined with the spaces around punctuation
    removed where writing has none ("müde ." -> "müde.")."""
    if level == "char":
        return "".join(tokens)
    text = " ".join(tokens)
    text = _NO_SPACE_AFTER.sub(r"\1", _NO_SPACE_BEFORE.sub(r"\1", text))
    text = _NUMBER_MARK.sub(r"\1\2\3", text)
    return _fix_straight_quotes(text)


def _fix_straight_quotes(text: str) -> str:
    """'sagte " hallo " .' -> 'sagte "hallo".': straight quotes alternate opening and closing."""
    pieces = text.split('"')
    out = pieces[0].rstrip()
    for index, piece in enumerate(pieces[1:]):
        if index % 2 == 0:  # opening: a space before, none after
            out = (out + ' "' if out else '"') + piece.strip()
        else:  # closing: no space before
            out = out + '"' + piece.rstrip()
    return out


class TokenVocabulary:
    """Token <-> id for one language at one level. Ids 0-3 are reserved (padding, unknown, start,
    stop; at char level start is '\\t' and stop '\\n' as in the lecture), then the kept tokens, most
    frequent first. Tokens outside the vocabulary map to the unknown id."""

    def __init__(self, level: str, kept: list[str]):
        if level not in RESERVED:
            raise ValueError(f"level must be char or word, got {level!r}")
        self.level = level
        self.names = [*RESERVED[level], *kept]
        self.index = {token: position for position, token in enumerate(self.names)}

    @classmethod
    def fit(cls, sentences, level: str, *, max_size: int | None = None, min_count: int = 1) -> "TokenVocabulary":
        counts = Counter(token for sentence in sentences for token in tokenize(sentence, level))
        ranked = sorted((item for item in counts.items() if item[1] >= min_count and item[0] not in RESERVED[level]),
                        key=lambda item: (-item[1], item[0]))
        if max_size is not None:
            ranked = ranked[: max(0, max_size - len(RESERVED[level]))]
        return cls(level, [token for token, _ in ranked])

    @property
    def size(self) -> int:
        return len(self.names)

    def encode(self, sentence: str) -> list[int]:
        return [self.index.get(token, UNKNOWN) for token in tokenize(sentence, self.level)]

    def decode(self, ids) -> str:
        """Ids up to the first stop -> text; unknown ids print as UNKNOWN_MARK."""
        tokens = []
        for i in ids:
            i = int(i)
            if i == STOP:
                break
            if i == UNKNOWN:
                tokens.append(UNKNOWN_MARK[self.level])
            elif i > STOP:
                tokens.append(self.names[i])
        return detokenize(tokens, self.level)

    def unknown(self, sentence: str) -> list[str]:
        """The tokens of `sentence` this vocabulary does not have."""
        return [token for token in tokenize(sentence, self.level) if token not in self.index]

    def to_json(self) -> dict:
        return {"kind": "tokens", "level": self.level, "reserved": list(RESERVED[self.level]),
                "tokens": self.names[len(RESERVED[self.level]):]}

    @classmethod
    def from_json(cls, data: dict) -> "TokenVocabulary":
        return cls(data["level"], distinct_strings(data["tokens"], "tokens"))


def cut(ids: list[int], limit: int, what: str) -> list[int]:
    """`ids` cut to `limit` tokens, with a warning naming `what` when that drops any."""
    if len(ids) > limit:
        warnings.warn(f"{what} has {len(ids)} tokens; cut to the first {limit} (the longest the model trained on)",
                      stacklevel=2)
        return ids[:limit]
    return ids
