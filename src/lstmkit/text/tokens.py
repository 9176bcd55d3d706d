"""Tokens of a sentence at char or word level, and the special tokens of sequence vocabularies
(translation's, at both levels)."""

from __future__ import annotations

import re

# The special tokens of every translation vocabulary (text/vocabulary.py), at both levels, and their ids.
# The lecture's char-level dictionaries start a target with '\t' and end it with '\n'.
PAIR_SPECIALS = {"char": {"pad": "<pad>", "unknown": "<unk>", "start": "\t", "stop": "\n"},
                 "word": {"pad": "<pad>", "unknown": "<unk>", "start": "<start>", "stop": "<stop>"}}
PAIR_SPECIALS["subword"] = PAIR_SPECIALS["word"]
PAD, UNKNOWN, START, STOP = 0, 1, 2, 3
_WORD = re.compile(r"\w+(?:['’]\w+)*|[^\w\s]")  # words (with inner apostrophes) and single punctuation marks
_NO_SPACE_BEFORE = re.compile(r" ([.,!?;:%)\]}»“’]|['’]s\b|n't\b)")
_NO_SPACE_AFTER = re.compile(r"([(\[{«„¿¡‘]) ")
_NUMBER_MARK = re.compile(r"(\d) ?([:.,]) (\d)")  # "7 : 45" -> "7:45"


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
