"""Character data: the lecture's counts on the real text, the shipped copy, batches made on the fly."""

import hashlib
from pathlib import Path

import pytest
import torch

from lstmkit.data import nietzsche_path
from lstmkit.nn import one_hot
from lstmkit.tasks.textgen.chars import lecture_starts, read_text, segment_batches, split_held_out, window_batches
from lstmkit.text.vocabulary import Vocabulary
from lstmkit.errors import DataError

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "nietzsche" / "nietzsche.txt"


def test_the_lectures_counts_on_the_nietzsche_text():
    text = read_text(SHARED, lowercase=True)
    vocabulary = Vocabulary.fit([text], "char", order="code point")
    assert len(text) == 600_893
    assert vocabulary.size == 57
    assert len(lecture_starts(len(text))) == 200_278


def test_the_package_ships_the_same_text():
    shipped = nietzsche_path().read_bytes()
    assert shipped == SHARED.read_bytes()
    assert hashlib.sha256(shipped).hexdigest() == "23cf69874ab69d3d256099ab530ea4be24d47d9675b673bcc67cbcd6298ec647"


def test_windows_and_old_mac_line_ends_read_as_newlines(tmp_path):
    path = tmp_path / "t.txt"
    path.write_bytes("\ufeffone\r\ntwo\rthree\n".encode("utf-8"))
    assert read_text(path) == "one\ntwo\nthree\n"


@pytest.mark.parametrize("content, message", [
    (b"", "has 0 characters"), (b"\x89PNG\r\n\x1a\n\x00\x00", "binary"), (b"caf\xe9", "not UTF-8 .* offset 3"),
])
def test_bad_text_files_are_clear_errors(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        read_text(path)
    with pytest.raises(DataError, match="not found"):
        read_text(tmp_path / "missing.txt")


def test_held_out_is_the_last_tenth():
    ids = torch.arange(100)
    train, held_out = split_held_out(ids, 0.1)
    assert train.tolist() == list(range(90)) and held_out.tolist() == list(range(90, 100))


def test_segment_batches_pair_each_segment_with_its_next_character():
    ids = torch.arange(1000) % 57
    starts = lecture_starts(len(ids), 60, 3)
    batches = list(segment_batches(ids, starts, 60, 128, torch.Generator().manual_seed(0)))
    assert sum(len(y) for _, y in batches) == len(starts)
    x, y = batches[0]
    assert x.shape == (128, 60) and y.shape == (128,)
    assert torch.equal(y, (x[:, -1] + 1) % 57)  # the character after the segment
    assert one_hot(x, 57).shape == (128, 60, 57)


def test_window_batches_shift_targets_by_one_and_cover_the_text():
    ids = torch.arange(10_000)
    batches = list(window_batches(ids, 50, 32, torch.Generator().manual_seed(1)))
    targets = torch.cat([y.flatten() for _, y in batches])
    assert len(targets) == len(set(targets.tolist())) > 9_800  # every character a target once
    for x, y in batches:
        assert torch.equal(y, x + 1)
