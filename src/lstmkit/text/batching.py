"""Batches of id sequences: padded to a fixed length (the lecture's way) or grouped by length.

A batch is (ids (batch, time) long, lengths (batch,) long or None, targets (batch,) long).
"""

from __future__ import annotations

from typing import Iterator, Sequence

import torch


def pad_left(sequences: Sequence[Sequence[int]], length: int) -> torch.Tensor:
    """(batch, length) ids, each sequence's last `length` ids at the end, zeros before (Keras's
    pad_sequences default): a model without lengths then reads the real words last."""
    batch = torch.zeros(len(sequences), length, dtype=torch.long)
    for row, ids in enumerate(sequences):
        ids = list(ids)[-length:]
        if ids:
            batch[row, length - len(ids):] = torch.tensor(ids)
    return batch


def pad_right(sequences: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """-> (ids (batch, longest), lengths (batch,)): real ids first, zeros after; empty counts as 1."""
    lengths = torch.tensor([max(1, len(ids)) for ids in sequences])
    batch = torch.zeros(len(sequences), int(lengths.max()), dtype=torch.long)
    for row, ids in enumerate(sequences):
        if len(ids):
            batch[row, : len(ids)] = torch.tensor(list(ids))
    return batch, lengths


def padded_batches(sequences, targets, batch_size: int, length: int, generator=None):
    """The lecture's loop: every batch left-padded to `length`, no lengths. Shuffled if a
    torch.Generator is given, else in order."""
    order = _order(len(sequences), generator)
    for start in range(0, len(order), batch_size):
        rows = order[start: start + batch_size].tolist()
        yield (pad_left([sequences[r] for r in rows], length), None,
               torch.tensor([targets[r] for r in rows]))


def length_batches(sequences, targets, batch_size: int, generator=None, pool: int = 50) -> Iterator:
    """Batches of similar lengths, right-padded only to their longest member, with lengths.

    Shuffled: random pools of `pool` batches' worth of samples are each sorted by length and cut
    into batches, and the batches come in random order — similar lengths together, different
    batches every epoch. Without a generator: sorted by length, in order (for evaluation).
    """
    order = _order(len(sequences), generator)
    pool_size = batch_size * pool if generator is not None else len(order)
    batches = []
    for start in range(0, len(order), pool_size):
        chunk = sorted(order[start: start + pool_size].tolist(), key=lambda r: len(sequences[r]))
        batches.extend(chunk[i: i + batch_size] for i in range(0, len(chunk), batch_size))
    if generator is not None:
        batches = [batches[i] for i in torch.randperm(len(batches), generator=generator).tolist()]
    for rows in batches:
        ids, lengths = pad_right([sequences[r] for r in rows])
        yield ids, lengths, torch.tensor([targets[r] for r in rows])


def _order(count: int, generator) -> torch.Tensor:
    return torch.randperm(count, generator=generator) if generator is not None else torch.arange(count)


class Epoch:
    """One epoch's batches, made on the fly by `make()`, with a length for the progress bar."""

    def __init__(self, make, count: int):
        self.make, self.count = make, count

    def __iter__(self):
        return self.make()

    def __len__(self):
        return self.count
