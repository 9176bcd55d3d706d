"""Lanes: independent fused calls side by side on the OpenMP team's threads give the values and
gradients of running them one after another (float32 sums in another order: 1e-5 relative)."""

import pytest
import torch

from lstmkit import nn as kit
from lstmkit.nn import flush_denormals
from lstmkit.nn.denormals import denormals_flushed
from lstmkit.nn.lanes import lane_count, side_by_side
from lstmkit.nn.recurrent import batch_slices

CPU = torch.device("cpu")


@pytest.fixture
def two_threads(monkeypatch):
    """Two intra-op threads (lanes need them, whatever the machine's count), lanes not capped."""
    monkeypatch.delenv("LSTMKIT_LANES", raising=False)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def outputs_and_gradients(layer, x, lengths):
    layer.zero_grad()
    x = x.detach().requires_grad_()
    out = layer(x, lengths=lengths)
    out = out[0] if isinstance(out, tuple) else out
    out.pow(2).sum().backward()
    return [out.detach(), x.grad] + [p.grad.clone() for p in layer.parameters()]


def assert_close_lists(got, expected):
    for a, b in zip(got, expected, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("make", [
    lambda: kit.LSTM(5, 7, return_sequences=True, return_state=True),
    lambda: kit.LSTM(5, 7, go_backwards=True),
    lambda: kit.Bidirectional(kit.LSTM(5, 7, return_sequences=True)),
    lambda: kit.Bidirectional(kit.LSTM(5, 7, return_state=True)),
    lambda: kit.Bidirectional(kit.GRU(5, 7)),
    lambda: kit.Bidirectional(kit.SimpleRNN(5, 7, return_sequences=True)),
], ids=["lstm", "lstm-backwards", "bi-sequences", "bi-state", "bi-gru", "bi-simplernn"])
@pytest.mark.parametrize("batch", [1, 3, 100])
@pytest.mark.parametrize("with_lengths", [False, True])
def test_lanes_give_the_values_and_gradients_of_one_call(make, batch, with_lengths, two_threads, monkeypatch):
    torch.manual_seed(batch)
    layer, x = make(), torch.randn(batch, 9, 5)
    lengths = torch.randint(1, 10, (batch,)) if with_lengths else None
    monkeypatch.setenv("LSTMKIT_LANES", "1")
    one_call = outputs_and_gradients(layer, x, lengths)
    monkeypatch.delenv("LSTMKIT_LANES")
    assert_close_lists(outputs_and_gradients(layer, x, lengths), one_call)


def test_a_batch_is_cut_into_lane_slices_of_at_most_32_in_training_for_small_states_or_ids_only():
    small, medium, large = kit.LSTM(4, 32), kit.LSTM(4, 256), kit.LSTM(4, 512)
    assert kit.LSTM.lanes and not kit.SimpleRNN.lanes and not kit.GRU.lanes
    assert batch_slices(small, 128, 2, 1, True) == [(0, 32), (32, 64), (64, 96), (96, 128)]
    assert batch_slices(small, 128, 2, 1, False) == [(0, 64), (64, 128)]  # no gradients: only to fill the lanes
    assert batch_slices(small, 128, 2, 2, False) == [(0, 128)]
    assert batch_slices(small, 32, 2, 1, True) == [(0, 16), (16, 32)]  # every lane gets work
    assert batch_slices(small, 32, 2, 2, True) == [(0, 32)]  # two calls (directions) fill the lanes already
    assert batch_slices(small, 1, 2, 1, True) == [(0, 1)]
    assert batch_slices(small, 128, 1, 1, True) == [(0, 128)]  # one lane: one call
    assert batch_slices(medium, 128, 2, 1, True) == [(0, 32), (32, 64), (64, 96), (96, 128)]
    assert batch_slices(medium, 32, 2, 1, True) == [(0, 32)]  # only small states are cut to fill the lanes
    assert batch_slices(medium, 128, 2, 1, False) == [(0, 128)]
    assert batch_slices(large, 128, 2, 1, True) == [(0, 128)]
    # one-hot ids skip the input's product: the compiled loop in lanes pays up to 256 units
    assert batch_slices(medium, 32, 2, 1, True, ids=True) == [(0, 16), (16, 32)]
    assert batch_slices(medium, 32, 2, 1, False, ids=True) == [(0, 16), (16, 32)]
    assert batch_slices(large, 32, 2, 1, True, ids=True) == [(0, 32)]


def test_lanes_follow_the_threads_and_the_cap(two_threads, monkeypatch):
    assert lane_count(CPU) == 2
    monkeypatch.setenv("LSTMKIT_LANES", "1")
    assert lane_count(CPU) == 1
    torch.set_num_threads(1)
    monkeypatch.delenv("LSTMKIT_LANES")
    assert lane_count(CPU) == 1


def test_a_job_sees_the_callers_modes_and_never_starts_lanes_of_its_own(two_threads):
    def seen(_x):
        return (torch.tensor([torch.is_grad_enabled(), torch.is_inference_mode_enabled(), denormals_flushed(),
                              lane_count(CPU) == 1]),)

    x = torch.zeros(1)
    with torch.inference_mode(), flush_denormals():
        assert [r[0].tolist() for r in side_by_side([(seen, [x])] * 3, lane_count(CPU))] == [[False, True, True, True]] * 3
    with torch.no_grad(), flush_denormals(False):
        assert [r[0].tolist() for r in side_by_side([(seen, [x])] * 3, lane_count(CPU))] == [[False, False, False, True]] * 3


def test_a_failing_job_raises_in_the_caller_and_the_lanes_still_work(two_threads):
    def fails(_x):
        raise ValueError("this job fails")

    x = torch.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="this job fails"):
        side_by_side([(lambda t: (t * 2,), [x]), (fails, [x])], 2)
    (doubled,), (tripled,) = side_by_side([(lambda t: (t * 2,), [x]), (lambda t: (t * 3,), [x])], 2)
    (doubled.sum() + tripled.sum()).backward()
    assert x.grad.tolist() == [5.0, 5.0]  # a tensor shared by two jobs gets both gradients
