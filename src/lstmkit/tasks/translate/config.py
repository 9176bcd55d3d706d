"""The translation task's settings, each declared once (settings.py), and their presets."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ...errors import SettingsError
from ...limits import COUNT, LIMITS, SEED, Limit, whole
from ...settings import TrainingConfig, check_config, setting

LECTURE_EXAMPLES = ("go to sleep", "do you agree", "we will fight")


@dataclass(frozen=True)
class TranslateConfig(TrainingConfig):  # frozen: the presets are values no training can change
    level: str = setting("char", "char: one-hot characters (the lecture); word: word embeddings; subword: "
                                 "embeddings of word pieces learned from the pairs (SentencePiece)",
                         choices=("char", "word", "subword"))
    encoder: str = setting("lstm", "bilstm: each direction hidden/2 units, the decoder's state both joined",
                           choices=("lstm", "bilstm"))
    attention: bool = setting(False, "Luong attention")
    scaled_attention: bool = setting(False, "attention scores divided by √hidden: unscaled, they saturate the softmax "
                                            "early and the decoder keeps looking at the last source word")
    hidden: int = setting(256, "units per LSTM layer", limit=LIMITS["hidden"])
    embedding_dim: int = setting(0, "0: one-hot inputs at char level; word level: 256 unless given",
                                 limit=LIMITS["embedding_dim"])
    layers: int = setting(1, limit=LIMITS["layers"])
    dropout: float = setting(0.0, "input dropout of every LSTM layer, one mask per sequence", limit=LIMITS["dropout"])
    lowercase: bool = setting(True, "lower-case both sides (the lecture's preprocessing)")
    strip_punctuation: bool = setting(True, "drop punctuation (the lecture's preprocessing)")
    max_length: int = setting(0, "leave out training pairs with a longer side (tokens)",
                              limit=whole(0, 100_000, "0: keep all"))
    source_vocab: int = setting(20_000, "English tokens kept (subword: pieces learned)", limit=COUNT)
    target_vocab: int = setting(20_000, "tokens kept per target language", limit=COUNT)
    also: list[str] = setting(help="more <lang>-eng files: multi-task, one shared encoder, a decoder per language",
                              factory=list, metavar="FILE")
    lr_decay: float = setting(1.0, "learning rate x this after every epoch", limit=LIMITS["lr_decay"])
    patience: int | None = setting(3, "epochs without a better validation BLEU before stopping",
                                   limit=LIMITS["patience"])
    split_seed: int = setting(0, "seed of the held-out split", limit=SEED)
    test_pairs: int = setting(5000, "pairs of the main file held out for test", limit=COUNT)
    validation_pairs: int = setting(2000, limit=COUNT)
    bleu_sentences: int = setting(1000, "validation sentences translated every epoch", limit=COUNT)
    label_smoothing: float = setting(0.0, "training's targets: this much probability spread over the other tokens "
                                          "(validation loss stays plain cross-entropy)",
                                     limit=Limit(0, 1, open_high=True))
    bf16_output: bool = setting(False, "output layer in bfloat16 while training, where that is faster: on a GPU, "
                                       "or a CPU with AVX-512 BF16 or AMX (~3.5x); float32 elsewhere")
    # TrainingConfig's, with this task's defaults
    batch_size: int = 64
    clip_norm: float | None = 5.0


PRESETS = {
    # the lecture: char tokens, lower-case, no punctuation, one-hot, LSTM(256) encoder and decoder,
    # RMSprop, batch 64 (keras.io's lstm_seq2seq shapes)
    "lecture": TranslateConfig(),
    # all four improvements but multi-task, on text as written (case and punctuation kept), in subwords
    # (SentencePiece) with label smoothing and scaled attention scores: 40.9 BLEU on Anki's test split
    # after 40 minutes on one thread (docs/RESULTS.md, "Beyond Anki's short sentences")
    "best": TranslateConfig(level="subword", encoder="bilstm", attention=True, scaled_attention=True, hidden=256,
                            embedding_dim=256, lowercase=False, strip_punctuation=False, source_vocab=8_000,
                            target_vocab=8_000, label_smoothing=0.1, optimizer="adam", lr=2e-3, lr_decay=0.8,
                            batch_size=64, epochs=15, dropout=0.1, bf16_output=True),
}


WORD_EMBEDDING = 256  # word ids go through an embedding; the best preset's size


def with_defaults(config: TranslateConfig) -> TranslateConfig:
    """The config with the defaults that depend on other settings filled in: a word or subword model
    without an embedding size gets WORD_EMBEDDING."""
    if config.level != "char" and not config.embedding_dim:
        return dataclasses.replace(config, embedding_dim=WORD_EMBEDDING)
    return config


def validate_config(config: TranslateConfig) -> None:
    check_config(config)
    if config.encoder == "bilstm" and config.hidden % 2:
        raise SettingsError("hidden", f"must be even with the bilstm encoder (each direction gets half), "
                            f"got {config.hidden}")
