"""A trained sentiment run (or several averaged) in use: load, predict, explain, inspect, evaluate."""

from __future__ import annotations

import warnings

import torch

from ...catalogue import located
from ...errors import DataError, RunError
from ...inspection import Inspection, inspect_layers
from ...metrics import classification_report
from .readers import LabelledTexts, read_labelled
from ...text.vocabulary import Vocabulary
from ...text.words import words
from ...training.recipe import load_trained, run_list
from ...training.run import RunDirectory
from .config import SentimentConfig
from .data import Prepared, batches_of, class_indices, encode_last
from .model import SentimentModel, predict_logits, probabilities


def load(run_path, device: str = "cpu") -> tuple[SentimentModel, Vocabulary, SentimentConfig]:
    """A trained run -> (model in eval mode on `device`, vocabulary, config)."""
    model, vocabulary, config, _ = load_trained(
        run_path, "sentiment", SentimentConfig, lambda data, run: Vocabulary.from_json(data),
        lambda config, vocabulary: SentimentModel(config, vocabulary.size, len(config.classes)), device)
    return model, vocabulary, config


class SentimentClassifier:
    """Trained sentiment run(s) ready to label texts: one run, or several whose class probabilities
    are averaged (an ensemble). Calls only read the weights: threads may share one classifier."""

    def __init__(self, members: list[tuple[SentimentModel, Vocabulary, SentimentConfig]]):
        self.members = members
        self.classes = members[0][2].classes

    @classmethod
    def load(cls, run_paths, device: str = "cpu") -> "SentimentClassifier":
        """One run directory, or a list of them (all must know the same classes)."""
        paths = run_list(run_paths)
        loaded = [load(path, device) for path in paths]
        for path, (_, _, config) in zip(paths[1:], loaded[1:]):
            if config.classes != loaded[0][2].classes:
                raise RunError(f"{path} predicts the classes {', '.join(config.classes)} but {paths[0]} predicts "
                               f"{', '.join(loaded[0][2].classes)}; an ensemble needs runs of the same classes")
        return cls(loaded)

    def probabilities(self, texts: list[str]) -> torch.Tensor:
        """(len(texts), K) class probabilities in the texts' order: each run's, batched as that run
        trained (its vocabulary, maxlen, padding), averaged over the runs."""
        return self._probabilities(lambda vocabulary, config: Prepared.unlabelled(texts, vocabulary, config.maxlen))

    def _probabilities(self, prepare) -> torch.Tensor:
        """The runs' averaged probabilities of what prepare(vocabulary, config) -> Prepared holds."""
        total = None
        for model, vocabulary, config in self.members:
            logits, rows = predict_logits(model, batches_of(prepare(vocabulary, config), config, batch_size=512),
                                          next(model.parameters()).device)
            batch_order = probabilities(logits)
            in_order = torch.empty_like(batch_order)
            in_order[rows] = batch_order
            total = in_order if total is None else total + in_order
        return total / len(self.members)

    def predict(self, texts: list[str]) -> list[dict]:
        """[{"text", "label", "probability", "probabilities": {class: p}}] for each text."""
        self.check(texts)
        return self.labelled(texts, self.probabilities(texts))

    @staticmethod
    def check(texts: list[str]) -> None:
        """DataError naming the first text with no words (after removing punctuation)."""
        for number, text in enumerate(texts, 1):
            if not words(text):
                raise DataError(f"text {number} to predict is empty (no words after removing punctuation)")

    def labelled(self, texts: list[str], probabilities: torch.Tensor) -> list[dict]:
        """predict()'s results from the texts' probabilities (len(texts), K)."""
        results = []
        for text, probs in zip(texts, probabilities):
            best = int(probs.argmax())
            results.append({"text": text, "label": self.classes[best], "probability": float(probs[best]),
                            "probabilities": {name: float(p) for name, p in zip(self.classes, probs)}})
        return results

    def explain(self, text: str) -> dict:
        """{"label", "probability", "words": [(word, contribution)]}: a word's contribution is how much
        the probability of the predicted label drops when that word is replaced by an unknown word
        (negative: the word speaks against the label); words a run does not read (before its last
        maxlen) contribute nothing to it."""
        [result] = self.predict([text])
        tokens, label = words(text), self.classes.index(result["label"])

        def occluded(vocabulary, config):  # row k: the text with word k unknown
            ids = vocabulary.encode(text)  # one id per token
            unknown = vocabulary.ids["unknown"]
            rows = [(ids[:k] + [unknown] + ids[k + 1:])[-config.maxlen:] for k in range(len(tokens))]
            return Prepared(rows, list(range(len(rows))))

        contributions = (result["probability"] - self._probabilities(occluded)[:, label]).tolist()
        return {"label": result["label"], "probability": result["probability"],
                "words": list(zip(tokens, contributions))}

    def parameter_count(self) -> int:
        """The weights it computes with (an ensemble's: all its members')."""
        return sum(p.numel() for model, _, _ in self.members for p in model.parameters())

    def inspect(self, text: str) -> Inspection:
        """The first run's LSTM layers over the words it reads of `text` (its last maxlen)."""
        model, vocabulary, config = self.members[0]
        ids = encode_last(vocabulary, text, config.maxlen)
        if not ids:
            raise DataError("the text to inspect is empty (no words after removing punctuation)")
        kept = words(text)[-config.maxlen:]
        with torch.no_grad():
            x = model.embedding(torch.tensor([ids], device=next(model.parameters()).device))
        return inspect_layers(model.recurrent, x, kept, config.rnn)

    def report(self, data: LabelledTexts) -> dict:
        """Accuracy, precision/recall/F1 and confusion matrix on `data`."""
        targets = torch.tensor(class_indices(data, self.classes))
        return classification_report(targets, self.probabilities(data.texts).argmax(1), self.classes)


def evaluate(run_paths, data_path, *, device="auto", text_column=None, label_column=None) -> dict:
    """Metrics on a dataset's test split (or all of it if it has no splits) of one run, or of
    several runs' averaged class probabilities."""
    classifier = SentimentClassifier.load(run_paths, device)
    splits = read_labelled(data_path, text_column=text_column, label_column=label_column)
    name = "test" if "test" in splits else "all"
    if name == "all":
        _warn_if_trained_on(run_paths, splits[name])
    return {"split": name, "source": splits[name].source, "runs": len(classifier.members),
            **classifier.report(splits[name])}


def _warn_if_trained_on(run_paths, data: LabelledTexts) -> None:
    """Scores on the very texts a run trained on are not held-out scores: say so."""
    fingerprint = data.fingerprint()
    for path in run_list(run_paths):
        if RunDirectory(located(path)).load_config().get("training_texts") == fingerprint:
            warnings.warn(f"{data.source} has no test split and holds the texts {path} trained on, so these "
                          f"numbers are not held-out ones; evaluate on texts kept out of training (a separate "
                          f"file, or a train/ and test/ layout)", stacklevel=3)
