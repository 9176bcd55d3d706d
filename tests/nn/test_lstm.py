"""The LSTM: fused and reference paths agree, match torch.nn.LSTM, and follow the lecture's equations."""

from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from lstmkit.nn import GRU, LSTM, SimpleRNN, flush_denormals, reverse_padded


def run_both(layer, x, state=None, lengths=None):
    """Outputs, final state and every gradient, through the fused and the reference path."""
    results = []
    for forward in (layer, layer.reference):
        output, (h, c) = forward(x, state, lengths=lengths)
        weights = torch.linspace(-1, 1, output.numel(), dtype=x.dtype).view_as(output)
        loss = (output * weights).sum() + (h * h).sum() + (c * 0.3).sum()
        inputs = [x, *([] if state is None else state), *layer.parameters()]
        results.append(((output, h, c), torch.autograd.grad(loss, inputs)))
    return results


def max_difference(first, second):
    return max((a - b).abs().max().item() for a, b in zip(first, second))


@pytest.mark.parametrize("dtype, tolerance", [(torch.float64, 1e-10), (torch.float32, 1e-5)])
@pytest.mark.parametrize("with_lengths", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_fused_and_reference_paths_agree(dtype, tolerance, with_lengths, go_backwards):
    torch.manual_seed(0)
    layer = LSTM(5, 7, return_sequences=True, return_state=True, go_backwards=go_backwards).to(dtype)
    x = torch.randn(4, 9, 5, dtype=dtype, requires_grad=True)
    state = tuple(torch.randn(4, 7, dtype=dtype, requires_grad=True) for _ in range(2))
    lengths = torch.tensor([9, 3, 6, 1]) if with_lengths else None
    (fused_values, fused_grads), (reference_values, reference_grads) = run_both(layer, x, state, lengths)
    assert max_difference(fused_values, reference_values) < tolerance
    assert max_difference(fused_grads, reference_grads) < tolerance


def test_fused_path_equals_torch_lstm_with_zero_second_bias():
    torch.manual_seed(1)
    ours = LSTM(6, 8, return_sequences=True, return_state=True).double()
    theirs = ours.to_torch()
    assert isinstance(theirs, nn.LSTM) and not theirs.bias_hh_l0.any()
    x = torch.randn(3, 10, 6, dtype=torch.float64)
    h0, c0 = torch.randn(3, 8, dtype=torch.float64), torch.randn(3, 8, dtype=torch.float64)
    output, (h, c) = ours(x, (h0, c0))
    expected, (expected_h, expected_c) = theirs(x, (h0[None], c0[None]))
    assert torch.allclose(output, expected, atol=1e-12)
    assert torch.allclose(h, expected_h[0], atol=1e-12) and torch.allclose(c, expected_c[0], atol=1e-12)


def test_reference_step_is_the_lectures_equations():
    torch.manual_seed(2)
    layer = LSTM(3, 4).double()
    x = torch.randn(2, 1, 3, dtype=torch.float64)
    h, c = torch.randn(2, 4, dtype=torch.float64), torch.randn(2, 4, dtype=torch.float64)
    w_i, w_f, w_c, w_o = (torch.cat([wx, wh], 1) for wx, wh in zip(layer.weight_ih.chunk(4), layer.weight_hh.chunk(4)))
    b_i, b_f, b_c, b_o = layer.bias.chunk(4)
    joined = torch.cat([x[:, 0], h], 1)  # the lecture writes W·[h, x]; our columns are [x, h]
    f = torch.sigmoid(joined @ w_f.t() + b_f)
    i = torch.sigmoid(joined @ w_i.t() + b_i)
    candidate = torch.tanh(joined @ w_c.t() + b_c)
    o = torch.sigmoid(joined @ w_o.t() + b_o)
    c_new = f * c + i * candidate
    h_new = o * torch.tanh(c_new)
    gates = layer.gates(x, (h, c))
    for name, value in {"f": f, "i": i, "c~": candidate, "o": o, "c": c_new, "h": h_new}.items():
        assert torch.allclose(gates[name][:, 0], value, atol=1e-14), name
    assert torch.allclose(layer(x, (h, c)), h_new, atol=1e-14)


def test_gates_cover_every_step_and_end_in_the_outputs():
    layer = LSTM(3, 5, return_sequences=True)
    x = torch.randn(2, 7, 3)
    gates = layer.gates(x)
    assert set(gates) == {"f", "i", "c~", "o", "c", "h"}
    assert all(value.shape == (2, 7, 5) for value in gates.values())
    assert torch.allclose(gates["h"], layer(x), atol=1e-6)
    assert ((gates["f"] > 0) & (gates["f"] < 1)).all()


def test_numeric_gradient_check_of_the_reference_path():
    torch.manual_seed(3)
    layer = LSTM(3, 4, return_sequences=True, return_state=True, implementation="reference").double()
    x = torch.randn(2, 5, 3, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(2, 4, dtype=torch.float64, requires_grad=True)
    c0 = torch.randn(2, 4, dtype=torch.float64, requires_grad=True)
    weights = tuple(layer.parameters())

    def function(x, h0, c0, *params):
        output, (h, c) = layer(x, (h0, c0), lengths=torch.tensor([5, 3]))
        return output, h, c

    assert torch.autograd.gradcheck(function, (x, h0, c0, *weights))


def test_parameter_count_is_the_lectures():
    assert sum(p.numel() for p in LSTM(32, 32).parameters()) == 8_320
    assert sum(p.numel() for p in LSTM(57, 128).parameters()) == 95_232
    assert sum(p.numel() for p in nn.LSTM(32, 32).parameters()) == 8_448  # PyTorch's second bias


def test_initialisation_is_keras():
    layer = LSTM(16, 8)
    forget = layer.bias[8:16]
    assert torch.equal(forget, torch.ones(8))
    assert torch.equal(torch.cat([layer.bias[:8], layer.bias[16:]]), torch.zeros(24))
    recurrent = layer.weight_hh.detach()  # (4h, h), orthogonal columns
    assert torch.allclose(recurrent.t() @ recurrent, torch.eye(8), atol=1e-5)
    limit = (6 / (16 + 32)) ** 0.5  # Glorot-uniform over the (16, 32) kernel
    assert layer.weight_ih.abs().max() <= limit


def test_dropout_uses_one_mask_per_sequence():
    torch.manual_seed(4)
    layer = LSTM(20, 6, return_sequences=True, dropout=0.5)
    x = torch.randn(8, 12, 20, requires_grad=True)
    layer(x).sum().backward()
    dropped = x.grad.abs().sum(1) == 0  # (batch, features): no gradient at any step
    reached = (x.grad != 0).all(1)  # gradient at every step
    assert (dropped | reached).all(), "a feature was dropped at some steps and kept at others"
    assert 0.3 < dropped.float().mean() < 0.7
    layer.eval()
    assert torch.equal(layer(x), layer(x))  # no dropout at inference


def test_lengths_give_the_state_of_each_samples_own_last_step():
    torch.manual_seed(5)
    layer = LSTM(4, 6, return_sequences=True, return_state=True)
    x = torch.randn(3, 8, 4)
    lengths = torch.tensor([8, 2, 5])
    output, (h, c) = layer(x, lengths=lengths)
    for b, length in enumerate(lengths.tolist()):
        alone, (h_alone, c_alone) = layer(x[b: b + 1, :length])
        assert torch.allclose(output[b, :length], alone[0], atol=1e-6)
        assert (output[b, length:] == 0).all()
        assert torch.allclose(h[b], h_alone[0], atol=1e-6) and torch.allclose(c[b], c_alone[0], atol=1e-6)


def test_padding_values_do_not_matter():
    layer = LSTM(4, 6)
    x = torch.randn(2, 9, 4)
    lengths = torch.tensor([4, 9])
    noisy = x.clone()
    noisy[0, 4:] = 100.0
    assert torch.allclose(layer(x, lengths=lengths), layer(noisy, lengths=lengths))


def test_go_backwards_reads_the_sequence_reversed():
    layer = LSTM(3, 5, return_sequences=True, go_backwards=True)
    forwards = LSTM(3, 5, return_sequences=True)
    forwards.load_state_dict(layer.state_dict())
    x = torch.randn(2, 6, 3)
    assert torch.allclose(layer(x), forwards(x.flip(1)).flip(1), atol=1e-6)


@settings(max_examples=25, deadline=None)
@given(batch=st.integers(1, 4), time=st.integers(1, 6), lengths_seed=st.integers(0, 1000),
       go_backwards=st.booleans())
def test_any_lengths_fused_equals_reference(batch, time, lengths_seed, go_backwards):
    generator = torch.Generator().manual_seed(lengths_seed)
    lengths = torch.randint(1, time + 1, (batch,), generator=generator)
    layer = LSTM(2, 3, return_sequences=True, return_state=True, go_backwards=go_backwards).double()
    x = torch.randn(batch, time, 2, dtype=torch.float64, generator=generator)
    output, (h, c) = layer(x, lengths=lengths)
    expected, (expected_h, expected_c) = layer.reference(x, lengths=lengths)
    assert output.shape == (batch, time, 3)
    assert torch.allclose(output, expected, atol=1e-12)
    assert torch.allclose(h, expected_h, atol=1e-12) and torch.allclose(c, expected_c, atol=1e-12)


def test_reverse_padded_keeps_padding_in_place_and_is_its_own_inverse():
    x = torch.arange(8.0).view(2, 4, 1)
    reversed_ = reverse_padded(x, torch.tensor([4, 2]))
    assert reversed_[:, :, 0].tolist() == [[3, 2, 1, 0], [5, 4, 6, 7]]
    assert torch.equal(reverse_padded(reversed_, torch.tensor([4, 2])), x)


def test_flush_denormals_restores_the_previous_setting():
    tiny = torch.tensor([1e-40])
    with flush_denormals():
        assert (tiny * 1.0).item() == 0.0
        with flush_denormals(False):
            assert (tiny * 1.0).item() != 0.0
        assert (tiny * 1.0).item() == 0.0
    assert (tiny * 1.0).item() != 0.0


def test_the_openmp_runtime_flushed_is_torchs_even_beside_another():
    import sentencepiece  # noqa: F401 - its wheel brings a libgomp of its own, which sorts first by path

    from lstmkit.nn.denormals import openmp_runtime

    loaded = [line.split()[-1] for line in open("/proc/self/maps") if "sentencepiece.libs/libgomp" in line]
    assert loaded, "sentencepiece's own OpenMP runtime should be loaded for this test to mean anything"
    openmp_runtime.cache_clear()
    assert Path(openmp_runtime()._name).resolve().parent == Path(torch.__file__).resolve().parent / "lib"


def test_flush_denormals_reaches_the_worker_threads():
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        small = torch.full((4_000_000,), 1e-20)  # large enough to be split across threads
        assert (small * 1e-20 != 0).all()  # 1e-40: a denormal, kept by default
        with flush_denormals():
            assert (small * 1e-20 == 0).all()
        assert (small * 1e-20 != 0).all()
    finally:
        torch.set_num_threads(threads)


@pytest.mark.parametrize("call, message", [
    (lambda layer: layer(torch.randn(2, 3)), r"3-D input of shape \(batch, time, 4\)"),
    (lambda layer: layer(torch.randn(2, 3, 5)), r"input of shape \(batch, time, 4\), got \(2, 3, 5\)"),
    (lambda layer: layer(torch.randn(2, 3, 4), (torch.zeros(2, 6), torch.zeros(2, 5))),
     r"initial state h must have shape \(2, 5\)"),
    (lambda layer: layer(torch.randn(2, 3, 4), (torch.zeros(2, 5),)), r"initial_state must be \(h, c\)"),
    (lambda layer: layer(torch.randn(2, 3, 4), lengths=torch.tensor([3, 4])), r"lengths must lie in \[1, 3\]"),
    (lambda layer: layer(torch.randn(2, 3, 4), lengths=torch.tensor([3])), r"lengths must be integers of shape \(2,\)"),
    (lambda layer: layer(torch.zeros(2, 3, 4, dtype=torch.long)), "floating-point"),
    (lambda layer: layer(torch.tensor([[0, 4]])), r"one-hot ids in \[0, 4\) \(its input_size\), got ids 0..4"),
    (lambda layer: layer(torch.tensor([[-1, 2]])), r"got ids -1..2"),
])
def test_bad_shapes_raise_value_errors_naming_the_expected_shape(call, message):
    with pytest.raises(ValueError, match=message):
        call(LSTM(4, 5))


@pytest.mark.parametrize("layer_type", [LSTM, SimpleRNN, GRU])
def test_weight_drop_drops_the_same_recurrent_weights_at_every_step(layer_type):
    """Training with weight_drop runs as the same layer with W_hh masked once (both paths); a dropped
    weight gets no gradient; in eval the layer is the plain one."""
    torch.manual_seed(5)
    layer = layer_type(6, 8, return_sequences=True, weight_drop=0.5)
    x = torch.randn(3, 10, 6)
    plain = layer_type(6, 8, return_sequences=True)
    plain.load_state_dict(layer.state_dict())
    for forward in (layer, layer.reference):
        torch.manual_seed(6)
        output = forward(x)
        torch.manual_seed(6)  # the mask _weights drew
        masked = nn.functional.dropout(layer.weight_hh.detach(), 0.5)
        with torch.no_grad():
            plain.weight_hh.copy_(masked)
        assert (output - plain(x)).abs().max() < 1e-5
        layer.zero_grad()
        output.sum().backward()
        dropped = masked == 0
        assert 0.3 < dropped.float().mean() < 0.7
        assert (layer.weight_hh.grad[dropped] == 0).all() and (layer.weight_hh.grad[~dropped] != 0).any()
    layer.eval()
    plain.load_state_dict(layer.state_dict())
    assert torch.equal(layer(x), plain(x))


@pytest.mark.parametrize("arguments, message", [
    ((0, 5), "input_size must be a positive integer"),
    ((4, -1), "hidden_size must be a positive integer"),
    ((4, 2.5), "hidden_size must be a positive integer"),
])
def test_bad_sizes_raise_value_errors(arguments, message):
    with pytest.raises(ValueError, match=message):
        LSTM(*arguments)


def test_bad_options_raise_value_errors():
    with pytest.raises(ValueError, match="dropout"):
        LSTM(4, 5, dropout=1.0)
    with pytest.raises(ValueError, match="weight_drop"):
        LSTM(4, 5, weight_drop=-0.1)
    with pytest.raises(ValueError, match="implementation"):
        LSTM(4, 5, implementation="cudnn")


def test_fast_inference_step_equals_the_lecture_cell():
    torch.manual_seed(0)
    layer = LSTM(7, 5)
    ids = torch.tensor([0, 3, 6, 3])
    state = (torch.randn(4, 5), torch.randn(4, 5))
    kept = [s.clone() for s in state]
    inputs = torch.nn.functional.one_hot(ids, 7).float()
    expected = layer.cell(inputs, state)
    with torch.no_grad():
        from_ids = layer.step_fast(layer.step_weights(one_hot=True), ids, state)  # the gathered one-hot table
        from_vectors = layer.step_fast(layer.step_weights(), inputs, state)
        table = torch.randn(9, 7)  # an embedding's rows: ids of its rows, as the sampler feeds them
        from_rows = layer.step_fast(layer.step_weights(input_table=table), ids, state)
    torch.testing.assert_close(from_rows, layer.cell(table[ids], state))
    for got in (from_ids, from_vectors):
        for value, want in zip(got, expected):
            torch.testing.assert_close(value, want)
    for value, before in zip(state, kept):  # the state passed in is left as it was
        torch.testing.assert_close(value, before, rtol=0, atol=0)


@pytest.mark.parametrize("lengths", [None, [5, 5], [5, 2]], ids=["no-lengths", "equal", "padded"])
def test_bfloat16_autocast_runs_on_any_cpu(lengths):
    """oneDNN has a bfloat16 LSTM only on CPUs with those instructions; elsewhere the fused call runs
    in float32 instead of failing (the packed path for padded batches always ran)."""
    torch.manual_seed(4)
    layer = LSTM(3, 4, return_state=True)
    x = torch.randn(2, 5, 3)
    lengths = None if lengths is None else torch.tensor(lengths)
    expected, _ = layer(x, lengths=lengths)
    with torch.inference_mode(), torch.autocast("cpu", torch.bfloat16):
        output, _ = layer(x, lengths=lengths)
    torch.testing.assert_close(output.float(), expected.detach(), rtol=0, atol=3e-2)  # bfloat16: 8 bits


@pytest.mark.parametrize("hidden, batch, threads", [(16, 5, 1), (128, 32, 2), (128, 64, 2), (256, 8, 2)])
@pytest.mark.parametrize("grad", [False, True])
def test_one_hot_ids_give_the_values_and_gradients_of_one_hot_vectors(hidden, batch, threads, grad):
    """Ids (batch, time) read as a lookup (the compiled loop, in lanes) or made one-hot (oneDNN's kernel
    at 256 units) give what the one-hot float input gives, within float32 rounding (1e-5 relative)."""
    torch.manual_seed(0)
    layer = LSTM(57, hidden, return_sequences=True, return_state=True)
    ids = torch.randint(0, 57, (batch, 12))
    state = tuple(torch.randn(batch, hidden) for _ in range(2))
    saved = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        results = []
        for inputs in (ids, nn.functional.one_hot(ids, 57).float()):
            with torch.set_grad_enabled(grad):
                output, (h, c) = layer(inputs, state)
                values = [output, h, c]
                if grad:
                    values += torch.autograd.grad(output.square().sum() + c.sum(), list(layer.parameters()))
            results.append(values)
    finally:
        torch.set_num_threads(saved)
    for ours, expected in zip(*results):
        assert (ours - expected).abs().max().item() <= 1e-5 * max(1.0, expected.abs().max().item())


def test_one_hot_ids_where_the_layer_needs_vectors():
    """Dropout, the reference path, lengths, a Bidirectional and a SimpleRNN take ids as one-hot vectors."""
    from lstmkit.nn import Bidirectional, SimpleRNN
    torch.manual_seed(0)
    ids = torch.randint(0, 10, (3, 8))
    vectors = nn.functional.one_hot(ids, 10).float()
    lengths = torch.tensor([8, 2, 5])
    bidirectional, lstm, simple = Bidirectional(LSTM(10, 6, return_state=True)), LSTM(10, 6), SimpleRNN(10, 4)
    for ours, expected in [(bidirectional(ids, lengths=lengths)[0], bidirectional(vectors, lengths=lengths)[0]),
                           (lstm.reference(ids), lstm(vectors)), (simple(ids), simple(vectors))]:
        assert torch.allclose(ours, expected, atol=1e-6)
    layer = LSTM(10, 6, dropout=0.5)
    torch.manual_seed(1)
    dropped = layer(ids)
    torch.manual_seed(1)
    assert torch.equal(dropped, layer(vectors))  # the same mask, drawn on the one-hot vectors
    assert torch.allclose(layer.eval()(ids), layer.reference(vectors), atol=1e-6)
