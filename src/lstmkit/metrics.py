"""Metrics: classification (accuracy, precision, recall, F1, confusion matrix) and translation
(BLEU and chrF through sacrebleu, exact match)."""

from __future__ import annotations

import torch

from .dependencies import need

SCORES_FEATURE = "scoring translations (BLEU, chrF)"


def confusion_matrix(targets: torch.Tensor, predictions: torch.Tensor, classes: int) -> torch.Tensor:
    """(classes, classes) counts: row = true class, column = predicted class."""
    flat = targets.long() * classes + predictions.long()
    return torch.bincount(flat, minlength=classes * classes).view(classes, classes)


def classification_report(targets: torch.Tensor, predictions: torch.Tensor, class_names: list[str]) -> dict:
    """accuracy (0-1), precision/recall/F1 (of the positive class, the last, for two classes;
    macro-averaged over classes for more), and the confusion matrix as nested lists."""
    matrix = confusion_matrix(targets, predictions, len(class_names)).double()
    true_positive = matrix.diagonal()
    precision = true_positive / matrix.sum(0).clamp(min=1)
    recall = true_positive / matrix.sum(1).clamp(min=1)
    f1 = 2 * precision * recall / (precision + recall).clamp(min=1e-12)
    pick = (lambda v: v[-1].item()) if len(class_names) == 2 else (lambda v: v.mean().item())
    return {"accuracy": (true_positive.sum() / matrix.sum().clamp(min=1)).item(),
            "precision": pick(precision), "recall": pick(recall), "f1": pick(f1),
            "count": int(matrix.sum().item()), "classes": list(class_names),
            "confusion_matrix": matrix.long().tolist()}


def translation_scores(hypotheses: list[str], references: list[list[str]]) -> dict:
    """Corpus BLEU and chrF (sacrebleu, 0-100, its default 13a tokenization of detokenized text) and
    the exact-match rate (0-1). references[i] holds every reference translation of hypothesis i.
    Also BLEU with each (hypothesis, reference) pair scored as a segment of its own."""
    sacrebleu = need("sacrebleu", SCORES_FEATURE)
    if len(hypotheses) != len(references) or not hypotheses:
        raise ValueError(f"need one non-empty list of references per hypothesis, got {len(hypotheses)} "
                         f"hypotheses and {len(references)} reference lists")
    width = max(len(refs) for refs in references)
    streams = [[refs[k] if k < len(refs) else None for refs in references] for k in range(width)]
    exact = sum(hypothesis in refs for hypothesis, refs in zip(hypotheses, references)) / len(hypotheses)
    # the stricter reading: every (hypothesis, one reference) pair a segment of its own
    per_pair = [(hypothesis, ref) for hypothesis, refs in zip(hypotheses, references) for ref in refs]
    return {"bleu": sacrebleu.corpus_bleu(hypotheses, streams).score,
            "chrf": sacrebleu.corpus_chrf(hypotheses, streams).score, "exact_match": exact,
            "bleu_single_reference": sacrebleu.corpus_bleu([h for h, _ in per_pair], [[r for _, r in per_pair]]).score}
