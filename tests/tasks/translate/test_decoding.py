"""Greedy and beam search on a made-up step model: search needs only the StepModel interface."""

import math

import torch

from lstmkit.generation.search import beam_decode, greedy_decode
from lstmkit.generation.steps import Step
from lstmkit.text.tokens import PAD, START, STOP

A, B = 4, 5  # two made-up tokens after the reserved ones (PAD, START, STOP, UNKNOWN)


class Table:
    """A language model given as a table: the log-probabilities of the next token after each
    prefix. Its state is the prefix so far (a row per hypothesis); the context is each sentence's
    number, so that select_context has something to move."""

    attention = False

    def __init__(self, table: dict[tuple, dict[int, float]], vocabulary: int = 6):
        self.table, self.vocabulary = table, vocabulary
        self.selected_context = []

    def start(self, source, lengths):
        context = torch.arange(len(source))
        return self.step(torch.full((len(source),), START), [() for _ in range(len(source))], context), context

    def step(self, tokens, states, context):
        states = [prefix + (int(token),) for prefix, token in zip(states, tokens)]
        logits = torch.full((len(states), self.vocabulary), -1e9)
        for row, prefix in enumerate(states):
            for token, probability in self.table.get(prefix[1:], {STOP: 1.0}).items():
                logits[row, token] = math.log(probability)
        return Step(logits, states)

    def select(self, states, rows):
        return [states[row] for row in rows.tolist()]

    def select_context(self, context, rows):
        self.selected_context.append(rows.tolist())
        return context[rows]


# greedy takes A (0.6) and then has 0.6·0.4 at best; B (0.4) leads to 0.4·1.0, the likelier translation
MYOPIC = {(): {A: 0.6, B: 0.4}, (A,): {A: 0.4, B: 0.3, STOP: 0.3}, (A, A): {STOP: 1.0}, (A, B): {STOP: 1.0},
          (B,): {B: 1.0}, (B, B): {STOP: 1.0}}


def source(count: int):
    return torch.ones(count, 3, dtype=torch.long), torch.full((count,), 3)


def test_greedy_takes_the_likeliest_token_each_step():
    ids, attention = greedy_decode(Table(MYOPIC), *source(2), max_steps=8)
    assert ids[:, :3].tolist() == [[A, A, STOP]] * 2 and (ids[:, 3:] == PAD).all() and attention is None


def test_beam_search_finds_the_likelier_translation_greedy_misses():
    assert beam_decode(Table(MYOPIC), *source(1), max_steps=8, beam=2, alpha=0.0)[0, :3].tolist() == [B, B, STOP]
    assert beam_decode(Table(MYOPIC), *source(1), max_steps=8, beam=1, alpha=0.0)[0, :3].tolist() == [A, A, STOP]


def test_finished_sentences_leave_the_batch_and_beams_copy_their_sentence():
    table = Table({(): {STOP: 0.9, A: 0.1}})  # every sentence ends at once
    greedy_decode(table, *source(3), max_steps=8)
    assert table.selected_context == []  # all stopped together: nothing to move
    table = Table(MYOPIC)
    beam_decode(table, *source(2), max_steps=8, beam=3)
    assert table.selected_context == [[0, 0, 0, 1, 1, 1]]  # each sentence's context, once per hypothesis


def test_the_length_guard_ends_a_translation_that_never_stops():
    ids, _ = greedy_decode(Table({(A,) * n: {A: 1.0} for n in range(50)}), *source(1), max_steps=5)
    assert ids.tolist() == [[A] * 5]
    assert START not in beam_decode(Table({(A,) * n: {A: 1.0} for n in range(50)}), *source(1), 5, beam=2).tolist()[0]
