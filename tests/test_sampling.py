"""Sampling: the stateful sampler generates what re-running the whole model would, only faster."""

import pytest
import torch
from torch import nn

from lstmkit.nn import LSTM, Dense, Embedding
from lstmkit.generation.language_model import LanguageModelSteps
from lstmkit.generation.sampling import SamplingOptions, choose, gumbel_noise, sample


def char_model(vocab=11, hidden=16, layers=1, embedding=None):
    torch.manual_seed(0)
    table = torch.eye(vocab) if embedding is None else Embedding(vocab, embedding).weight.detach()
    sizes = [table.shape[1]] + [hidden] * layers
    lstms = [LSTM(sizes[i], hidden, return_sequences=True) for i in range(layers)]
    for lstm in lstms:  # larger weights than the default: sharper, more varied predictions
        nn.init.normal_(lstm.weight_hh, std=0.5)
    return table, lstms, Dense(hidden, vocab)


def refeed_greedy(table, lstms, output, seed, length):
    """The lecture's way: run the whole sequence so far through the model for every new token."""
    ids = seed.clone()
    for _ in range(length):
        x = table[ids]
        for lstm in lstms:
            x = lstm(x)
        ids = torch.cat([ids, output(x[:, -1]).argmax(-1, keepdim=True)], 1)
    return ids[:, seed.shape[1]:]


@pytest.mark.parametrize("layers, embedding", [(1, None), (2, None), (2, 6)])
def test_greedy_generation_equals_rerunning_the_model(layers, embedding):
    table, lstms, output = char_model(layers=layers, embedding=embedding)
    seeds = torch.randint(0, 11, (3, 7), generator=torch.Generator().manual_seed(1))
    sampler = LanguageModelSteps(table, lstms, output)
    generated = sample(sampler, seeds, 25, SamplingOptions(strategy="greedy"))
    with torch.no_grad():
        expected = refeed_greedy(table, lstms, output, seeds, 25)
    assert torch.equal(generated, expected)
    assert len(set(generated.flatten().tolist())) > 1


def test_streams_are_independent_and_seeds_of_different_lengths_work():
    table, lstms, output = char_model()
    sampler = LanguageModelSteps(table, lstms, output)
    seeds = torch.tensor([[1, 2, 3, 4], [5, 6, 0, 0]])
    together = sample(sampler, seeds, 10, SamplingOptions(strategy="greedy"), lengths=torch.tensor([4, 2]))
    alone = sample(sampler, torch.tensor([[5, 6]]), 10, SamplingOptions(strategy="greedy"))
    assert torch.equal(together[1], alone[0])


def test_same_seed_same_sample_and_streaming_callback():
    table, lstms, output = char_model()
    sampler = LanguageModelSteps(table, lstms, output)
    seeds = torch.tensor([[1, 2, 3]] * 4)
    seen = []
    first = sample(sampler, seeds, 30, SamplingOptions(temperature=1.5), torch.Generator().manual_seed(5),
                             on_token=seen.append)
    second = sample(sampler, seeds, 30, SamplingOptions(temperature=1.5), torch.Generator().manual_seed(5))
    assert torch.equal(first, second)
    assert torch.equal(torch.stack(seen, 1), first)
    assert not torch.equal(first[0], first[1])  # four streams, four different samples


def test_a_cold_temperature_samples_what_greedy_picks():
    table, lstms, output = char_model()
    torch.nn.init.normal_(output.bias, std=2.0)  # the output bias must count once, at every step
    sampler = LanguageModelSteps(table, lstms, output)
    seeds = torch.randint(0, 11, (4, 5), generator=torch.Generator().manual_seed(2))
    greedy = sample(sampler, seeds, 20, SamplingOptions(strategy="greedy"))
    cold = sample(sampler, seeds, 20, SamplingOptions(temperature=1e-4), torch.Generator().manual_seed(0))
    assert torch.equal(cold, greedy)


def test_gumbel_argmax_samples_the_softmax():
    logits = torch.tensor([2.0, 1.0, 0.0, -1.0])
    draws = (logits + gumbel_noise((40_000, 4), torch.Generator().manual_seed(0))).argmax(-1)
    frequencies = torch.bincount(draws, minlength=4).float() / 40_000
    assert torch.allclose(frequencies, logits.softmax(-1), atol=0.01)


def test_strategies():
    logits = torch.tensor([[3.0, 2.0, 1.0, 0.0]]).repeat(2000, 1)
    generator = torch.Generator().manual_seed(0)
    assert choose(logits, SamplingOptions(strategy="greedy")).eq(0).all()
    top2 = choose(logits, SamplingOptions(strategy="top-k", top_k=2), generator)
    assert set(top2.tolist()) == {0, 1}
    # probabilities 0.644, 0.237, 0.087, 0.032: the smallest set holding top_p of the mass
    assert set(choose(logits, SamplingOptions(strategy="top-p", top_p=0.6), generator).tolist()) == {0}
    assert set(choose(logits, SamplingOptions(strategy="top-p", top_p=0.8), generator).tolist()) == {0, 1}
    cold = choose(logits, SamplingOptions(strategy="temperature", temperature=0.05), generator)
    assert cold.eq(0).float().mean() > 0.99  # T -> 0 is greedy


@pytest.mark.parametrize("top_p", [5e-324, 1e-300, 1e-45, 1e-9])
def test_a_top_p_below_float32s_smallest_keeps_the_likeliest_id(top_p):
    logits = torch.tensor([[0.0, 3.0, 1.0], [2.0, 0.0, 0.0]])  # float32: top_p rounds to 0 or next to it
    chosen = choose(logits, SamplingOptions(strategy="top-p", top_p=top_p), torch.Generator().manual_seed(0))
    assert chosen.tolist() == [1, 0]


@pytest.mark.parametrize("options, message", [
    (dict(temperature=0), r"^temperature must be a number in \[1e-06, 100\] \(.*\), got 0"),
    (dict(temperature=1e-300), "^temperature"),
    (dict(temperature=-1.0), "^temperature"), (dict(temperature="hot"), "^temperature"),
    (dict(top_p=1.5), r"^top_p must be a number in \(0, 1\]"), (dict(top_p=0.0), "top_p"),
    (dict(top_k=0), "^top_k must be a whole number from 1"),
    (dict(strategy="beam"), "strategy must be one of"),
])
def test_bad_options(options, message):
    with pytest.raises(ValueError, match=message):
        SamplingOptions(**options)
