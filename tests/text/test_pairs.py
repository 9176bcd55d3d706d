"""Sentence pairs: the Anki reader on the real files, the split by English sentence, tokenizers."""

import zipfile
from collections import Counter
from pathlib import Path

import pytest

from lstmkit.text.tokens import detokenize, tokenize
from lstmkit.tasks.translate.pairs import cut, language_of, normalize, read_pairs, split_by_source
from lstmkit.errors import DataError

ANKI = Path(__file__).resolve().parents[3] / "shared" / "data" / "anki"


@pytest.fixture(scope="module")
def german():
    return read_pairs(ANKI / "deu-eng.tsv")


def test_reads_the_real_german_file_as_its_provenance_counts_it(german):
    assert len(german.pairs) == 169_813 and german.skipped == 0
    assert german.pairs[0] == ("Hi.", "Hallo!")
    assert len({english for english, _ in german.pairs}) == 135_534


def test_the_attribution_column_is_left_out():
    dutch = read_pairs(ANKI / "nld-eng.tsv")
    assert len(dutch.pairs) == 52_652 and dutch.skipped == 0
    assert all("Attribution" not in other for _, other in dutch.pairs[:1000])


def test_malformed_lines_are_skipped_and_counted(tmp_path):
    path = tmp_path / "deu-eng.txt"
    path.write_text("Hi.\tHallo!\nno tab here\n\t leer\nEmpty.\t\n\nRun!\tLauf!\tCC-BY\n", encoding="utf-8")
    pairs = read_pairs(path)
    assert pairs.pairs == [("Hi.", "Hallo!"), ("Run!", "Lauf!")]
    assert pairs.skipped == 3


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"),
    (b"no tab\nstill none\n", "no valid pair in 2"),
    (b"Hi.\t\xff\xfe\n", "not UTF-8"),
])
def test_unusable_files_are_clear_errors(tmp_path, content, message):
    path = tmp_path / "deu-eng.txt"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        read_pairs(path)
    with pytest.raises(DataError, match="not found"):
        read_pairs(tmp_path / "missing.txt")


def test_reads_the_manythings_zip_in_place(tmp_path):
    archive = tmp_path / "deu-eng.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("_about.txt", "about the file")
        handle.writestr("deu.txt", "Hi.\tHallo!\nRun!\tLauf!\n")
    assert read_pairs(archive).pairs == [("Hi.", "Hallo!"), ("Run!", "Lauf!")]
    assert language_of(archive) == "deu" and language_of("x/fra-eng.tsv") == "fra"


def test_split_keeps_every_english_sentence_in_one_part(german):
    split = split_by_source(german.pairs, test_pairs=5000, validation_pairs=2000, seed=0)
    assert not split.test & split.validation
    parts = Counter(split.part_of(english) for english, _ in german.pairs)
    assert 5000 <= parts["test"] < 5030 and 2000 <= parts["validation"] < 2030
    assert split_by_source(german.pairs, seed=0).test == split.test  # fixed seed: the same split
    assert split_by_source(german.pairs, seed=1).test != split.test


def test_lecture_preprocessing():
    assert normalize("Don't  go, Tom!", lowercase=True, strip_punctuation=True) == "don't go tom"
    assert normalize("Don't  go, Tom!", lowercase=False, strip_punctuation=False) == "Don't go, Tom!"


@pytest.mark.parametrize("sentence", ["Ich bin müde.", "Tom sagte: \"Hallo!\"", "Es ist 7:45 Uhr.",
                                      "Hast du's gesehen?", "(Ja), sicher?"])
def test_word_tokens_go_back_to_the_sentence(sentence):
    assert detokenize(tokenize(sentence, "word"), "word") == sentence


def test_overlong_input_is_cut_with_a_warning():
    with pytest.warns(UserWarning, match="cut to the first 3"):
        assert cut([5, 6, 7, 8], 3, "input 'x'") == [5, 6, 7]
