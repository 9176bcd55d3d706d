"""Pretraining a classifier's layers as a language model (`lstmkit sentiment pretrain`): each direction
predicts from the words it has read only, padding is neither read nor predicted, the language model
learns, and a classifier starts from its layers (`train --init-from`), with gradual unfreezing."""

import json
import math

import pytest
import torch
from safetensors.torch import load_file

from lstmkit.errors import SettingsError
from lstmkit.tasks.sentiment import SentimentConfig, WordLanguageModel, pretrain
from lstmkit.tasks.sentiment.pretraining import language_model_loss, validate_pretraining

SMALL = dict(embedding_dim=8, units=6, num_words=60, batch_size=16)


def _model(bidirectional: bool = True) -> WordLanguageModel:
    torch.manual_seed(0)
    return WordLanguageModel(SentimentConfig(**SMALL, bidirectional=bidirectional, pooling="max"), 60).eval()


def test_each_direction_reads_only_the_words_on_its_side_of_the_word_it_predicts():
    model, ids = _model(), torch.randint(2, 60, (1, 9))
    changed = ids.clone()
    changed[0, 5:] = torch.randint(2, 60, (4,))  # words 5.. differ
    lengths = torch.tensor([9])
    before, after = model.states(ids, lengths), model.states(changed, lengths)
    units = model.units
    # the forward states up to word 4 (which predict words up to 5) have not read word 5 or later
    torch.testing.assert_close(before[0, :5, :units], after[0, :5, :units], rtol=0, atol=0)
    assert not torch.allclose(before[0, 5:, units:], after[0, 5:, units:])  # the backward ones have


def test_padding_is_neither_read_nor_predicted():
    model = _model()
    short, long = torch.randint(2, 60, (1, 4)), torch.randint(2, 60, (1, 7))
    alone = [language_model_loss(model, ids, torch.tensor([ids.shape[1]])) for ids in (short, long)]
    padded = torch.cat([torch.nn.functional.pad(short, (0, 3)), long])
    together, count = language_model_loss(model, padded, torch.tensor([4, 7]))
    assert count == alone[0][1] + alone[1][1] == 2 * (3 + 6)  # each direction, every word but one end's
    torch.testing.assert_close(together, alone[0][0] + alone[1][0], rtol=1e-5, atol=1e-5)


def test_settings_a_language_model_cannot_have_are_refused():
    with pytest.raises(SettingsError, match="layers"):  # a second layer would see the words it predicts
        validate_pretraining(SentimentConfig(**SMALL, bidirectional=True, layers=2))
    with pytest.raises(SettingsError, match="adversarial"):
        validate_pretraining(SentimentConfig(**SMALL, adversarial=0.02))
    validate_pretraining(SentimentConfig(**SMALL, layers=2))  # one direction stacks


@pytest.fixture(scope="module")
def language_model(tiny_aclimdb, tmp_path_factory):
    out = tmp_path_factory.mktemp("lm") / "run"
    config = SentimentConfig(**SMALL, bidirectional=True, pooling="max", optimizer="adam", lr=0.01, epochs=3)
    return out, pretrain(config, tiny_aclimdb, out, progress=False, log=lambda *_: None)


def test_the_language_model_learns_the_reviews_words(language_model):
    out, result = language_model
    losses = [row["val_loss"] for row in result["history"]]
    assert losses[-1] < losses[0] < math.log(60)  # better than guessing among the 60 words, and improving
    saved = json.loads((out / "config.json").read_text(encoding="utf-8"))
    assert saved["task"] == "sentiment-lm" and saved["config"]["bidirectional"] is True


def test_a_classifier_starts_from_the_pretrained_layers_and_unfreezes_them_gradually(language_model, tmp_path,
                                                                                    tiny_aclimdb, run_cli):
    out, _ = language_model
    command = ["sentiment", "train", "--data", tiny_aclimdb, "--init-from", out, "--gradual-unfreezing",
               "--discriminative-lr", 2.5, "--optimizer", "adam", "--lr", 0.01, "--quiet", "--out", tmp_path / "sa"]
    code, printed, err = run_cli(*command, "--epochs", 1)
    assert code == 0, err
    assert "language model's embedding and recurrent layers" in printed
    pretrained = load_file(out / "model.safetensors")

    def unchanged():
        weights = load_file(tmp_path / "sa" / "last.safetensors")
        assert "output.weight" in weights and not any(name.startswith("heads.") for name in weights)
        taken = [name for name in weights if name.startswith(("recurrent.", "embedding."))]
        assert len(taken) == 7  # the embedding, and each direction's three tensors
        return {name for name in taken if torch.equal(weights[name], pretrained[name])}

    assert len(unchanged()) == 7  # epoch 1 trains the output layer only
    code, _, err = run_cli(*command, "--epochs", 2, "--resume")
    assert code == 0, err
    assert unchanged() == {"embedding.weight"}  # epoch 2 the (top) recurrent layer too; the embedding comes last
    groups = torch.load(tmp_path / "sa" / "trainer.pt")["optimizer"]["param_groups"]
    assert [group["lr"] for group in groups] == pytest.approx([0.01, 0.004, 0.0016])  # output, LSTM, embedding
    code, _, err = run_cli("sentiment", "train", "--data", tiny_aclimdb, "--gradual-unfreezing", "--quiet",
                           "--out", tmp_path / "alone")
    assert code == 2 and "--gradual-unfreezing" in err and "--init-from" in err


def test_pretrain_on_the_command_line_refuses_a_classifiers_setting(tiny_aclimdb, tmp_path, run_cli):
    code, _, err = run_cli("sentiment", "pretrain", "--data", tiny_aclimdb, "--adversarial", 0.02,
                           "--out", tmp_path / "lm")
    assert code == 2 and "--adversarial" in err and "Traceback" not in err
