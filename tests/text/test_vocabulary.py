"""One vocabulary type for characters, words and translation tokens: special tokens, unknown
tokens, save and load (and the vocabularies that runs of earlier versions saved)."""

import base64
import json
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from lstmkit.tasks.sentiment.data import encode_last
from lstmkit.text.tokens import PAD, PAIR_SPECIALS, START, STOP, UNKNOWN
from lstmkit.text.vocabulary import Vocabulary
from lstmkit.text.words import IMDB_SPECIALS

ANKI = Path(__file__).resolve().parents[3] / "shared" / "data" / "anki" / "deu-eng.tsv"
ANKI_ENGLISH = [line.split("\t")[0] for line in ANKI.read_text(encoding="utf-8").splitlines()[::40]]


def imdb(texts, num_words):
    return Vocabulary.fit(texts, "imdb", specials=IMDB_SPECIALS, max_size=num_words)


def test_imdb_words_keep_the_most_frequent_and_reserve_padding_and_unknown():
    vocabulary = imdb(["b b b a a c", "b a d"], num_words=4)  # room for 2 words
    assert vocabulary.kept == ["b", "a"] and vocabulary.size == 4
    assert vocabulary.ids == {"pad": 0, "unknown": 1}
    assert vocabulary.encode("B, a! c zebra") == [2, 3, 1, 1]
    assert vocabulary.decode([0, 2, 1, 3]) == "b <unk> a"


def test_sentiment_keeps_the_last_maxlen_words():
    vocabulary = imdb(["one two three four"], num_words=10)
    assert vocabulary.decode(encode_last(vocabulary, "one two three four", 2)) == "three four"


def test_characters_are_code_points_in_order_and_unknown_ones_are_refused_or_left_out():
    text = "Ça va? Très bien 🙂 — naïve"
    vocabulary = Vocabulary.fit([text], "char", order="code point")
    assert vocabulary.kept == sorted(set(text)) and vocabulary.specials == {}
    assert vocabulary.decode(vocabulary.encode(text)) == text
    with pytest.raises(ValueError, match="characters never seen in training: 'xz'"):
        vocabulary.encode("xz va")
    assert vocabulary.decode(vocabulary.encode("xz va", skip_unknown=True)) == " va"
    assert vocabulary.unknown("xzx va") == ["x", "z"]


def test_translation_tokens_reserve_padding_unknown_start_and_stop():
    chars = Vocabulary.fit(["abba", "cab"], "char", specials=PAIR_SPECIALS["char"])
    assert (chars.index["<pad>"], chars.index["<unk>"], chars.index["\t"], chars.index["\n"]) == (PAD, UNKNOWN,
                                                                                                  START, STOP)
    assert chars.kept == ["a", "b", "c"]  # most frequent first
    assert chars.encode("abz") == [4, 5, UNKNOWN]
    assert chars.decode([START, 4, 5, UNKNOWN, STOP, 4]) == "ab\ufffd"  # decoding ends at the first stop
    words = Vocabulary.fit(["a b b .", "c"], "word", specials=PAIR_SPECIALS["word"], max_size=7)
    assert words.tokens == ["<pad>", "<unk>", "<start>", "<stop>", "b", ".", "a"]  # ties alphabetically
    assert words.decode(words.encode("b c a .") + [STOP]) == "b <unk> a."


@given(st.text(alphabet="abcäöü .,!?", min_size=1, max_size=30))
def test_char_tokens_round_trip(text):
    vocabulary = Vocabulary.fit([text], "char", specials=PAIR_SPECIALS["char"])
    assert vocabulary.decode(vocabulary.encode(text)) == text


@pytest.mark.parametrize("vocabulary", [
    Vocabulary.fit(["café naïve 日本 café"], "imdb", specials=IMDB_SPECIALS, max_size=10),
    Vocabulary.fit(["Ça va? 🙂"], "char", order="code point"),
    Vocabulary.fit(["Wir sind müde."], "word", specials=PAIR_SPECIALS["word"]),
    Vocabulary.fit(ANKI_ENGLISH[:2_000], "subword", specials=PAIR_SPECIALS["subword"], max_size=600)],
    ids=["imdb", "char", "word", "subword"])
def test_every_vocabulary_round_trips_through_json(vocabulary):
    again = Vocabulary.from_json(json.loads(json.dumps(vocabulary.to_json())))
    assert (again.tokenizer, again.specials, again.tokens) == (vocabulary.tokenizer, vocabulary.specials,
                                                               vocabulary.tokens)
    sentence = "Tom wasn't sure whether the unbelievable museum opens tomorrow."
    assert again.encode(sentence, skip_unknown=True) == vocabulary.encode(sentence, skip_unknown=True)


def test_subwords_spell_rare_words_from_pieces_learned_the_same_way_every_time():
    vocabulary = Vocabulary.fit(ANKI_ENGLISH[:2_000], "subword", specials=PAIR_SPECIALS["subword"], max_size=600)
    assert vocabulary.size <= 600 and vocabulary.ids == {"pad": PAD, "unknown": UNKNOWN, "start": START, "stop": STOP}
    assert vocabulary.kept == Vocabulary.fit(ANKI_ENGLISH[:2_000], "subword", specials=PAIR_SPECIALS["subword"],
                                             max_size=600).kept
    sentence = "Tom wasn't sure whether the unbelievable museum opens tomorrow."
    pieces = vocabulary.split(sentence)
    assert len(pieces) > len(sentence.split()) and "".join(pieces).replace("\u2581", " ").strip() == sentence
    assert UNKNOWN not in vocabulary.encode(sentence)  # every word spelled from known pieces
    assert vocabulary.decode(vocabulary.encode(sentence) + [STOP, 9]) == sentence
    assert UNKNOWN in vocabulary.encode("Tom ♞")  # a character it never saw


def test_a_subword_vocabulary_keeps_its_model():
    with pytest.raises(ValueError, match="comes with its SentencePiece model"):
        Vocabulary("subword", ["\u2581a"], PAIR_SPECIALS["subword"])
    saved = Vocabulary.fit(ANKI_ENGLISH[:500], "subword", specials=PAIR_SPECIALS["subword"], max_size=300).to_json()
    with pytest.raises(ValueError, match="not a SentencePiece model"):
        Vocabulary.from_json({**saved, "model": base64.b64encode(b"not a model").decode()})
    with pytest.raises(ValueError):  # not base64 at all
        Vocabulary.from_json({**saved, "model": "%%%"})


def test_vocabularies_saved_by_earlier_versions_load_with_the_same_ids():
    chars = Vocabulary.from_json({"kind": "chars", "chars": ["\n", " ", "a", "b"]})
    assert chars.encode("ab a") == [2, 3, 1, 2] and chars.specials == {}
    words = Vocabulary.from_json({"kind": "words", "reserved": {"<pad>": 0, "<unk>": 1}, "words": ["good", "bad"]})
    assert words.encode("Good, not bad") == [2, 1, 3]
    tokens = Vocabulary.from_json({"kind": "tokens", "level": "word",
                                   "reserved": ["<pad>", "<unk>", "<start>", "<stop>"], "tokens": ["ich", "bin"]})
    assert tokens.encode("ich bin es") == [4, 5, UNKNOWN] and tokens.ids["stop"] == STOP


@pytest.mark.parametrize("data, message", [
    ({"kind": "vocabulary", "tokenizer": "char", "specials": {}, "tokens": ["a", "a"]}, "repeated"),
    ({"kind": "vocabulary", "tokenizer": "word", "specials": {"pad": "x"}, "tokens": ["x"]}, "tokens repeat"),
    ({"kind": "vocabulary", "tokenizer": "word", "specials": {"blank": "x"}, "tokens": []}, "roles are"),
    ({"kind": "vocabulary", "tokenizer": "bytes", "specials": {}, "tokens": []}, "tokenizer must be"),
    ({"kind": "vocabulary", "tokenizer": "char", "specials": {}, "tokens": "abc"}, "list of strings"),
    ({"kind": "pictures"}, "kind must be vocabulary"),
])
def test_a_damaged_vocabulary_is_refused(data, message):
    with pytest.raises(ValueError, match=message):
        Vocabulary.from_json(data)
