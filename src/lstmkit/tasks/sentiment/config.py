"""The sentiment task's settings, each declared once (settings.py), and their presets."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ...errors import SettingsError
from ...limits import LIMITS, Limit, whole
from ...settings import TrainingConfig, check_config, setting

RNN_TYPES = ("lstm", "simplernn", "gru")  # model.py's layers
ADAM_EPS = 1e-7  # Keras's Adam ε, as the lecture trains
POOLING = ("last", "max", "mean")


@dataclass(frozen=True)
class SentimentConfig(TrainingConfig):  # frozen: the presets are values no training can change
    num_words: int = setting(10_000, "vocabulary size (with padding and unknown ids)",
                             limit=whole(3, 10_000_000, "padding, unknown and at least one word"))
    maxlen: int = setting(500, "words kept per text (its last ones)", limit=whole(1, 1_000_000))
    embedding_dim: int = setting(32, limit=LIMITS["embedding_dim"])
    rnn: str = setting("lstm", choices=RNN_TYPES)
    units: int = setting(32, "units per recurrent layer", limit=LIMITS["units"])
    layers: int = setting(1, "stacked recurrent layers", limit=LIMITS["layers"])
    bidirectional: bool = setting(False)
    dropout: float = setting(0.0, "input dropout of each recurrent layer (Keras's)", limit=LIMITS["dropout"])
    pooling: str = setting("last", "last state, or max/mean over time", choices=POOLING)
    pretrained: str | None = setting(None, "'word2vec' trains vectors on the unlabelled and the training texts; or "
                                           "a GloVe/word2vec text file", metavar="word2vec|FILE")
    freeze_embedding: bool = setting(False)
    init_from: str | None = setting(None, "start from this sentiment run's weights, vocabulary and model shape (a run "
                                          "directory or an installed model's name): fine-tuning it on the data",
                                    metavar="RUN")
    gradual_unfreezing: bool = setting(False, "with init_from: the first epoch trains the output layer only, each "
                                              "epoch after it one more recurrent layer from the top, then the "
                                              "embedding unless frozen (ULMFiT's)")
    discriminative_lr: float | None = setting(None, "each layer below the output learns at the rate of the layer "
                                                    "above it divided by this (ULMFiT's discriminative "
                                                    "fine-tuning: 2.6)", limit=Limit(1, 1000), metavar="DIVISOR")
    adversarial: float = setting(0.0, "adversarial training: each batch also trained on its embedded words moved "
                                      "the way that raises its loss most, by this share of each text's embedding "
                                      "norm (such as 0.02; 0: off)", limit=Limit(0, 1), metavar="SHARE")
    unfreeze_after: int | None = setting(None, "make a frozen embedding trainable from this epoch on",
                                         limit=whole(0, 100_000), metavar="EPOCHS")
    embedding_lr: float | None = setting(None, "the embedding's learning rate whenever it trains (default: lr, "
                                               "or discriminative_lr's): a pretrained embedding unfrozen at a "
                                               "lower rate moves less far from its vectors",
                                         limit=LIMITS["lr"], metavar="RATE")
    trainable_words: int | None = setting(None, "whenever the embedding trains, only the vectors of ids below this "
                                                "(its most frequent words; padding and unknown included) move: the "
                                                "rarer ones, often one film's names, keep their pretrained values",
                                          limit=whole(1, 10_000_000), metavar="N")
    train_texts: int | None = setting(None, "train and validate on a seeded sample of this many labelled training "
                                            "texts (a learning curve); the vocabulary still counts them all",
                                      limit=whole(2, 1_000_000_000), metavar="N")
    val_split: float = setting(0.2, "the part of the training texts that validates (never the test texts)",
                               limit=Limit(0, 1, open_low=True, open_high=True))
    val_by_group: bool = setting(False, "keep each group (aclImdb: each movie) wholly in training or in "
                                        "validation, as its test movies are disjoint from its training movies")
    patience: int | None = setting(None, "early stopping: epochs without a better validation score",
                                   limit=LIMITS["patience"])
    monitor: str = setting("val_accuracy", "what picks the best checkpoint (Keras's ModelCheckpoint uses val_loss)",
                           choices=("val_accuracy", "val_loss"))
    batching: str = setting("length", "length: similar lengths together, real words only; padded: the lecture's",
                            choices=("length", "padded"))
    micro_batch: int | None = setting(32, "CPU: run each batch in chunks of this size (0: off): the same gradient",
                                      limit=LIMITS["micro_batch"])
    classes: list[str] = setting(help="from the training labels, sorted", factory=list, flag=False)


# The best recipe measured here (docs/RESULTS.md).
# Word2vec vectors (128-d, trained on the 50,000 unlabelled + training reviews) kept frozen,
# a Bi-LSTM(64) reading up to 1,000 words, max-pooled over time.
BEST = SentimentConfig(num_words=30_000, maxlen=1_000, embedding_dim=128, units=64, bidirectional=True,
                       pooling="max", pretrained="word2vec", freeze_embedding=True, optimizer="adam", lr=2e-3,
                       batch_size=64, epochs=30, dropout=0.4, clip_norm=1.0)
PRESETS = {
    # Deep Learning with Python 6.2 / the lecture: Embedding(10000, 32) -> LSTM(32) -> Dense(1, sigmoid),
    # RMSprop 1e-3, batch 128, 20% validation, 10 epochs.
    "lecture": SentimentConfig(),
    "best": BEST,
    # A few thousand short labelled texts: the installed imdb-best model (its shape, vocabulary and
    # weights) fine-tuned on them for ten epochs of the best recipe's training; on SST-2's 6,920
    # sentences it beats the lecture's recipe by 7.8 points (docs/RESULTS.md, "The small preset").
    # Needs lstmkit-models.
    "small": dataclasses.replace(BEST, epochs=10, init_from="imdb-best"),
}


def validate_config(config: SentimentConfig) -> None:
    check_config(config)
    if config.gradual_unfreezing and config.init_from is None:
        raise SettingsError("gradual_unfreezing", "unfreezes the layers of a run to start from: give `init_from` too")
    for name, what in (("embedding_lr", "sets the rate"), ("trainable_words", "picks the words")):
        if getattr(config, name) is not None and config.freeze_embedding and config.unfreeze_after is None:
            raise SettingsError(name, f"{what} of an embedding that trains, and this one is frozen throughout: "
                                      f"give `unfreeze_after` too, or drop `freeze_embedding`")
    if config.embedding_dim < 1:
        raise SettingsError("embedding_dim", f"must be at least 1 (words go through an embedding), "
                                             f"got {config.embedding_dim}")
