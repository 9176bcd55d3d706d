import pytest
import torch

from lstmkit.metrics import classification_report, confusion_matrix, translation_scores


def test_binary_report_counts_the_positive_class():
    targets = torch.tensor([1, 1, 1, 0, 0, 0, 0, 1])
    predictions = torch.tensor([1, 1, 0, 0, 0, 1, 0, 1])
    report = classification_report(targets, predictions, ["neg", "pos"])
    assert report["confusion_matrix"] == [[3, 1], [1, 3]]
    assert report["accuracy"] == 0.75
    assert report["precision"] == 0.75 and report["recall"] == 0.75 and report["f1"] == 0.75


def test_multiclass_report_macro_averages():
    targets = torch.tensor([0, 1, 2, 2])
    predictions = torch.tensor([0, 2, 2, 2])
    report = classification_report(targets, predictions, ["a", "b", "c"])
    assert confusion_matrix(targets, predictions, 3).tolist() == [[1, 0, 0], [0, 0, 1], [0, 0, 2]]
    assert abs(report["recall"] - (1 + 0 + 1) / 3) < 1e-12
    assert abs(report["precision"] - (1 + 0 + 2 / 3) / 3) < 1e-12


def test_translation_scores_use_every_reference():
    perfect = translation_scores(["Ich bin müde.", "Hallo!"], [["Ich bin müde."], ["Grüß Gott!", "Hallo!"]])
    assert perfect["bleu"] == pytest.approx(100) and perfect["chrf"] == pytest.approx(100)
    assert perfect["exact_match"] == 1.0
    assert perfect["bleu_single_reference"] < 100  # "Hallo!" against "Grüß Gott!" counts too
    partial = translation_scores(["Ich bin mude."], [["Ich bin müde."]])
    assert 0 < partial["chrf"] < 100 and partial["exact_match"] == 0.0
    with pytest.raises(ValueError, match="one non-empty list of references per hypothesis"):
        translation_scores(["a"], [])
