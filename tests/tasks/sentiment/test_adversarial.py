"""Adversarial training (`--adversarial SHARE`): the loss adds the loss of the embedded words moved
along the loss's gradient by SHARE of each text's embedding norm, which raises it; a frozen
embedding stays frozen; the command line trains with it and keeps it in the run."""

import json

import torch

from lstmkit.tasks.sentiment import SentimentConfig, SentimentModel
from lstmkit.tasks.sentiment.model import adversarial_loss, loss_and_correct


def _model_and_batch(freeze: bool = False):
    torch.manual_seed(0)
    config = SentimentConfig(embedding_dim=8, units=6, bidirectional=True, pooling="max", freeze_embedding=freeze)
    model = SentimentModel(config, 50, 2).eval()  # no dropout: the two passes see the same model
    ids, lengths = torch.randint(2, 50, (4, 7)), torch.tensor([7, 5, 3, 1])
    return model, ids, lengths, torch.tensor([0, 1, 1, 0])


def test_the_adversarial_loss_adds_the_loss_of_words_moved_epsilon_along_the_gradient():
    model, ids, lengths, targets = _model_and_batch()
    share = 0.05
    loss, correct = adversarial_loss(model, ids, lengths, targets, share)
    embedded = model.embedding(ids).detach().requires_grad_()
    plain, plain_correct = loss_and_correct(model.classify(embedded, lengths), targets)
    gradient, = torch.autograd.grad(plain, embedded)
    words = [embedded[row, :length].detach().norm() for row, length in enumerate(lengths.tolist())]
    step = torch.stack([share * norm * g / g.norm() for norm, g in zip(words, gradient)])
    moved = loss_and_correct(model.classify(embedded + step, lengths), targets)[0]
    assert correct == plain_correct
    torch.testing.assert_close(loss, plain + moved, rtol=1e-5, atol=1e-6)
    assert moved > plain  # the gradient's way raises the loss
    assert (step[2, 3:] == 0).all()  # nothing moves past a text's end (its gradient is 0 there)


def test_a_frozen_embedding_stays_frozen_and_the_rest_learns_from_both_losses():
    model, ids, lengths, targets = _model_and_batch(freeze=True)
    loss, _ = adversarial_loss(model, ids, lengths, targets, 1.0)
    loss.backward()
    assert all(p.grad is None for p in model.embedding.parameters())
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.output.parameters())


def test_the_command_line_trains_adversarially_and_keeps_the_setting(tmp_path, tiny_aclimdb, run_cli):
    common = ["sentiment", "train", "--data", tiny_aclimdb, "--epochs", 1, "--quiet", "--embedding-dim", 16,
              "--units", 16, "--batch-size", 32]
    assert run_cli(*common, "--out", tmp_path / "plain")[0] == 0
    code, _, err = run_cli(*common, "--out", tmp_path / "adversarial", "--adversarial", 0.05)
    assert code == 0, err
    saved = json.loads((tmp_path / "adversarial" / "config.json").read_text(encoding="utf-8"))
    assert saved["config"]["adversarial"] == 0.05
    from safetensors.torch import load_file
    plain, adversarial = (load_file(tmp_path / name / "model.safetensors") for name in ("plain", "adversarial"))
    assert not torch.equal(plain["output.weight"], adversarial["output.weight"])  # same seed, another loss
    code, _, err = run_cli(*common, "--out", tmp_path / "bad", "--adversarial", 2)
    assert code == 2 and "--adversarial" in err
