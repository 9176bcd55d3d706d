"""Sentence pairs for translation: the manythings.org / Anki files, the split by English sentence,
and the lecture's preprocessing (tokens: text/tokens.py).

An Anki file is UTF-8, one pair per line: `English<TAB>Other[<TAB>attribution]`. It is read as the
`.txt`/`.tsv` itself or in place from the `<lang>-eng.zip` that manythings.org serves.
"""

from __future__ import annotations

import random
import unicodedata
import warnings
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ...errors import DataError

ANKI_URL = "https://www.manythings.org/anki/deu-eng.zip"  # English-German; other languages beside it
EXPECTED_PAIRS = "a UTF-8 file of English<TAB>translation lines (manythings.org/anki .txt/.tsv, or its .zip)"


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
        raise DataError(f"{path}: not found; expected {EXPECTED_PAIRS}, e.g. {ANKI_URL}")
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


def cut(ids: list[int], limit: int, what: str) -> list[int]:
    """`ids` cut to `limit` tokens, with a warning naming `what` when that drops any."""
    if len(ids) > limit:
        warnings.warn(f"{what} has {len(ids)} tokens; cut to the first {limit} (the longest the model trained on)",
                      stacklevel=2)
        return ids[:limit]
    return ids
