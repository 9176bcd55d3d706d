"""SimpleRNN, GRU, Bidirectional, stacking, Embedding and Dense."""

import pytest
import torch
from torch import nn

from lstmkit.nn import GRU, LSTM, Bidirectional, Dense, Embedding, SimpleRNN


@pytest.mark.parametrize("ours_type, theirs_type", [(SimpleRNN, nn.RNN), (GRU, nn.GRU)])
def test_fused_equals_reference_and_torch(ours_type, theirs_type):
    torch.manual_seed(0)
    ours = ours_type(4, 6, return_sequences=True, return_state=True).double()
    theirs = ours.to_torch()
    assert type(theirs) is theirs_type
    x = torch.randn(3, 8, 4, dtype=torch.float64, requires_grad=True)
    lengths = torch.tensor([8, 5, 2])
    output, h = ours(x)
    expected, expected_h = theirs(x)
    assert torch.allclose(output, expected, atol=1e-12) and torch.allclose(h, expected_h[0], atol=1e-12)
    gradients = []
    for forward in (ours, ours.reference):
        output, h = forward(x, lengths=lengths)
        gradients.append(torch.autograd.grad(output.sum() + (h * h).sum(), [x, *ours.parameters()]))
        assert torch.allclose(h[1], forward(x[1:2, :5])[1][0], atol=1e-12)
    assert all(torch.allclose(a, b, atol=1e-10) for a, b in zip(*gradients))


def test_parameter_counts_as_keras():
    assert sum(p.numel() for p in SimpleRNN(32, 32).parameters()) == 2_080
    assert sum(p.numel() for p in GRU(32, 32).parameters()) == 6_336  # Keras GRU(32), reset_after
    assert sum(p.numel() for p in Bidirectional(LSTM(32, 32)).parameters()) == 16_640


def test_simple_rnn_state_is_one_tensor():
    layer = SimpleRNN(3, 4, return_state=True)
    output, h = layer(torch.randn(2, 5, 3), torch.zeros(2, 4))
    assert isinstance(h, torch.Tensor) and torch.equal(output, h)


def test_bidirectional_concatenates_forward_and_backward():
    torch.manual_seed(1)
    layer = Bidirectional(LSTM(3, 4, return_sequences=True))
    x = torch.randn(2, 6, 3)
    output = layer(x)
    assert output.shape == (2, 6, 8)
    backward = LSTM(3, 4, return_sequences=True)
    backward.load_state_dict(layer.backward_layer.state_dict())
    assert torch.allclose(output[..., :4], layer.forward_layer(x))
    assert torch.allclose(output[..., 4:], backward(x.flip(1)).flip(1), atol=1e-6)
    assert not torch.equal(layer.forward_layer.weight_ih, layer.backward_layer.weight_ih)


def test_bidirectional_last_output_and_lengths():
    torch.manual_seed(2)
    layer = Bidirectional(LSTM(3, 4, return_state=True))
    x = torch.randn(2, 7, 3)
    lengths = torch.tensor([7, 3])
    last, (forward_state, backward_state) = layer(x, lengths=lengths)
    assert last.shape == (2, 8)
    alone, _ = layer(x[1:2, :3])
    assert torch.allclose(last[1], alone[0], atol=1e-6)
    assert torch.equal(last[:, :4], forward_state[0]) and torch.equal(last[:, 4:], backward_state[0])


def test_stacking_with_return_sequences():
    model = nn.Sequential(LSTM(5, 8, return_sequences=True), LSTM(8, 8, return_sequences=True), LSTM(8, 3))
    assert model(torch.randn(4, 10, 5)).shape == (4, 3)
    with pytest.raises(ValueError, match=r"3-D input"):
        nn.Sequential(LSTM(5, 8), LSTM(8, 8))(torch.randn(4, 10, 5))  # forgot return_sequences


def test_bidirectional_rejects_other_layers():
    with pytest.raises(ValueError, match="recurrent layer"):
        Bidirectional(nn.Linear(3, 4))


def test_embedding_loads_pretrained_and_freezes():
    matrix = torch.randn(10, 4)
    embedding = Embedding.from_pretrained(matrix)
    assert not embedding.trainable
    ids = torch.tensor([[1, 2, 9]])
    assert torch.equal(embedding(ids), matrix[ids])
    model = nn.Sequential(embedding, LSTM(4, 3), Dense(3, 1))
    model(ids).sum().backward()
    assert embedding.weight.grad is None
    embedding.unfreeze()
    model(ids).sum().backward()
    assert embedding.weight.grad is not None and embedding.trainable


def test_embedding_fixed_rows_never_move_once_it_trains():
    torch.manual_seed(0)
    embedding = Embedding.from_pretrained(torch.randn(10, 4)).fix_rows_from(6)  # frozen at first, as unfreeze_after
    before = embedding.weight.detach().clone()
    optimizer = torch.optim.Adam(embedding.parameters(), lr=0.1)
    embedding.unfreeze()
    embedding.unfreeze()  # hooked once: a second hook would change nothing, and none may be missing
    for _ in range(3):
        optimizer.zero_grad()
        embedding(torch.tensor([[0, 3, 5, 6, 9]])).square().sum().backward()
        optimizer.step()
    moved = (embedding.weight.detach() != before).any(dim=1)
    assert moved[[0, 3, 5]].all() and not moved[6:].any() and not moved[[1, 2, 4]].any()  # unused rows: no gradient


def test_embedding_rejects_bad_input():
    embedding = Embedding(10, 4)
    with pytest.raises(ValueError, match=r"token ids in \[0, 9\]"):
        embedding(torch.tensor([[3, 10]]))
    with pytest.raises(ValueError, match="integer token ids"):
        embedding(torch.zeros(1, 3))
    with pytest.raises(ValueError, match=r"shape \(10, 4\)"):
        embedding.load_pretrained(torch.zeros(9, 4))


def test_dense_activations():
    layer = Dense(3, 5, activation="softmax")
    assert torch.allclose(layer(torch.randn(2, 3)).sum(-1), torch.ones(2))
    assert sum(p.numel() for p in Dense(32, 1).parameters()) == 33
    with pytest.raises(ValueError, match="activation"):
        Dense(3, 5, activation="gelu2")
