"""The encoder-decoder blocks as layers: shapes, a Bi-LSTM encoder's joined states, and a decoder
whose steps never emit the tokens it is told to avoid and agree with its teacher-forced pass."""

import torch

from lstmkit.nn import Decoder, Encoder


def test_a_bidirectional_encoder_joins_both_directions_states():
    torch.manual_seed(0)
    encoder = Encoder(vocab=20, dim=8, hidden=12, layers=2, bidirectional=True)
    ids, lengths = torch.randint(1, 20, (3, 5)), torch.tensor([5, 3, 1])
    outputs, states = encoder(ids, lengths)
    assert outputs.shape == (3, 5, 12)
    assert [tuple(part.shape) for state in states for part in state] == [(3, 12)] * 4


def test_decoder_steps_agree_with_its_teacher_forced_pass_and_never_emit_the_banned_tokens():
    torch.manual_seed(0)
    encoder = Encoder(vocab=20, dim=0, hidden=16, layers=2).eval()  # one-hot source ids
    decoder = Decoder(vocab=30, dim=8, hidden=16, layers=2, attention=True, never=(0, 2)).eval()
    source, lengths = torch.randint(1, 20, (3, 6)), torch.tensor([6, 4, 2])
    memory, states = encoder(source, lengths)
    mask = torch.arange(6)[None, :] < lengths[:, None]
    targets = torch.randint(3, 30, (3, 4))
    with torch.no_grad():
        forced = decoder(targets, states, memory, mask)
        constants, stepped = decoder.step_constants(), []
        for t in range(targets.shape[1]):
            logits, states, weights = decoder.step(targets[:, t], states, memory, mask, constants)
            stepped.append(logits)
    stepped = torch.stack(stepped, 1)
    assert forced.shape == (3, 4, 30)
    assert torch.isinf(stepped[..., [0, 2]]).all() and (stepped[..., [0, 2]] < 0).all()
    kept = [token for token in range(30) if token not in (0, 2)]
    torch.testing.assert_close(stepped[..., kept], forced[..., kept], rtol=1e-4, atol=1e-5)
    assert torch.allclose(weights.sum(-1), torch.ones(3)) and (weights[2, 2:] == 0).all()  # masked steps


def test_scaled_attention_divides_the_scores_by_the_root_of_the_hidden_size():
    torch.manual_seed(0)
    plain = Decoder(vocab=30, dim=8, hidden=16, layers=1, attention=True).eval()
    scaled = Decoder(vocab=30, dim=8, hidden=16, layers=1, attention=True, scaled_attention=True).eval()
    scaled.load_state_dict(plain.state_dict())  # the same weights: only the scale differs
    queries, memory, mask = torch.randn(2, 3, 16), torch.randn(2, 5, 16), torch.ones(2, 5, dtype=torch.bool)
    with torch.no_grad():
        scores = plain.score(queries) @ memory.transpose(1, 2)
        torch.testing.assert_close(plain.attend(queries, memory, mask)[1], scores.softmax(-1))
        torch.testing.assert_close(scaled.attend(queries, memory, mask)[1], (scores / 4).softmax(-1))
