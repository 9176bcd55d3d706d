"""Word tokenization as the lecture does it: lower-case, drop `<br />` and punctuation, split on
white space.
"""

from __future__ import annotations

import re

# ids 0 and 1 of a vocabulary of these words (text/vocabulary.py), as Keras's IMDB pipeline numbers them
IMDB_SPECIALS = {"pad": "<pad>", "unknown": "<unk>"}
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
# Keras's TextVectorization default strips this punctuation set; "don't" becomes "dont".
_PUNCTUATION = re.compile(r"[!\"#$%&()*+,\-./:;<=>?@\[\\\]^_`{|}~']")


# what str.split() splits on, spelled out: regex engines differ on what \s means (\x1c-\x1f)
_SPACE = "\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_NOTHING = f"[{_SPACE}!\"#$%&()*+,\\-./:;<=>?@\\[\\\\\\]^_`{{|}}~']|<[bB][rR][{_SPACE}]*/?>"
# a JSON Schema (ECMA) and Python pattern a text matches exactly when words(text) is not empty: it
# is not made only of white space, punctuation and <br /> tags
HAS_A_WORD = f"^(?!(?:{_NOTHING})*$)"
NOT_BLANK = f"[^{_SPACE}]"  # a text matches it when text.strip() is not empty


def words(text: str) -> list[str]:
    """'Great<br />movie, isn't it?' -> ['great', 'movie', 'isnt', 'it']"""
    return _PUNCTUATION.sub("", _BREAK.sub(" ", text.lower())).split()
