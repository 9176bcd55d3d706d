"""The lecture's word tokenizer, and the two ways of batching id sequences."""

import torch

from lstmkit.text.batching import length_batches, pad_left, pad_right, padded_batches
from lstmkit.text.words import words


def test_words_lowercase_and_strip_breaks_and_punctuation():
    assert words("A GREAT movie!<br /><br />Isn't it... (really) great?") == \
        ["a", "great", "movie", "isnt", "it", "really", "great"]
    assert words("") == [] and words("!!! ...") == []


def test_pad_left_puts_words_last_and_pad_right_gives_lengths():
    assert pad_left([[5, 6], [7, 8, 9, 10]], 3).tolist() == [[0, 5, 6], [8, 9, 10]]
    ids, lengths = pad_right([[5, 6], [7, 8, 9], []])
    assert ids.tolist() == [[5, 6, 0], [7, 8, 9], [0, 0, 0]] and lengths.tolist() == [2, 3, 1]


def test_length_batches_group_similar_lengths_and_cover_every_sample_once():
    sequences = [[1] * n for n in torch.randint(1, 300, (1000,), generator=torch.Generator().manual_seed(0)).tolist()]
    targets = list(range(1000))
    batches = list(length_batches(sequences, targets, 32, torch.Generator().manual_seed(1), pool=10))
    seen = sorted(t for _, _, target in batches for t in target.tolist())
    assert seen == targets
    padding = sum(ids.numel() - int(lengths.sum()) for ids, lengths, _ in batches)
    shuffled = torch.randperm(1000, generator=torch.Generator().manual_seed(2)).split(32)
    random_padding = sum(len(rows) * max(len(sequences[r]) for r in rows.tolist()) - sum(
        len(sequences[r]) for r in rows.tolist()) for rows in shuffled)
    assert padding < 0.25 * random_padding  # sorted pools: a fraction of random batches' padding
    for ids, lengths, target in batches:
        assert ids.shape[1] == int(lengths.max())
        assert lengths.tolist() == [len(sequences[t]) for t in target.tolist()]


def test_epochs_shuffle_differently_and_evaluation_order_is_fixed():
    sequences, targets = [[1] * (n % 17 + 1) for n in range(200)], list(range(200))
    generator = torch.Generator().manual_seed(0)
    first = [b[2].tolist() for b in length_batches(sequences, targets, 16, generator)]
    second = [b[2].tolist() for b in length_batches(sequences, targets, 16, generator)]
    assert first != second
    fixed = [b[2].tolist() for b in length_batches(sequences, targets, 16)]
    assert fixed == [b[2].tolist() for b in length_batches(sequences, targets, 16)]


def test_padded_batches_are_the_lectures_fixed_length():
    batches = list(padded_batches([[3, 4], [5]], [0, 1], 2, 4))
    ids, lengths, target = batches[0]
    assert lengths is None and ids.tolist() == [[0, 0, 3, 4], [0, 0, 0, 5]] and target.tolist() == [0, 1]
