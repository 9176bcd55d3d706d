"""Sentiment (text classification): the lecture's IMDB model and its variants, as a tool.

    Embedding(num_words, dim) -> [LSTM | SimpleRNN | GRU](units) x layers (optionally
    bidirectional) -> last state, or max/mean over time -> Dense(1, sigmoid) | Dense(K, softmax)

The model returns logits; the sigmoid/softmax is applied by the loss and by predict().
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from .. import __version__
from ..dependencies import need_all
from ..errors import DataError, RunError, SettingsError
from ..inspection import Inspection, inspect_layers
from ..metrics import classification_report
from ..nn import GRU, LSTM, Bidirectional, Dense, Embedding, SimpleRNN
from ..text.batching import length_batches, padded_batches
from ..text.readers import LabelledTexts, read_labelled, read_unlabelled
from ..text import vectors
from ..text.vectors import embedding_matrix, load_word_vectors, train_word2vec
from ..text.words import OOV, WordVocabulary, words
from ..training import distributed
from ..training.device import resolve_device
from ..training.loop import NEEDS, FitOptions, check_training_config, fit
from ..training.optimizers import make_optimizer
from ..training.recipe import start_run
from ..training.run import LAST, RunDirectory

RECURRENT = {"lstm": LSTM, "simplernn": SimpleRNN, "gru": GRU}
ADAM_EPS = 1e-7  # Keras's Adam ε, as the lecture trains
POOLING = ("last", "max", "mean")


@dataclass
class SentimentConfig:
    num_words: int = 10_000  # vocabulary size, padding and unknown-word ids included
    maxlen: int = 500  # words kept per text (its last maxlen)
    embedding_dim: int = 32
    rnn: str = "lstm"
    units: int = 32
    layers: int = 1
    bidirectional: bool = False
    dropout: float = 0.0  # Keras-style input dropout of every recurrent layer
    pooling: str = "last"  # what the classifier sees: the last state, or max/mean over time
    pretrained: str | None = None  # "word2vec" (trained on the unlabelled texts) or a vectors file
    freeze_embedding: bool = False
    unfreeze_after: int | None = None  # make a frozen embedding trainable from this epoch on
    optimizer: str = "rmsprop"
    lr: float = 1e-3
    batch_size: int = 128
    epochs: int = 10
    minutes: float | None = None  # stop training after this much time (the epoch in progress ends early)
    val_split: float = 0.2  # taken from the training texts, never from the test texts
    val_by_group: bool = False  # validation holds whole groups (aclImdb: movies), no group on both sides
    patience: int | None = None
    monitor: str = "val_accuracy"  # what picks the best checkpoint: "val_accuracy" or "val_loss" (Keras's default)
    clip_norm: float | None = None
    ema: float | None = None  # validate and keep a moving average of the weights, decaying by this per step
    batching: str = "length"  # "length": similar lengths together, real words only; "padded": the lecture's
    micro_batch: int | None = 32  # run a batch in chunks of this size: same gradient, faster on CPU
    seed: int = 0
    classes: list[str] = field(default_factory=list)  # from the training labels, sorted


PRESETS = {
    # Deep Learning with Python 6.2 / the lecture: Embedding(10000, 32) -> LSTM(32) -> Dense(1, sigmoid),
    # RMSprop 1e-3, batch 128, 20% validation, 10 epochs.
    "lecture": SentimentConfig(),
    # The best recipe measured here (docs/RESULTS.md).
    # Word2vec vectors (128-d, trained on the 50,000 unlabelled + training reviews) kept frozen,
    # a Bi-LSTM(64) reading up to 1,000 words, max-pooled over time.
    "best": SentimentConfig(num_words=30_000, maxlen=1_000, embedding_dim=128, units=64, bidirectional=True,
                            pooling="max", pretrained="word2vec", freeze_embedding=True, optimizer="adam", lr=2e-3,
                            batch_size=64, epochs=30, dropout=0.4, clip_norm=1.0),
}


def validate_config(config: SentimentConfig) -> None:
    check_training_config(config)
    checks = [
        (config.rnn in RECURRENT, f"--rnn must be one of {', '.join(RECURRENT)}, got {config.rnn!r}"),
        (config.pooling in POOLING, f"--pooling must be one of {', '.join(POOLING)}, got {config.pooling!r}"),
        (config.batching in ("length", "padded"), f"--batching must be length or padded, got {config.batching!r}"),
        (config.monitor in ("val_accuracy", "val_loss"),
         f"--monitor must be val_accuracy or val_loss, got {config.monitor!r}"),
        (config.embedding_dim >= 1, f"--embedding-dim must be at least 1 (words go through an embedding), "
                                    f"got {config.embedding_dim}"),
    ]
    for ok, message in checks:
        if not ok:
            raise SettingsError(message)


class SentimentModel(nn.Module):
    """ids (batch, time) [+ lengths (batch,)] -> logits (batch, 1) for two classes, (batch, K) for K."""

    def __init__(self, config: SentimentConfig, vocabulary_size: int, num_classes: int):
        super().__init__()
        self.pooling = config.pooling
        self.embedding = Embedding(vocabulary_size, config.embedding_dim, trainable=not config.freeze_embedding)
        layers, size = [], config.embedding_dim
        for index in range(config.layers):
            sequences = index < config.layers - 1 or config.pooling != "last"
            layer = RECURRENT[config.rnn](size, config.units, return_sequences=sequences, dropout=config.dropout)
            layers.append(Bidirectional(layer) if config.bidirectional else layer)
            size = config.units * (2 if config.bidirectional else 1)
        self.recurrent = nn.ModuleList(layers)
        self.output = Dense(size, 1 if num_classes == 2 else num_classes)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        x = self.embedding(ids)
        for layer in self.recurrent:
            x = layer(x, lengths=lengths)
        if self.pooling != "last":  # x: (batch, time, features); padding must not count
            mask = (torch.arange(x.shape[1], device=x.device)[None, :] < lengths.to(x.device)[:, None]
                    if lengths is not None else torch.ones(x.shape[:2], dtype=torch.bool, device=x.device))
            if self.pooling == "max":
                x = x.masked_fill(~mask[..., None], float("-inf")).amax(1)
            else:
                x = (x * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
        return self.output(x)


def loss_and_correct(logits: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, int]:
    """Mean cross-entropy (binary on one logit, categorical on K) and the number right."""
    if logits.shape[1] == 1:
        loss = nn.functional.binary_cross_entropy_with_logits(logits[:, 0], targets.float())
        predictions = (logits[:, 0] > 0).long()
    else:
        loss = nn.functional.cross_entropy(logits, targets)
        predictions = logits.argmax(1)
    return loss, int((predictions == targets).sum())


def probabilities(logits: torch.Tensor) -> torch.Tensor:
    """(batch, K) class probabilities from the model's logits."""
    if logits.shape[1] == 1:
        positive = torch.sigmoid(logits[:, 0])
        return torch.stack([1 - positive, positive], 1)
    return torch.softmax(logits, 1)


def class_indices(data: LabelledTexts, classes: list[str]) -> list[int]:
    """Each text's class index; a label the model never saw is a DataError naming it."""
    index = {name: position for position, name in enumerate(classes)}
    unseen = sorted(set(data.labels) - set(index))
    if unseen:
        raise DataError(f"{data.source}: label {unseen[0]!r} was never seen in training; "
                        f"the model knows: {', '.join(classes)}")
    return [index[label] for label in data.labels]


class Prepared:
    """One split as id sequences and integer targets: class indices, or for unlabelled texts each
    text's position (carried through the batches so that results go back in the texts' order)."""

    def __init__(self, sequences: list[list[int]], targets: list[int]):
        self.sequences, self.targets = sequences, targets

    @classmethod
    def labelled(cls, data: LabelledTexts, vocabulary: WordVocabulary, classes: list[str], maxlen: int):
        return cls([vocabulary.encode(text, maxlen) for text in data.texts], class_indices(data, classes))

    @classmethod
    def unlabelled(cls, texts: list[str], vocabulary: WordVocabulary, maxlen: int):
        return cls([vocabulary.encode(text, maxlen) for text in texts], list(range(len(texts))))

    def __len__(self):
        return len(self.targets)


def batch_loss_on(device: torch.device):
    """batch_loss(model, (ids, lengths, targets)) -> (mean loss, {"count", "correct"}), for fit()."""
    def batch_loss(model, batch):
        ids, lengths, targets = batch
        logits = model(ids.to(device), None if lengths is None else lengths.to(device))
        loss, correct = loss_and_correct(logits, targets.to(device))
        return loss, {"count": len(targets), "correct": correct}

    return batch_loss


FEW_VALIDATION_TEXTS = 30  # below this, one text moves validation accuracy by > 3 points


def split_validation(data: LabelledTexts, fraction: float, seed: int,
                     by_group: bool = False) -> tuple[LabelledTexts, LabelledTexts]:
    """(train, validation): a seeded shuffle, the last `fraction` for validation. by_group shuffles
    data.groups instead and validates on the last whole groups that make up `fraction` of the texts."""
    generator = torch.Generator().manual_seed(seed)
    if by_group:
        if data.groups is None:
            raise DataError(f"{data.source}: --val-by-group needs a group per text (aclImdb's "
                            f"{{train,test}}/urls_<class>.txt give each review's movie; for CSV/TSV/JSONL "
                            f"name the column with --group-column); none found")
        members: dict[str, list[int]] = {}
        for row, group in enumerate(data.groups):
            members.setdefault(group, []).append(row)
        groups = list(members)
        order = [row for g in torch.randperm(len(groups), generator=generator).tolist() for row in members[groups[g]]]
    else:
        order = torch.randperm(len(data.texts), generator=generator).tolist()
    cut = len(order) - max(1, round(len(order) * fraction))
    while by_group and 0 < cut < len(order) and data.groups[order[cut - 1]] == data.groups[order[cut]]:
        cut -= 1  # the group at the cut goes to validation whole

    def pick(rows):
        groups = None if data.groups is None else [data.groups[r] for r in rows]
        return LabelledTexts([data.texts[r] for r in rows], [data.labels[r] for r in rows], data.source, groups)

    return pick(order[:cut]), pick(order[cut:])


def batches_of(prepared: Prepared, config: SentimentConfig, generator=None, batch_size=None) -> list:
    size = batch_size or config.batch_size
    if config.batching == "padded":
        return list(padded_batches(prepared.sequences, prepared.targets, size, config.maxlen, generator))
    return list(length_batches(prepared.sequences, prepared.targets, size, generator))


def predict_logits(model: SentimentModel, batches, device) -> tuple[torch.Tensor, torch.Tensor]:
    """-> (logits (n, ·), targets (n,)) over batches, in batch order."""
    model.eval()
    outputs, targets = [], []
    with torch.no_grad():
        for ids, lengths, target in batches:
            outputs.append(model(ids.to(device), None if lengths is None else lengths.to(device)).cpu())
            targets.append(target)
    return torch.cat(outputs), torch.cat(targets)


def pretrain_word_vectors(data_path, dim: int, *, train_texts=None, unlabelled=None, seed: int = 0, log=print):
    """Step 1 of the lecture's pretraining: word2vec on the unlabelled reviews (aclImdb's
    train/unsup, or `unlabelled`) plus the training texts (all of `data_path`'s training split if
    not given). Test texts are never read. -> gensim KeyedVectors."""
    if train_texts is None:
        splits = read_labelled(data_path)
        train_texts = (splits.get("train") or splits["all"]).texts
    corpus = read_unlabelled(unlabelled or data_path) + list(train_texts)
    started = time.perf_counter()
    vectors = train_word2vec(corpus, dim, seed=seed)
    log(f"word2vec: {len(corpus):,} texts, {len(vectors.key_to_index):,} words, {time.perf_counter() - started:.0f} s")
    return vectors


def _pretrained_matrix(config: SentimentConfig, vocabulary: WordVocabulary, data_path, train_texts, unlabelled,
                       log) -> torch.Tensor:
    """Steps 1-2 of the lecture's pretraining: word vectors from a large text, kept as an embedding."""
    generator = torch.Generator().manual_seed(config.seed)
    if config.pretrained == "word2vec":
        vectors = pretrain_word_vectors(data_path, config.embedding_dim, train_texts=train_texts,
                                        unlabelled=unlabelled, seed=config.seed, log=log)
    else:
        vectors = load_word_vectors(config.pretrained)
        if vectors.vector_size != config.embedding_dim:
            log(f"embedding dim set to {vectors.vector_size}, the vectors' size")
            config.embedding_dim = vectors.vector_size
    matrix, found = embedding_matrix(vectors, vocabulary, generator=generator)
    log(f"pretrained vectors for {found:,} of {len(vocabulary.kept_words):,} vocabulary words")
    return matrix


def train(config: SentimentConfig, data_path, out, *, resume: bool = False, device: str = "auto",
          text_column=None, label_column=None, group_column=None, unlabelled=None, progress: bool = True,
          log=print) -> dict:
    """Trains on `data_path` into the run directory `out`; returns {"history", "validation",
    "test" (if the data has a test split)} with the best checkpoint's metrics."""
    validate_config(config)
    target, run, resume, config = start_run(out, config, "sentiment", resume, device)
    pretraining = config.pretrained and not (resume and run.file(LAST).is_file())
    need_all(*NEEDS, *([("gensim.models", vectors.FEATURE)] if pretraining else []))
    splits = read_labelled(data_path, text_column=text_column, label_column=label_column, group_column=group_column)
    training_texts = splits.get("train") or splits["all"]
    train_part, validation_part = split_validation(training_texts, config.val_split, config.seed, config.val_by_group)
    config.classes = training_texts.classes
    if len(validation_part.texts) < FEW_VALIDATION_TEXTS:
        warnings.warn(f"{training_texts.source}: only {len(validation_part.texts)} validation texts, so the best "
                      f"epoch is picked on a few texts; more training texts or a larger --val-split steady it",
                      stacklevel=2)
    if len(config.classes) < 2:
        raise DataError(f"{training_texts.source}: only one class ({config.classes[0]!r}); expected two or more")
    if resume:
        vocabulary = run.load_vocab(WordVocabulary.from_json)
    else:
        # label-free, so all training texts count (as Keras's IMDB pipeline does); never the test texts
        vocabulary = WordVocabulary.fit(training_texts.texts, config.num_words)
    pretrained = None
    # else the checkpoint has it; the other processes get process 0's vectors as training starts
    if pretraining and distributed.is_main():
        pretrained = _pretrained_matrix(config, vocabulary, data_path, train_part.texts, unlabelled, log)
    config = distributed.from_main(config)  # a vectors file sets the embedding size
    torch.manual_seed(config.seed)
    model = SentimentModel(config, vocabulary.size, len(config.classes))
    if pretrained is not None:
        model.embedding.load_pretrained(pretrained)
    model.to(target)
    if not resume:  # before config.json, whose presence makes the folder a run to resume
        run.save_vocab(vocabulary.to_json())
    run.save_config({"task": "sentiment", "lstmkit": __version__, "data": str(data_path),
                     "training_texts": training_texts.fingerprint(), "config": dataclasses.asdict(config)})
    train_data = Prepared.labelled(train_part, vocabulary, config.classes, config.maxlen)
    validation_data = Prepared.labelled(validation_part, vocabulary, config.classes, config.maxlen)
    validation_batches = batches_of(validation_data, config, batch_size=512)
    log(f"{len(train_data):,} training / {len(validation_data):,} validation texts, classes "
        f"{', '.join(config.classes)}; vocabulary {vocabulary.size:,}; {sum(p.numel() for p in model.parameters()):,} "
        f"parameters on {target}")

    def validate(model):
        logits, targets = predict_logits(model, validation_batches, target)
        loss, correct = loss_and_correct(logits, targets)
        return {"val_loss": loss.item(), "val_accuracy": correct / len(targets)}

    def on_epoch_start(epoch):
        if config.unfreeze_after is not None and epoch > config.unfreeze_after:
            model.embedding.unfreeze()

    generator = torch.Generator().manual_seed(config.seed)
    optimizer = make_optimizer(config.optimizer, model.parameters(), config.lr, adam_eps=ADAM_EPS)
    mode = "min" if config.monitor == "val_loss" else "max"
    options = FitOptions(epochs=config.epochs, monitor=config.monitor, mode=mode, patience=config.patience,
                         clip_norm=config.clip_norm, ema=config.ema, max_seconds=config.minutes and config.minutes * 60,
                         micro_batch=config.micro_batch if target.type == "cpu" else None, progress=progress)
    history = fit(model, optimizer, batches=lambda epoch: batches_of(train_data, config, generator),
                  batch_loss=batch_loss_on(target), validate=validate, options=options, run=run, generator=generator,
                  resume=resume, on_epoch_start=on_epoch_start)
    best = history[history[-1]["best_epoch"] - 1] if history else {}
    result = {"history": history, "validation": {"accuracy": best.get("val_accuracy"), "epoch": best.get("epoch")}}
    if "test" in splits and distributed.is_main():
        with distributed.all_cores():  # the other processes have finished
            result["test"] = SentimentClassifier([(model, vocabulary, config)]).report(splits["test"])
    return result


def load(run_path, device: str = "cpu") -> tuple[SentimentModel, WordVocabulary, SentimentConfig]:
    """A trained run -> (model in eval mode on `device`, vocabulary, config)."""
    run = RunDirectory(run_path)
    config = SentimentConfig(**run.load_task_config("sentiment", SentimentConfig))
    vocabulary = run.load_vocab(WordVocabulary.from_json)
    model = run.load_weights(SentimentModel(config, vocabulary.size, len(config.classes)))
    return model.to(resolve_device(device)).eval(), vocabulary, config


def _run_list(run_paths) -> list:
    return [run_paths] if isinstance(run_paths, (str, Path)) else list(run_paths)


class SentimentClassifier:
    """Trained sentiment run(s) ready to label texts: one run, or several whose class probabilities
    are averaged (an ensemble). Calls only read the weights: threads may share one classifier."""

    def __init__(self, members: list[tuple[SentimentModel, WordVocabulary, SentimentConfig]]):
        self.members = members
        self.classes = members[0][2].classes

    @classmethod
    def load(cls, run_paths, device: str = "cpu") -> "SentimentClassifier":
        """One run directory, or a list of them (all must know the same classes)."""
        paths = _run_list(run_paths)
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
        for number, text in enumerate(texts, 1):
            if not words(text):
                raise DataError(f"text {number} to predict is empty (no words after removing punctuation)")
        results = []
        for text, probs in zip(texts, self.probabilities(texts)):
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
            ids = [vocabulary.index.get(word, OOV) for word in tokens]
            rows = [(ids[:k] + [OOV] + ids[k + 1:])[-config.maxlen:] for k in range(len(tokens))]
            return Prepared(rows, list(range(len(rows))))

        contributions = (result["probability"] - self._probabilities(occluded)[:, label]).tolist()
        return {"label": result["label"], "probability": result["probability"],
                "words": list(zip(tokens, contributions))}

    def inspect(self, text: str) -> Inspection:
        """The first run's LSTM layers over the words it reads of `text` (its last maxlen)."""
        model, vocabulary, config = self.members[0]
        ids = vocabulary.encode(text, config.maxlen)
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
    for path in _run_list(run_paths):
        if RunDirectory(path).load_config().get("training_texts") == fingerprint:
            warnings.warn(f"{data.source} has no test split and holds the texts {path} trained on, so these "
                          f"numbers are not held-out ones; evaluate on texts kept out of training (a separate "
                          f"file, or a train/ and test/ layout)", stacklevel=3)
