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


def words(text: str) -> list[str]:
    """'Great<br />movie, isn't it?' -> ['great', 'movie', 'isnt', 'it']"""
    return _PUNCTUATION.sub("", _BREAK.sub(" ", text.lower())).split()
