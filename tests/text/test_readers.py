"""Readers of labelled texts: aclImdb archive and folder, class folders, CSV/TSV/JSONL, errors."""

import re
import tarfile
import warnings
from collections import Counter
from pathlib import Path

import pytest

from lstmkit.tasks.sentiment.readers import LabelledTexts, read_labelled, read_unlabelled
from lstmkit.errors import DataError

REAL_ARCHIVE = Path(__file__).resolve().parents[3] / "shared" / "data" / "imdb" / "aclImdb.tar.gz"
REVIEWS = {  # (split, class) → {file name: text}
    ("train", "pos"): {"0_9.txt": "Great, <br />really great.", "1_7.txt": "Fine film."},
    ("train", "neg"): {"0_3.txt": "Dull.", "1_1.txt": "Awful, just awful."},
    ("test", "pos"): {"0_10.txt": "Loved it.", "10_8.txt": "Lovely."},
    ("test", "neg"): {"0_2.txt": "Boring."},
}


def mentions(*parts) -> str:
    """A regex matching the given strings in this order, anything between them."""
    return ".*".join(re.escape(str(part)) for part in parts)


def write(path: Path, content) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="")
    return path


def make_acl_folder(parent: Path, reviews=REVIEWS) -> Path:
    """A tiny aclImdb/ folder, with the upstream extras a reader must skip."""
    root = parent / "aclImdb"
    for (split, label), files in reviews.items():
        for name, text in files.items():
            write(root / split / label / name, text)
    write(root / "train" / "unsup" / "0_0.txt", "No label here.")
    write(root / "train" / "unsup" / "1_0.txt", "Nor here.")
    write(root / "train" / "urls_pos.txt", "http://www.imdb.com/title/tt0000001/usercomments")
    write(root / "train" / "labeledBow.feat", "0 0:9 1:1")
    write(root / "imdb.vocab", "the\nand\n")
    write(root / "README", "Large Movie Review Dataset v1.0")
    return root


def pack(folder: Path, archive: Path, mode: str = "w:gz") -> Path:
    with tarfile.open(archive, mode) as tar:
        tar.add(folder, arcname=folder.name)
    return archive


@pytest.fixture
def acl_folder(tmp_path):
    return make_acl_folder(tmp_path / "unpacked")


@pytest.fixture
def acl_archive(acl_folder, tmp_path):
    return pack(acl_folder, tmp_path / "aclImdb_v1.tar.gz")


def as_dict(labelled: LabelledTexts) -> dict[str, str]:
    return dict(zip(labelled.texts, labelled.labels))


def expected_split(split: str) -> dict[str, str]:
    return {text: label for (where, label), files in REVIEWS.items() if where == split for text in files.values()}


# --- aclImdb: archive and folder --------------------------------------------------------------

def test_archive_gives_train_and_test_without_unsup_or_extras(acl_archive):
    splits = read_labelled(acl_archive)
    assert set(splits) == {"train", "test"}
    assert as_dict(splits["train"]) == expected_split("train")  # no unsup, urls, vocab or README
    assert as_dict(splits["test"]) == expected_split("test")
    assert splits["train"].source == str(acl_archive)


def test_movies_come_from_the_urls_files_in_archive_and_folder(acl_folder, tmp_path):
    url = "http://www.imdb.com/title/{}/usercomments"
    write(acl_folder / "train" / "urls_pos.txt", "\n".join(url.format(m) for m in ("tt01", "tt02")) + "\n")
    write(acl_folder / "train" / "urls_neg.txt", "\n".join(url.format(m) for m in ("tt02", "tt03")) + "\n")
    archive = pack(acl_folder, tmp_path / "with-urls.tar.gz")
    for source in (acl_folder, archive):
        splits = read_labelled(source)
        train = splits["train"]
        movie = dict(zip(train.texts, train.groups))  # review <id>_<rating>.txt: line <id> of urls_<class>.txt
        assert movie == {"Great, <br />really great.": "tt01", "Fine film.": "tt02", "Dull.": "tt02",
                         "Awful, just awful.": "tt03"}
        assert splits["test"].groups is None  # no urls files there: no groups rather than some


def test_group_column_of_csv_and_jsonl(tmp_path, acl_folder):
    csv_file = write(tmp_path / "reviews.csv", "text,label,product\nfine,pos,a1\nawful,neg,a1\nok,pos,\n")
    jsonl_file = write(tmp_path / "reviews.jsonl", '{"text": "fine", "label": "pos", "product": "a1"}\n'
                                                    '{"text": "awful", "label": "neg", "product": "a1"}\n'
                                                    '{"text": "ok", "label": "pos"}\n')
    for source in (csv_file, jsonl_file):
        groups = read_labelled(source, group_column="product")["all"].groups
        assert groups[0] == groups[1] == "a1" and groups[2] not in ("a1", "")  # an empty cell: a group of its own
        assert read_labelled(source)["all"].groups is None
        with pytest.raises(DataError, match=mentions(source, "no column 'movie'", "`group_column`", "columns found")):
            read_labelled(source, group_column="movie")
    with pytest.raises(DataError, match=mentions(acl_folder, "`group_column` is for CSV/TSV/JSONL")):
        read_labelled(acl_folder, group_column="movie")


def test_archive_is_streamed_never_extracted(acl_archive, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the reader must not extract to disk")
    monkeypatch.setattr(tarfile.TarFile, "extractall", refuse)
    monkeypatch.setattr(tarfile.TarFile, "extract", refuse)
    assert len(read_labelled(acl_archive)["train"]) == 4


@pytest.mark.parametrize("name, mode", [("data.tgz", "w:gz"), ("data.tar", "w"), ("data.tar.xz", "w:xz")])
def test_archive_other_suffixes_and_compressions(acl_folder, tmp_path, name, mode):
    splits = read_labelled(pack(acl_folder, tmp_path / name, mode))
    assert as_dict(splits["test"]) == expected_split("test")


def test_folder_and_archive_give_the_same_texts_in_the_same_order(acl_folder, acl_archive):
    from_archive = read_labelled(acl_archive)
    for path in (acl_folder, acl_folder.parent):  # the aclImdb folder, or the folder holding it
        from_folder = read_labelled(path)
        for split in ("train", "test"):
            assert from_folder[split].texts == from_archive[split].texts
            assert from_folder[split].labels == from_archive[split].labels
    assert from_archive["train"].labels == ["neg", "neg", "pos", "pos"]  # sorted by path


# --- generic class folders --------------------------------------------------------------------

def test_class_folders_any_names_sorted(tmp_path):
    for label, names in {"positive": ["b.txt", "a.txt"], "negative": ["z.txt"], "neutral": ["m.txt"]}.items():
        for name in names:
            write(tmp_path / "data" / label / name, f"{label} {name}")
    write(tmp_path / "data" / "positive" / "notes.md", "not a text")
    write(tmp_path / "data" / "positive" / "._a.txt", b"\x00\xff macOS resource fork")
    labelled = read_labelled(tmp_path / "data")["all"]
    assert labelled.texts == ["negative z.txt", "neutral m.txt", "positive a.txt", "positive b.txt"]
    assert labelled.labels == ["negative", "neutral", "positive", "positive"]
    assert labelled.classes == ["negative", "neutral", "positive"]


def test_train_and_test_folders_of_classes_ignore_unsup(tmp_path):
    for split in ("train", "test"):
        for label in ("spam", "ham"):
            write(tmp_path / split / label / "1.txt", f"{split} {label}")
    write(tmp_path / "train" / "unsup" / "1.txt", "unlabelled")
    splits = read_labelled(tmp_path)
    assert as_dict(splits["train"]) == {"train ham": "ham", "train spam": "spam"}
    assert as_dict(splits["test"]) == {"test ham": "ham", "test spam": "spam"}


def test_empty_text_files_are_skipped_with_a_warning(tmp_path):
    write(tmp_path / "pos" / "1.txt", "good")
    write(tmp_path / "pos" / "2.txt", "  \n")
    write(tmp_path / "neg" / "1.txt", "bad")
    with pytest.warns(UserWarning, match=mentions("skipped 1 files with an empty text", tmp_path)):
        assert read_labelled(tmp_path)["all"].texts == ["bad", "good"]


# --- CSV, TSV, JSONL --------------------------------------------------------------------------

def test_csv_quoted_commas_newlines_and_bom(tmp_path):
    csv_file = write(tmp_path / "reviews.csv",
                     '\ufefftext,label\n"Good, really good",pos\n"Line one\nline two",neg\r\n\nplain,pos\n')
    labelled = read_labelled(csv_file)["all"]
    assert labelled.texts == ["Good, really good", "Line one\nline two", "plain"]
    assert labelled.labels == ["pos", "neg", "pos"]


def test_csv_kaggle_header_and_long_reviews(tmp_path):
    long_review = "word " * 40_000  # 200 kB, over the csv module's default 128 KiB field limit
    csv_file = write(tmp_path / "IMDB Dataset.csv",
                     f'review,sentiment\n"{long_review}",positive\n"Bad, bad.",negative\n')
    labelled = read_labelled(csv_file)["all"]
    assert labelled.texts == [long_review, "Bad, bad."]
    assert labelled.labels == ["positive", "negative"]


def test_tsv_with_explicit_columns(tmp_path):
    tsv_file = write(tmp_path / "data.tsv", "id\tbody\tstars\n1\tNice, fine\t5\n2\tMeh\t2\n")
    labelled = read_labelled(tsv_file, text_column="body", label_column="stars")["all"]
    assert as_dict(labelled) == {"Nice, fine": "5", "Meh": "2"}


@pytest.mark.parametrize("suffix", [".jsonl", ".json"])
def test_jsonl_labels_become_strings(tmp_path, suffix):
    jsonl_file = write(tmp_path / f"data{suffix}",
                       '{"text": "Good \u2028 one", "label": 1}\n\n{"text": "Bad", "label": 0}\r\n')
    labelled = read_labelled(jsonl_file)["all"]
    assert labelled.texts == ["Good \u2028 one", "Bad"]
    assert labelled.labels == ["1", "0"]


def test_rows_with_empty_text_or_label_are_skipped_with_one_warning(tmp_path):
    csv_file = write(tmp_path / "data.csv", 'text,label\nkept,pos\n"",neg\nno label,\nshort\n')
    with pytest.warns(UserWarning, match=mentions("skipped 3 rows with an empty text or label in", csv_file)):
        labelled = read_labelled(csv_file)["all"]
    assert as_dict(labelled) == {"kept": "pos"}


# --- errors -----------------------------------------------------------------------------------

def test_missing_path(tmp_path):
    with pytest.raises(DataError, match=mentions(tmp_path / "nope", "not found", "expected an aclImdb .tar.gz")):
        read_labelled(tmp_path / "nope")


@pytest.mark.parametrize("name", ["empty.csv", "empty.tar.gz", "empty.jsonl"])
def test_empty_file(tmp_path, name):
    empty = write(tmp_path / name, "")
    with pytest.raises(DataError, match=mentions(empty, "is empty", "expected")):
        read_labelled(empty)


@pytest.mark.parametrize("content", ["text,label\n", 'text,label\n"",pos\n'])
def test_csv_without_labelled_rows(tmp_path, content):
    csv_file = write(tmp_path / "data.csv", content)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(DataError, match=mentions(csv_file, "no labelled texts", "expected rows")):
            read_labelled(csv_file)


def test_unknown_extension(tmp_path):
    text_file = write(tmp_path / "reviews.txt", "some text")
    with pytest.raises(DataError, match=mentions(text_file, "unknown extension '.txt'", "expected", ".csv")):
        read_labelled(text_file)


def test_folder_without_class_folders(tmp_path):
    write(tmp_path / "a.txt", "loose text")
    with pytest.raises(DataError, match=mentions(tmp_path, "no class sub-folders", "expected at least two")):
        read_labelled(tmp_path)


def test_folder_with_one_class(tmp_path):
    write(tmp_path / "train" / "pos" / "1.txt", "good")
    with pytest.raises(DataError, match=mentions(tmp_path / "train", "only one class sub-folder (pos/)", "expected")):
        read_labelled(tmp_path)


def test_class_folder_without_texts(tmp_path):
    write(tmp_path / "pos" / "1.txt", "good")
    (tmp_path / "neg").mkdir()
    with pytest.raises(DataError, match=mentions(tmp_path / "neg", "no .txt files", "expected")):
        read_labelled(tmp_path)


def test_archive_without_acl_layout(tmp_path):
    write(tmp_path / "stuff" / "pos" / "1.txt", "good")
    archive = pack(tmp_path / "stuff", tmp_path / "stuff.tar.gz")
    with pytest.raises(DataError, match=mentions(archive, "aclImdb layout", "expected", "aclImdb/{train,test}")):
        read_labelled(archive)


def test_file_that_is_not_a_tar(tmp_path):
    fake = write(tmp_path / "fake.tar.gz", "text,label\n")
    with pytest.raises(DataError, match=mentions(fake, "not a readable tar archive", "expected")):
        read_labelled(fake)


def test_undecodable_text_file_names_file_and_offset(tmp_path):
    write(tmp_path / "pos" / "1.txt", "good")
    bad = write(tmp_path / "neg" / "1.txt", b"bad \xff byte")
    with pytest.raises(DataError, match=mentions(bad, "not valid UTF-8", "offset 4", "expected UTF-8")):
        read_labelled(tmp_path)


def test_undecodable_archive_member_names_archive_and_member(tmp_path):
    reviews = {**REVIEWS, ("train", "pos"): {"1_7.txt": "caf\xe9".encode("latin-1")}}
    archive = pack(make_acl_folder(tmp_path / "src", reviews), tmp_path / "archive.tar.gz")
    with pytest.raises(DataError, match=mentions(f"{archive}:aclImdb/train/pos/1_7.txt", "offset 3")):
        read_labelled(archive)


def test_undecodable_csv_offset_counts_the_bom(tmp_path):
    csv_file = write(tmp_path / "data.csv", b"\xef\xbb\xbftext,label\n\xc3(,pos\n")
    with pytest.raises(DataError, match=mentions(csv_file, "offset 14")):
        read_labelled(csv_file)


def test_csv_columns_not_found(tmp_path):
    csv_file = write(tmp_path / "data.csv", "body,stars\nfine,5\n")
    with pytest.raises(DataError, match=mentions(csv_file, "'body', 'stars'", "`text_column`/`label_column`")):
        read_labelled(csv_file)


def test_csv_named_column_missing(tmp_path):
    csv_file = write(tmp_path / "data.csv", "text,stars\nfine,5\n")
    with pytest.raises(DataError, match=mentions(csv_file, "no column 'rating'", "columns found: 'text', 'stars'")):
        read_labelled(csv_file, label_column="rating")


def test_csv_unquoted_delimiter(tmp_path):
    csv_file = write(tmp_path / "data.csv", "text,label\nfine,pos\ngood, really,pos\n")
    with pytest.raises(DataError, match=mentions(csv_file, "line 3 has 3 fields", "expected", "quoted")):
        read_labelled(csv_file)


def test_jsonl_bad_line_names_line_number(tmp_path):
    jsonl_file = write(tmp_path / "data.jsonl", '{"text": "a", "label": "x"}\n\n{"text": "b", "label": \n')
    with pytest.raises(DataError, match=mentions(jsonl_file, "line 3 is not valid JSON", "one object per line")):
        read_labelled(jsonl_file)


def test_errors_are_one_line_value_errors(tmp_path):
    with pytest.raises(ValueError) as caught:
        read_labelled(tmp_path / "nope.csv")
    assert isinstance(caught.value, DataError) and "\n" not in str(caught.value)


# --- unlabelled reviews -----------------------------------------------------------------------

def test_unlabelled_from_archive_and_folder(acl_folder, acl_archive):
    expected = ["No label here.", "Nor here."]
    assert read_unlabelled(acl_archive) == expected
    assert read_unlabelled(acl_folder) == expected
    assert read_unlabelled(acl_folder.parent) == expected


def test_unlabelled_missing(tmp_path):
    write(tmp_path / "aclImdb" / "train" / "pos" / "1.txt", "good")
    archive = pack(tmp_path / "aclImdb", tmp_path / "labelled_only.tar.gz")
    for path in (tmp_path / "aclImdb", archive):
        with pytest.raises(DataError, match=mentions(path, "no unlabelled reviews", "train/unsup")):
            read_unlabelled(path)
    csv_file = write(tmp_path / "data.csv", "text\nx\n")
    with pytest.raises(DataError, match=mentions(csv_file, "not an aclImdb archive or folder", "expected")):
        read_unlabelled(csv_file)


# --- the real archive (read once: it takes 10-20 s) -------------------------------------------

@pytest.fixture(scope="module")
def real_imdb():
    return read_labelled(REAL_ARCHIVE)


def test_real_aclimdb_archive(real_imdb):
    assert set(real_imdb) == {"train", "test"}
    for split in ("train", "test"):
        assert Counter(real_imdb[split].labels) == {"pos": 12_500, "neg": 12_500}
    train = real_imdb["train"]
    assert any("<br />" in text for text in train.texts)
    bromwell = [i for i, text in enumerate(train.texts) if text.startswith("Bromwell High is a cartoon comedy")]
    assert len(bromwell) == 1 and train.labels[bromwell[0]] == "pos"  # train/pos/0_9.txt
