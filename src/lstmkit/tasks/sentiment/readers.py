"""Readers for labelled text classification data, in the layouts people have.

`read_labelled(path)` takes the aclImdb archive (.tar.gz/.tgz/.tar, streamed in place, never
unpacked), an extracted aclImdb folder, a folder of one sub-folder per class (optionally under
train/ and test/), or a CSV/TSV/JSONL file with a text and a label column. `read_unlabelled(path)`
gives aclImdb's train/unsup reviews. aclImdb reviews come with their movie (`LabelledTexts.groups`,
from urls_<class>.txt). Every problem with the input is a one-line `DataError` naming
the path, what is wrong and what is expected. Standard library only.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import re
import tarfile
import warnings
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ...errors import DataError

SPLITS = ("train", "test")
UNLABELLED_FOLDER = "unsup"  # aclImdb's train/unsup holds 50,000 reviews without a label
TAR_SUFFIXES = (".tar.gz", ".tgz", ".tar", ".tar.bz2", ".tar.xz")
TABLE_DELIMITERS = {".csv": ",", ".tsv": "\t"}
JSONL_SUFFIXES = (".jsonl", ".json")
TEXT_COLUMNS = ("text", "review")  # ours first, then Kaggle's "IMDB Dataset.csv" (review,sentiment)
LABEL_COLUMNS = ("label", "sentiment")
CSV_FIELD_LIMIT = 2**31 - 1  # the largest limit a C long takes on every platform
EXPECTED_LABELLED = ("an aclImdb .tar.gz, an extracted aclImdb folder, a folder of class sub-folders, "
                     "or a CSV/TSV/JSONL file")
EXPECTED_UNLABELLED = "an aclImdb .tar.gz or an extracted aclImdb folder holding train/unsup/*.txt"
IMDB_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"  # 84 MB, read in place
ACL_LAYOUT = "members aclImdb/{train,test}/{pos,neg}/<id>_<rating>.txt"
MOVIE_ID = re.compile(r"tt\d+")  # an IMDb title id, in aclImdb's urls_<class>.txt lines


@dataclass
class LabelledTexts:
    """Texts with one class name each (`labels[i]` is the class of `texts[i]`), and their source."""

    texts: list[str]
    labels: list[str]  # class names as strings: folder names, or the CSV/JSONL label value
    source: str  # the path they came from, for messages
    groups: list[str] | None = None  # what each text is about (aclImdb: its movie's IMDb id), if known

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def classes(self) -> list[str]:
        """The distinct class names, sorted."""
        return sorted(set(self.labels))

    def rows(self, rows: list[int]) -> LabelledTexts:
        """These texts, in this order."""
        groups = None if self.groups is None else [self.groups[row] for row in rows]
        return LabelledTexts([self.texts[row] for row in rows], [self.labels[row] for row in rows], self.source, groups)

    def fingerprint(self) -> str:
        """A short hash of the texts and labels, in order: the same data read from any path or copy."""
        digest = hashlib.sha256()
        for text, label in zip(self.texts, self.labels):
            digest.update(f"{label}\0{text}\0".encode())
        return digest.hexdigest()[:16]


def read_labelled(path, *, text_column: str | None = None, label_column: str | None = None,
                  group_column: str | None = None) -> dict[str, LabelledTexts]:
    """Reads labelled texts from `path`, whatever layout it has; returns splits by name:
    {"train": ..., "test": ...} for layouts with splits, else {"all": ...}.

    `text_column`/`label_column` name the columns of a CSV/TSV/JSONL file; by default `text` and
    `label`, else Kaggle's `review` and `sentiment`. `group_column` names the column saying what a
    text is about (a product, a movie: LabelledTexts.groups); an empty cell is a group of its own.
    """
    path = _existing(path, EXPECTED_LABELLED)
    kind = "folder" if path.is_dir() else _file_kind(path)
    if group_column is not None and kind in ("folder", "tar"):
        raise DataError(f"{path}: `group_column` is for CSV/TSV/JSONL files; aclImdb gives each review's movie "
                        f"itself (urls_<class>.txt)")
    if kind == "folder":
        return _read_folder(path)
    if kind == "tar":
        return _read_tar_labelled(path)
    if kind == "jsonl":
        return {"all": _read_jsonl(path, text_column, label_column, group_column)}
    return {"all": _read_table(path, TABLE_DELIMITERS[kind], text_column, label_column, group_column)}


def read_unlabelled(path) -> list[str]:
    """The unlabelled reviews of an aclImdb dataset (train/unsup, 50,000 texts) from the tar.gz or
    the extracted folder (or the folder holding it), in file-name order; DataError if there are none."""
    path = _existing(path, EXPECTED_UNLABELLED)
    if path.is_dir():
        folder = _acl_root(path) / "train" / UNLABELLED_FOLDER
        files = _text_files(folder) if folder.is_dir() else []
        texts = [_decode(file.read_bytes(), str(file)) for file in files]
    elif path.name.lower().endswith(TAR_SUFFIXES):
        # Sorted by member name so the order matches the extracted folder's, whatever the tar's order.
        named_texts = sorted((name, text) for name, _, text in _tar_texts(path, _is_unlabelled_member))
        texts = [text for _, text in named_texts]
    else:
        raise DataError(f"{path} is not an aclImdb archive or folder; expected {EXPECTED_UNLABELLED}")
    if not texts:
        raise DataError(f"{path} has no unlabelled reviews; expected {EXPECTED_UNLABELLED}")
    return texts


# --- shared helpers ---------------------------------------------------------------------------

def _existing(path, expected: str) -> Path:
    path = Path(path).expanduser()
    if not path.exists():
        raise DataError(f"{path} not found; expected {expected} (IMDB's reviews: {IMDB_URL}, 84 MB)")
    return path


def _file_kind(path: Path) -> str:
    """The kind of file from its name: "tar", ".csv", ".tsv" or "jsonl"; DataError if unknown or empty."""
    suffix = path.suffix.lower()
    if path.name.lower().endswith(TAR_SUFFIXES):
        kind = "tar"
    elif suffix in TABLE_DELIMITERS:
        kind = suffix
    elif suffix in JSONL_SUFFIXES:
        kind = "jsonl"
    else:
        raise DataError(f"{path} has an unknown extension {suffix or '(none)'!r}; expected {EXPECTED_LABELLED} "
                        f"(extensions {', '.join(TAR_SUFFIXES)}, .csv, .tsv, .jsonl, .json)")
    if path.stat().st_size == 0:
        raise DataError(f"{path} is empty; expected labelled texts in it ({EXPECTED_LABELLED})")
    return kind


def _decode(data: bytes, name: str) -> str:
    """`data` as UTF-8 text, a leading byte order mark dropped; DataError naming `name` and the
    offset of the first bad byte otherwise."""
    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return (data[start:] if start else data).decode("utf-8")
    except UnicodeDecodeError as error:
        raise DataError(f"{name} is not valid UTF-8 (bad byte at offset {start + error.start}); "
                        f"expected UTF-8 text files") from None


def _collect(rows: Iterable[tuple[str, str, str | None]], source: str, unit: str) -> LabelledTexts:
    """LabelledTexts from (text, label, group or None) rows, skipping (and warning about) empty ones;
    groups only if every text has one."""
    texts, labels, groups, skipped = [], [], [], 0
    for text, label, group in rows:
        label = label.strip()
        if not text.strip() or not label:
            skipped += 1
            continue
        texts.append(text)
        labels.append(label)
        groups.append(group)
    if skipped:
        warnings.warn(f"skipped {skipped} {unit} with an empty text or label in {source}", stacklevel=4)
    if not texts:
        raise DataError(f"{source} has no labelled texts; expected {unit} with a non-empty text and label")
    return LabelledTexts(texts, labels, source, groups if None not in groups else None)


def _movie_of(file_name: str, urls: list[str] | None) -> str | None:
    """aclImdb: review <id>_<rating>.txt is about the movie on line <id> of its urls_<class>.txt."""
    number = file_name.split("_", 1)[0]
    if urls is None or not number.isdigit() or int(number) >= len(urls):
        return None
    match = MOVIE_ID.search(urls[int(number)])
    return match.group(0) if match else None


# --- folders ----------------------------------------------------------------------------------

def _acl_root(folder: Path) -> Path:
    """`folder`, or its aclImdb/ sub-folder when it holds one (the folder the archive was unpacked in)."""
    inner = folder / "aclImdb"
    return inner if inner.is_dir() else folder


def _read_folder(folder: Path) -> dict[str, LabelledTexts]:
    root = _acl_root(folder)
    split_folders = [root / split for split in SPLITS if (root / split).is_dir()]
    if split_folders:
        return {split_folder.name: _read_class_folders(split_folder) for split_folder in split_folders}
    return {"all": _read_class_folders(root)}


def _read_class_folders(folder: Path) -> LabelledTexts:
    """One sub-folder per class, each of .txt files, read in sorted order."""
    class_folders = sorted(path for path in folder.iterdir() if path.is_dir()
                           and not path.name.startswith(".") and path.name != UNLABELLED_FOLDER)
    if len(class_folders) < 2:
        found = f"only one class sub-folder ({class_folders[0].name}/)" if class_folders else "no class sub-folders"
        raise DataError(f"{folder} has {found}; expected at least two sub-folders of .txt files, one per "
                        f"class (e.g. pos/ and neg/), optionally under train/ and test/")
    files_by_class = [(class_folder, _text_files(class_folder)) for class_folder in class_folders]
    for class_folder, files in files_by_class:
        if not files:
            raise DataError(f"{class_folder} has no .txt files; expected one .txt file per text "
                            f"in each class sub-folder")
    urls = {class_folder.name: _decode(path.read_bytes(), str(path)).split()
            for class_folder, _ in files_by_class if (path := folder / f"urls_{class_folder.name}.txt").is_file()}
    rows = ((_decode(file.read_bytes(), str(file)), class_folder.name, _movie_of(file.name, urls.get(class_folder.name)))
            for class_folder, files in files_by_class for file in files)
    return _collect(rows, str(folder), "files")


def _text_files(folder: Path) -> list[Path]:
    # Hidden files are skipped: macOS leaves binary "._name.txt" files beside the real ones.
    return sorted(path for path in folder.glob("*.txt") if path.is_file() and not path.name.startswith("."))


# --- tar archives -----------------------------------------------------------------------------

def _member_parts(name: str) -> tuple[str, ...]:
    return PurePosixPath(name).parts  # "./aclImdb/x" → ("aclImdb", "x")


def _is_labelled_member(parts: tuple[str, ...]) -> bool:
    """aclImdb/{train,test}/<class>/<file>.txt, except train/unsup (no labels)."""
    return len(parts) >= 3 and parts[-3] in SPLITS and parts[-2] != UNLABELLED_FOLDER


def _is_urls_member(parts: tuple[str, ...]) -> bool:
    """aclImdb/{train,test}/urls_<class>.txt: line i is the movie of review i of that class."""
    return len(parts) >= 2 and parts[-2] in SPLITS and parts[-1].startswith("urls_")


def _is_unlabelled_member(parts: tuple[str, ...]) -> bool:
    return len(parts) >= 3 and parts[-3:-1] == ("train", UNLABELLED_FOLDER)


def _tar_texts(archive: Path,
               wanted: Callable[[tuple[str, ...]], bool]) -> Iterator[tuple[str, tuple[str, ...], str]]:
    """(member name, its path parts, its text) for each .txt file in `archive` whose parts `wanted`
    accepts, read member by member in archive order; nothing is written to disk."""
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in tar:
                parts = _member_parts(member.name)
                if (member.isfile() and parts and parts[-1].endswith(".txt")
                        and not parts[-1].startswith(".") and wanted(parts)):
                    data = tar.extractfile(member).read()
                    yield member.name, parts, _decode(data, f"{archive}:{member.name}")
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise DataError(f"{archive} is not a readable tar archive ({reason}); "
                        f"expected an aclImdb .tar.gz with {ACL_LAYOUT}") from error


def _read_tar_labelled(archive: Path) -> dict[str, LabelledTexts]:
    named_rows: dict[str, list[tuple[str, str, str]]] = {split: [] for split in SPLITS}
    urls: dict[tuple[str, str], list[str]] = {}  # (split, class) -> movie URLs
    for name, parts, text in _tar_texts(archive, lambda parts: _is_labelled_member(parts) or _is_urls_member(parts)):
        if _is_urls_member(parts):
            urls[parts[-2], parts[-1][len("urls_"): -len(".txt")]] = text.split()
        else:
            named_rows[parts[-3]].append((name, text, parts[-2]))
    if not any(named_rows.values()):
        raise DataError(f"{archive} does not have the aclImdb layout; expected {ACL_LAYOUT}")
    # Sorted by member name so the order matches the extracted folder's, whatever the tar's order.
    return {split: _collect(((text, label, _movie_of(PurePosixPath(name).name, urls.get((split, label))))
                             for name, text, label in sorted(rows)), str(archive), "files")
            for split, rows in named_rows.items() if rows}


# --- CSV / TSV / JSONL ------------------------------------------------------------------------

def _pick_columns(columns: list[str], text_column: str | None, label_column: str | None,
                  source: Path) -> tuple[str, str]:
    """The (text, label) column names: the ones given, else the first default present."""
    listing = ", ".join(repr(column) for column in columns) or "none"
    for given in (text_column, label_column):
        if given is not None and given not in columns:
            raise DataError(f"{source} has no column {given!r}; columns found: {listing}")
    text = text_column if text_column is not None else _first_present(TEXT_COLUMNS, columns)
    label = label_column if label_column is not None else _first_present(LABEL_COLUMNS, columns)
    if text is None or label is None:
        raise DataError(f"{source}: cannot tell the text and label columns (columns found: {listing}); expected "
                        f"'text' and 'label' (or Kaggle's 'review' and 'sentiment'); "
                        f"pass `text_column`/`label_column`")
    return text, label


def _first_present(candidates: tuple[str, ...], columns: list[str]) -> str | None:
    lowered = {column.lower(): column for column in reversed(columns)}  # first of equal names wins
    return next((lowered[name] for name in candidates if name in lowered), None)


def _group_of(value: str, row: int) -> str:
    """A text's group; an empty cell makes the text a group of its own."""
    return value.strip() or f"\0row {row}"


def _check_group_column(columns: list[str], group_column: str | None, source: Path) -> None:
    if group_column is not None and group_column not in columns:
        listing = ", ".join(repr(column) for column in columns) or "none"
        raise DataError(f"{source} has no column {group_column!r} (`group_column`); columns found: {listing}")


def _read_table(path: Path, delimiter: str, text_column: str | None,
                label_column: str | None, group_column: str | None = None) -> LabelledTexts:
    """A CSV/TSV file with a header row; fields may hold quoted delimiters and newlines."""
    csv.field_size_limit(CSV_FIELD_LIMIT)  # whole reviews exceed the default 128 KiB per field
    rows = csv.reader(io.StringIO(_decode(path.read_bytes(), str(path)), newline=""), delimiter=delimiter)
    header = [column.strip() for column in next(rows, [])]
    if not any(header):
        raise DataError(f"{path} has no header row; expected a first row naming its columns (e.g. text and label)")
    text_name, label_name = _pick_columns(header, text_column, label_column, path)
    text_index, label_index = header.index(text_name), header.index(label_name)
    _check_group_column(header, group_column, path)
    group_index = header.index(group_column) if group_column is not None else None

    def labelled_rows() -> Iterator[tuple[str, str, str | None]]:
        for row in rows:
            if not row:
                continue  # a blank line
            if len(row) > len(header):
                raise DataError(f"{path}: line {rows.line_num} has {len(row)} fields but the header has "
                                f"{len(header)}; expected fields that contain {delimiter!r} to be quoted")
            group = None if group_index is None else _group_of(_field(row, group_index), rows.line_num)
            yield _field(row, text_index), _field(row, label_index), group

    return _collect(labelled_rows(), str(path), "rows")


def _field(row: list[str], index: int) -> str:
    return row[index] if index < len(row) else ""


def _read_jsonl(path: Path, text_column: str | None, label_column: str | None,
                group_column: str | None = None) -> LabelledTexts:
    """JSON Lines: one object per line; blank lines are allowed."""
    objects = []
    # Split on "\n" only: JSON strings may hold a raw U+2028, which str.splitlines would break at.
    for number, line in enumerate(_decode(path.read_bytes(), str(path)).split("\n"), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            raise DataError(f"{path}: line {number} is not valid JSON ({error.msg}); "
                            f"expected JSON Lines, one object per line") from None
        if not isinstance(value, dict):
            raise DataError(f"{path}: line {number} holds a JSON {type(value).__name__}, not an object; "
                            f"expected JSON Lines, one object per line")
        objects.append(value)
    if not objects:
        raise DataError(f"{path} has no JSON objects; expected JSON Lines, one object per line")
    columns = list(dict.fromkeys(key for value in objects for key in value))
    text_key, label_key = _pick_columns(columns, text_column, label_column, path)
    _check_group_column(columns, group_column, path)
    rows = ((_as_text(value.get(text_key)), _as_text(value.get(label_key)),
             None if group_column is None else _group_of(_as_text(value.get(group_column)), number))
            for number, value in enumerate(objects, start=1))
    return _collect(rows, str(path), "rows")


def _as_text(value) -> str:
    return "" if value is None else str(value)  # labels may be numbers: 1 → "1"
