"""Every reader, fed hostile bytes (hypothesis): it parses them or raises DataError with one line
naming the file; never another exception, never a hang. Each reader gets EXAMPLES examples."""

import gzip
import io
import tarfile
import warnings
import zipfile

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from lstmkit.tasks.textgen.chars import read_text
from lstmkit.tasks.translate.pairs import read_pairs
from lstmkit.tasks.sentiment.readers import read_labelled, read_unlabelled
from lstmkit.errors import DataError
from lstmkit.tasks.sentiment.vectors import load_word_vectors, vector_size

EXAMPLES = 500
BIG_LINE = b"x" * 10_000_000  # a 10 MB line with no line end
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])


def _join(pieces: list[str], separator: str, line_end: str, bom: bool) -> bytes:
    text = line_end.join(separator.join(row) for row in pieces)
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8", errors="surrogatepass")


# rows of fields of any text (NUL, quotes, separators, surrogates included), joined with CSV/TSV/Anki
# separators and LF, CRLF or CR line ends, with or without a byte order mark; or plain random bytes
cells = st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from('\x00",\t\r\n\\{}[]:'), max_size=40)
rows = st.lists(st.lists(cells, min_size=0, max_size=4), max_size=12)
contents = st.one_of(
    st.binary(max_size=3000),
    st.builds(_join, rows, st.sampled_from([",", "\t", " "]), st.sampled_from(["\n", "\r\n", "\r"]), st.booleans()),
    st.builds(lambda header, body: header + body, st.sampled_from([b"text,label\n", b"review,sentiment\n",
                                                                   b"text\tlabel\n", b'{"text": "a", "label": "b"}\n',
                                                                   b"2 3\n", b""]), st.binary(max_size=2000)),
)


def one_line_or_parsed(read, path) -> None:
    """read(path) returns, or raises DataError whose message is one line naming the file."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # skipped rows are warned about; not the point here
            read(path)
    except DataError as error:
        message = str(error)
        assert "\n" not in message and str(path.name) in message, message


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl"])
@FUZZ
@given(data=contents)
@example(data=BIG_LINE)
@example(data=b"")
@example(data=b"\xef\xbb\xbf")
def test_labelled_tables(suffix, data, tmp_path):
    path = tmp_path / f"labelled{suffix}"
    path.write_bytes(data)
    one_line_or_parsed(read_labelled, path)


@FUZZ
@given(files=st.lists(st.tuples(st.sampled_from(["train/pos", "train/neg", "test/pos", "test/neg", "train/unsup"]),
                                st.binary(max_size=300)), max_size=6),
       urls=st.binary(max_size=200))
def test_aclimdb_folders(files, urls, tmp_path_factory):
    root = tmp_path_factory.mktemp("acl") / "aclImdb"
    root.mkdir()
    for number, (folder, data) in enumerate(files):
        (root / folder).mkdir(parents=True, exist_ok=True)
        (root / folder / f"{number}_7.txt").write_bytes(data)
    (root / "train").mkdir(exist_ok=True)
    (root / "train" / "urls_pos.txt").write_bytes(urls)
    one_line_or_parsed(read_labelled, root)
    one_line_or_parsed(read_unlabelled, root)


def _tar_gz(members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@FUZZ
@given(archive=st.one_of(
    st.binary(max_size=2000),  # not a tar at all
    st.builds(lambda data: gzip.compress(data), st.binary(max_size=2000)),  # gzip of garbage
    st.builds(_tar_gz, st.lists(st.tuples(st.sampled_from(["aclImdb/train/pos/1_9.txt", "aclImdb/test/neg/2_1.txt",
                                                           "aclImdb/train/unsup/3_0.txt", "aclImdb/train/urls_pos.txt",
                                                           "aclImdb/../escape.txt", "/abs.txt", "aclImdb/train/pos/"]),
                                          st.binary(max_size=300)), max_size=6)),
    st.builds(lambda data, cut: _tar_gz([("aclImdb/train/pos/1_9.txt", data)])[:cut], st.binary(max_size=300),
              st.integers(0, 400)),  # truncated
))
def test_aclimdb_archives(archive, tmp_path_factory):
    path = tmp_path_factory.mktemp("tar") / "aclImdb_v1.tar.gz"
    path.write_bytes(archive)
    one_line_or_parsed(read_labelled, path)
    one_line_or_parsed(read_unlabelled, path)


@FUZZ
@given(data=contents)
@example(data=BIG_LINE)
@example(data=b"\x00\x00")
def test_plain_text_for_textgen(data, tmp_path_factory):
    path = tmp_path_factory.mktemp("text") / "text.txt"
    path.write_bytes(data)
    one_line_or_parsed(read_text, path)


@FUZZ
@given(data=contents, zipped=st.booleans())
@example(data=BIG_LINE, zipped=False)
def test_anki_pairs(data, zipped, tmp_path_factory):
    folder = tmp_path_factory.mktemp("pairs")
    if zipped:  # manythings.org's download: deu-eng.zip holding deu.txt
        path = folder / "deu-eng.zip"
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("deu.txt", data)
    else:
        path = folder / "deu-eng.tsv"
        path.write_bytes(data)
    one_line_or_parsed(read_pairs, path)


@pytest.mark.parametrize("name", ["glove.6B.50d.txt", "vectors.w2v.txt", "vectors.bin"])
@FUZZ
@given(data=st.one_of(contents, st.builds(lambda words, dim: "\n".join(
    f"{word} " + " ".join(str(value) for value in values) for word, values in words).encode(),
    st.lists(st.tuples(st.text(max_size=8), st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=4)),
             max_size=6), st.integers(0, 4))))
@example(data=BIG_LINE)
def test_word_vectors(name, data, tmp_path_factory):
    path = tmp_path_factory.mktemp("vectors") / name
    path.write_bytes(data)
    one_line_or_parsed(load_word_vectors, path)
    one_line_or_parsed(vector_size, path)  # what every process of a distributed run reads
