"""The compiled step loops (nn/steploops.c) against PyTorch's own layers and the eager / oneDNN paths."""

import math
import shutil
import sysconfig

import pytest
import torch
from torch import nn

from lstmkit.nn import LSTM, Bidirectional, SimpleRNN, steploops
from lstmkit.nn import lstm as lstm_module
from lstmkit.nn.denormals import set_flush_denormal_everywhere

TOLERANCE = 1e-5  # float32: the compiled tanh and product round differently from PyTorch's


@pytest.fixture(autouse=True)
def default_loops(monkeypatch):
    """These tests choose the loops themselves, whatever the environment asks for (the portability
    run sets LSTMKIT_STEP_LOOPS=python for the rest of the suite)."""
    monkeypatch.delenv("LSTMKIT_STEP_LOOPS", raising=False)


def test_the_install_compiled_the_loops_where_it_could():
    """make test installs as a user does: a machine with a C compiler gets the compiled loops, one
    without gets an install that runs PyTorch's kernels instead."""
    compiler = sysconfig.get_config_var("CC") or "cc"
    if shutil.which(compiler.split()[0]) is None:
        assert not steploops.available() and not steploops.runs(torch.zeros(1, 1, 1), 8, steploops.LSTM_MAX_UNITS)
        return
    assert steploops.available() and steploops.chosen() == "compiled"
    assert steploops.runs(torch.zeros(1, 1, 1), 64, steploops.LSTM_MAX_UNITS)
    assert not steploops.runs(torch.zeros(1, 1, 1, dtype=torch.float64), 8, steploops.LSTM_MAX_UNITS)
    assert not steploops.runs(torch.zeros(1, 1, 1), steploops.LSTM_MAX_UNITS + 1, steploops.LSTM_MAX_UNITS)
    with torch.autocast("cpu", torch.bfloat16):
        assert not steploops.runs(torch.zeros(1, 1, 1), 8, steploops.LSTM_MAX_UNITS)


def _outputs_and_gradients(layer, x, h0, lengths):
    output, h = layer(x, h0, lengths=lengths)
    weights = torch.randn(output.shape)  # a loss that reaches every step and the final state
    loss = (output * weights).sum() + (h * h).sum()
    return [output, h, *torch.autograd.grad(loss, [x, h0, *layer.parameters()])]


@pytest.mark.parametrize("batch, time, units", [(1, 1, 1), (3, 7, 5), (32, 50, 32), (4, 9, 40), (2, 6, 64)])
def test_simplernn_compiled_equals_torch_and_eager(monkeypatch, batch, time, units):
    """Outputs, final state and every gradient; 40 and 5 units take the loop's partial-block path."""
    torch.manual_seed(units)
    layer = SimpleRNN(3, units, return_sequences=True, return_state=True)
    with torch.no_grad():
        layer.bias.uniform_(-0.5, 0.5)
    x = torch.randn(batch, time, 3, requires_grad=True)
    h0 = torch.randn(batch, units).tanh().requires_grad_()
    lengths = torch.randint(1, time + 1, (batch,))
    torch.manual_seed(1)
    compiled = _outputs_and_gradients(layer, x, h0, lengths)
    output, h = layer(x, h0)
    torch_output, torch_h = layer.to_torch()(x, h0[None])
    assert torch.allclose(output, torch_output, atol=TOLERANCE) and torch.allclose(h, torch_h[0], atol=TOLERANCE)
    monkeypatch.setenv("LSTMKIT_STEP_LOOPS", "python")
    torch.manual_seed(1)
    eager = _outputs_and_gradients(layer, x, h0, lengths)
    for ours, reference in zip(compiled, eager):
        scale = max(1.0, reference.abs().max().item())
        assert torch.allclose(ours, reference, atol=TOLERANCE * scale), (ours - reference).abs().max()


def test_simplernn_compiled_forward_equals_torch():
    torch.manual_seed(0)
    layer = SimpleRNN(6, 32, return_sequences=True)
    x = torch.randn(8, 100, 6) * 3  # large pre-activations: tanh saturates
    assert steploops.runs(x, 32, steploops.SIMPLERNN_MAX_UNITS)
    assert torch.allclose(layer(x), layer.to_torch()(x)[0], atol=TOLERANCE)


def test_compiled_tanh_over_its_range():
    """A one-unit layer with unit weights computes tanh(x_t) exactly where its state starts at 0."""
    layer = SimpleRNN(1, 1, return_sequences=True)
    with torch.no_grad():
        layer.weight_ih.fill_(1.0), layer.weight_hh.zero_(), layer.bias.zero_()
    x = torch.cat([torch.linspace(-30, 30, 20_001), torch.tensor([0.0, -0.0, 0.125, -0.125, 1e-30, 88.0,
                                                                  math.inf, -math.inf, math.nan])])
    got = layer(x[None, :, None])[0, :, 0]
    expected = torch.tanh(x.double())
    assert torch.allclose(got.double()[:-1], expected[:-1], rtol=1e-6, atol=1e-7)
    assert got[-1].isnan(), "NaN propagates, as PyTorch's tanh does"


def test_unknown_loop_choice_is_named(monkeypatch):
    monkeypatch.setenv("LSTMKIT_STEP_LOOPS", "fast")
    with pytest.raises(ValueError, match=r"LSTMKIT_STEP_LOOPS must be one of compiled, python, got 'fast'"):
        SimpleRNN(2, 3)(torch.zeros(1, 2, 2))


def test_training_through_the_compiled_loop_learns(monkeypatch):
    """RMSprop through the compiled backward follows the eager loop's first steps and lowers the loss
    of a toy sequence task. Later steps drift apart by rounding, which differs from CPU to CPU (the last
    loss alone ranged 0.15-0.25 of the first across kernels and thread counts on an AVX-512 Xeon), so
    the bar is on the mean of the last ten (0.22-0.23 of the first there)."""
    def losses(loops: str) -> list[float]:
        monkeypatch.setenv("LSTMKIT_STEP_LOOPS", loops)
        torch.manual_seed(0)
        model = nn.ModuleDict({"rnn": SimpleRNN(1, 16), "out": nn.Linear(16, 1)})
        x = torch.randn(64, 20, 1)
        target = x.sum(1)  # the running sum: the state must carry it
        optimizer = torch.optim.RMSprop(model.parameters(), lr=0.003)
        seen = []
        for _ in range(60):
            loss = nn.functional.mse_loss(model["out"](model["rnn"](x)), target)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            seen.append(loss.item())
        return seen

    compiled, eager = losses("compiled"), losses("python")
    assert compiled[:10] == pytest.approx(eager[:10], rel=1e-3)
    assert sum(compiled[-10:]) / 10 < 0.3 * compiled[0]


def _lstm_outputs_and_gradients(layer, x, state, lengths):
    output, (h, c) = layer(x, state, lengths=lengths)
    weights = torch.randn(output.shape)
    loss = (output * weights).sum() + (h * h).sum() + (c * c).sum()
    return [output, h, c, *torch.autograd.grad(loss, [x, *state, *layer.parameters()])]


@pytest.mark.parametrize("batch, time, units", [(1, 1, 1), (3, 7, 5), (32, 50, 32), (4, 9, 40)])
@pytest.mark.parametrize("backwards", [False, True], ids=["forwards", "go_backwards"])
def test_lstm_compiled_equals_torch_and_onednn(monkeypatch, batch, time, units, backwards):
    """Outputs, (h, c) and every gradient, c0's included, against oneDNN's kernel (LSTMKIT_STEP_LOOPS=
    python) with lengths; against torch.nn.LSTM without."""
    torch.manual_seed(units)
    layer = LSTM(3, units, return_sequences=True, return_state=True, go_backwards=backwards)
    with torch.no_grad():
        layer.bias.uniform_(-0.5, 0.5)
    x = torch.randn(batch, time, 3, requires_grad=True)
    state = [torch.randn(batch, units).tanh().requires_grad_(), torch.randn(batch, units).requires_grad_()]
    lengths = torch.full((batch,), time)
    lengths[0] = max(1, time - 2)  # the final state of a shorter sample takes the packed kernel; outputs don't
    torch.manual_seed(1)
    compiled = _lstm_outputs_and_gradients(layer, x, state, None)
    compiled_lengths = _lstm_outputs_and_gradients(layer, x, state, lengths)
    if not backwards:
        output, (h, c) = layer(x, state)
        torch_output, (torch_h, torch_c) = layer.to_torch()(x, (state[0][None], state[1][None]))
        assert torch.allclose(output, torch_output, atol=TOLERANCE)
        assert torch.allclose(h, torch_h[0], atol=TOLERANCE) and torch.allclose(c, torch_c[0], atol=TOLERANCE)
    monkeypatch.setenv("LSTMKIT_STEP_LOOPS", "python")
    torch.manual_seed(1)
    onednn = _lstm_outputs_and_gradients(layer, x, state, None)
    onednn_lengths = _lstm_outputs_and_gradients(layer, x, state, lengths)
    for ours, reference in zip(compiled + compiled_lengths, onednn + onednn_lengths):
        scale = max(1.0, reference.abs().max().item())
        assert torch.allclose(ours, reference, atol=TOLERANCE * scale), (ours - reference).abs().max()


def test_bidirectional_lstm_in_lanes_runs_the_compiled_loop_and_matches_onednn(monkeypatch):
    """Two directions side by side on the OpenMP team's threads, each a compiled call."""
    torch.manual_seed(0)
    layer = Bidirectional(LSTM(8, 32, return_sequences=True))
    x = torch.randn(64, 30, 8, requires_grad=True)
    results = []
    for loops in ("compiled", "python"):
        monkeypatch.setenv("LSTMKIT_STEP_LOOPS", loops)
        output = layer(x)
        results.append([output, *torch.autograd.grad(output.square().sum(), [x, *layer.parameters()])])
    for ours, reference in zip(*results):
        assert torch.allclose(ours, reference, atol=TOLERANCE * max(1.0, reference.abs().max().item()))


def test_lstm_of_128_units_runs_compiled_in_parts_only_and_matches_onednn(monkeypatch):
    """A training batch of 64 cut into parts of rows, each run on one thread, where the loop takes
    128 units (on all threads oneDNN keeps them); the gradients equal oneDNN's."""
    monkeypatch.delenv("LSTMKIT_LANES", raising=False)
    assert steploops.lstm_max_units(one_thread=True) >= 128 > steploops.lstm_max_units(one_thread=False)
    torch.manual_seed(0)
    layer = LSTM(8, 128)
    x = torch.randn(64, 12, 8, requires_grad=True)
    ran = []
    compiled_apply = lstm_module._CompiledLSTM.apply
    monkeypatch.setattr(lstm_module._CompiledLSTM, "apply", lambda *args: ran.append(1) or compiled_apply(*args))
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        results = []
        for loops in ("compiled", "python"):
            monkeypatch.setenv("LSTMKIT_STEP_LOOPS", loops)
            output = layer(x)
            results.append([output, *torch.autograd.grad(output.square().sum(), [x, *layer.parameters()])])
    finally:
        torch.set_num_threads(threads)
    assert len(ran) == 1  # one compiled call runs the two parts side by side
    for ours, reference in zip(*results):
        assert torch.allclose(ours, reference, atol=TOLERANCE * max(1.0, reference.abs().max().item()))


@pytest.fixture
def restore_product():
    chosen = steploops.product()
    yield
    assert steploops.use_product(chosen)


def _lstm_and_simplernn_results(units: int):
    """Outputs and every gradient of an LSTM and a SimpleRNN of `units` through the compiled loops."""
    torch.manual_seed(units)
    results = []
    for layer in (LSTM(6, units, return_sequences=True), SimpleRNN(6, units, return_sequences=True)):
        x = torch.randn(11, 9, 6, requires_grad=True)
        output = layer(x)
        results += [output, *torch.autograd.grad(output.square().sum(), [x, *layer.parameters()])]
    return results


@pytest.mark.usefixtures("restore_product")
@pytest.mark.parametrize("units", [5, 37, 64])
def test_every_product_this_cpu_runs_gives_the_same_loops(units):
    """The matrix product is written for AVX-512, AVX2 and any CPU (blocks of 11 rows need every
    block size; 37 units leave the last panel part-filled in both directions). The versions that
    fuse multiply-adds sum in one order and agree to the bit; the portable one within rounding."""
    assert steploops.use_product("portable")
    portable = _lstm_and_simplernn_results(units)
    vectorised = {}
    for name in ("avx512", "avx2"):
        if steploops.use_product(name):  # the CPUs this suite meets run at least AVX2
            vectorised[name] = _lstm_and_simplernn_results(units)
    for results in vectorised.values():
        for ours, reference in zip(results, portable):
            assert torch.allclose(ours, reference, atol=TOLERANCE * max(1.0, reference.abs().max().item()))
    if len(vectorised) == 2:
        assert all(torch.equal(a, b) for a, b in zip(vectorised["avx512"], vectorised["avx2"]))


def test_an_unknown_product_is_named():
    with pytest.raises(ValueError, match="one of avx512, avx2, portable, got 'sse'"):
        steploops.use_product("sse")


@pytest.mark.parametrize("ids", [False, True], ids=["dense", "one-hot ids"])
def test_lstm_inference_keeps_one_step_and_gives_what_training_gives(monkeypatch, ids):
    """Without a backward to follow, the loop keeps one step of gates and cells and the lanes join
    no outputs nobody asked for: the same values as a forward that keeps them all."""
    monkeypatch.delenv("LSTMKIT_LANES", raising=False)
    torch.manual_seed(0)
    sequences, last = LSTM(20, 37, return_sequences=True, return_state=True), LSTM(20, 37, return_state=True)
    last.load_state_dict(sequences.state_dict())
    x = torch.randint(0, 20, (64, 15)) if ids else torch.randn(64, 15, 20)
    ran = []
    compiled_apply = lstm_module._CompiledLSTM.apply
    monkeypatch.setattr(lstm_module._CompiledLSTM, "apply",
                        lambda *args: ran.append(args[-2]) or compiled_apply(*args))
    trained = sequences(x)  # the weights require gradients: every step kept
    with torch.no_grad():
        inferred, (final, (h, c)) = sequences(x), last(x)
    assert ran[0] is True and ran[-1] is False
    for ours, reference in zip([inferred[0], *inferred[1], final, h, c],
                               [trained[0], *trained[1], trained[0][:, -1], *trained[1]]):
        assert torch.equal(ours, reference)


@pytest.mark.parametrize("ids", [False, True], ids=["dense", "one-hot ids"])
def test_lstm_parts_of_a_batch_side_by_side_give_what_one_part_gives(ids):
    """Rows never meet in the loops, so a batch cut into parts run on the team's threads gives the
    same values to the bit as one part, and the weights' gradients (one product over the whole
    batch after the loop) too; more parts than threads, and than rows, included."""
    torch.manual_seed(0)
    layer = LSTM(20, 37, return_sequences=True)
    x = torch.randint(0, 20, (13, 9)) if ids else torch.randn(13, 9, 20)
    h0, c0 = torch.randn(13, 37), torch.randn(13, 37)
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        results = []
        for parts in (1, 2, 5, 20):
            state = [h0.clone().requires_grad_(), c0.clone().requires_grad_()]
            output, h_n, c_n = lstm_module._CompiledLSTM.apply(x, *state, *layer._own_weights(), True, parts)
            loss = output.square().sum() + h_n.sum() + c_n.square().sum()
            results.append([output, h_n, c_n, *torch.autograd.grad(loss, [*state, *layer.parameters()])])
    finally:
        torch.set_num_threads(threads)
    for other in results[1:]:
        assert all(torch.equal(a, b) for a, b in zip(results[0], other))


def test_lstm_parts_on_the_teams_threads_flush_denormals_as_the_caller_does():
    """Flushing is a setting of each thread: the team's threads take the caller's for the call. All
    weights zero make every c_t = c_(t-1) / 2, so a denormal c0 stays denormal unless flushed."""
    layer = LSTM(3, 16)
    with torch.no_grad():
        for weight in layer.parameters():
            weight.zero_()
    ids, h0, c0 = torch.zeros(8, 2, dtype=torch.long), torch.zeros(8, 16), torch.full((8, 16), 1e-39)
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        for caller, team in ((True, False), (False, True)):
            set_flush_denormal_everywhere(team)
            torch.set_flush_denormal(caller)
            with torch.no_grad():
                _, _, c_n = lstm_module._CompiledLSTM.apply(ids, h0, c0, *layer._own_weights(), False, 8)
            assert torch.equal(c_n == 0, torch.full_like(c_n, caller, dtype=torch.bool))
    finally:
        set_flush_denormal_everywhere(False)
        torch.set_num_threads(threads)


def test_lstm_reads_the_time_major_outputs_of_a_layer_below_as_they_lie():
    """A stacked layer's input is the layer below's time-major buffer seen batch-major: the loop
    reads it with its strides, and gives what a contiguous copy gives, gradients included."""
    torch.manual_seed(0)
    layer = LSTM(6, 37, return_sequences=True)
    buffer = torch.randn(9, 11, 6)  # (time, batch, features)
    results = []
    for x in (buffer.transpose(0, 1), buffer.transpose(0, 1).contiguous()):
        x = x.detach().requires_grad_()
        output = layer(x)
        results.append([output, *torch.autograd.grad(output.square().sum(), [x, *layer.parameters()])])
    assert all(torch.equal(a, b) for a, b in zip(*results))
