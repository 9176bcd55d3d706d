"""Sequence-to-sequence translation (English -> another language): the lecture's char model and
its four improvements, each a switch.

    source ids (batch, S) -> one-hot or Embedding -> encoder LSTM x layers (or Bi-LSTM)
        -> final (h, c) of each layer start the decoder's layer of the same depth
    target ids '\\t' y1 y2 ... (batch, T) -> one-hot or Embedding -> decoder LSTM x layers
        [-> Luong attention over the encoder outputs] -> Dense(vocab) logits for y1 y2 ... '\\n'

Teacher forcing in training: the decoder reads the true previous token. At inference it reads its
own previous prediction, from the start token until the stop token or a length guard (greedy or
beam search, tasks/decoding.py).
Multi-task (`also`): one shared English encoder, one decoder per target language.
Attention is Luong's "general" score without input feeding: the decoder LSTM runs on its own, so
training stays one fused pass over all steps; each step's output then attends over the encoder
outputs and is combined with its context vector: tanh(W_c [context; h_t]).
"""

from __future__ import annotations

import dataclasses
import math
import random
import time
import warnings
from dataclasses import dataclass, field

import torch
from torch import nn

from .. import __version__
from ..dependencies import need, need_all
from ..errors import DataError, RunError, SettingsError
from ..inspection import Inspection, inspect_layers
from ..limits import check
from ..metrics import SCORES_FEATURE, translation_scores
from ..nn import LSTM, Bidirectional, Dense, Embedding
from ..nn.lstm import linear_t
from ..nn.recurrent import time_mask
from ..text.batching import pad_right
from ..text.chars import one_hot
from ..text.pairs import (PAD, START, STOP, UNKNOWN, PairFile, Split, TokenVocabulary, cut, language_of, normalize,
                          read_pairs, split_by_source)
from ..training.device import resolve_device
from ..training.loop import NEEDS, FitOptions, check_training_config, fit
from ..training.optimizers import make_optimizer
from ..training.recipe import start_run
from ..training.run import RunDirectory
from .decoding import beam_decode, greedy_decode, sentences_per_batch

LECTURE_EXAMPLES = ("go to sleep", "do you agree", "we will fight")


@dataclass
class TranslateConfig:
    level: str = "char"  # "char" (one-hot characters, the lecture) or "word" (word embeddings)
    encoder: str = "lstm"  # "lstm" or "bilstm" (each direction hidden/2 units; decoder state = both joined)
    attention: bool = False
    hidden: int = 256
    embedding_dim: int = 0  # 0: one-hot inputs (char level); word level needs a dimension
    layers: int = 1
    dropout: float = 0.0  # input dropout of every LSTM layer, one mask per sequence
    lowercase: bool = True  # the lecture's preprocessing
    strip_punctuation: bool = True
    max_length: int = 0  # training pairs with a longer side (in tokens) are left out; 0: keep all
    source_vocab: int = 20_000  # most frequent tokens kept per language (word level matters)
    target_vocab: int = 20_000
    also: list[str] = field(default_factory=list)  # more <lang>-eng files: multi-task, one decoder each
    optimizer: str = "rmsprop"
    lr: float = 0.001
    lr_decay: float = 1.0  # learning rate multiplied by this after every epoch
    batch_size: int = 64
    epochs: int = 10
    minutes: float | None = None  # stop training after this much time (the epoch in progress ends early)
    patience: int | None = 3  # epochs without a better validation BLEU before stopping
    clip_norm: float | None = 5.0
    ema: float | None = None  # validate and keep a moving average of the weights, decaying by this per step
    seed: int = 0
    split_seed: int = 0
    test_pairs: int = 5000  # ≈ pairs of the main file held out for test
    validation_pairs: int = 2000
    bleu_sentences: int = 1000  # validation sentences translated for the BLEU of every epoch
    bf16_output: bool = False  # training: the output layer's matrix products in bfloat16 (~3.5x faster on a CPU)


PRESETS = {
    # the lecture: char tokens, lower-case, no punctuation, one-hot, LSTM(256) encoder and decoder,
    # RMSprop, batch 64 (keras.io's lstm_seq2seq shapes)
    "lecture": TranslateConfig(),
    # all four improvements but multi-task, on text as written (case and punctuation kept)
    "best": TranslateConfig(level="word", encoder="bilstm", attention=True, hidden=256, embedding_dim=256,
                            lowercase=False, strip_punctuation=False, source_vocab=12_000, target_vocab=16_000,
                            optimizer="adam", lr=2e-3, lr_decay=0.8, batch_size=64, epochs=15, dropout=0.1,
                            bf16_output=True),
}


def validate_config(config: TranslateConfig) -> None:
    check_training_config(config)
    choices = {"level": ("char", "word"), "encoder": ("lstm", "bilstm")}
    for name, allowed in choices.items():
        if getattr(config, name) not in allowed:
            raise SettingsError(f"--{name} must be one of {', '.join(allowed)}, got {getattr(config, name)!r}")
    if config.encoder == "bilstm" and config.hidden % 2:
        raise SettingsError(f"--encoder bilstm splits --hidden between two directions; give an even number, "
                         f"got {config.hidden}")
    if config.level == "word" and not config.embedding_dim:
        raise SettingsError("--level word needs --embedding-dim (word ids go through an embedding)")


# --- the model --------------------------------------------------------------------------------
class TokenInput(nn.Module):
    """ids (...,) -> features (..., size): an Embedding, or one-hot vectors when dim is 0."""

    def __init__(self, vocab: int, dim: int):
        super().__init__()
        self.vocab = vocab
        self.embedding = Embedding(vocab, dim) if dim else None
        self.size = dim or vocab

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.embedding(ids) if self.embedding is not None else one_hot(ids, self.vocab)


class Encoder(nn.Module):
    """ids (batch, S), lengths (batch,) -> (outputs (batch, S, hidden), [(h, c) per layer], each
    (batch, hidden)). A Bi-LSTM layer's state is both directions' states joined."""

    def __init__(self, config: TranslateConfig, vocab: int):
        super().__init__()
        self.input = TokenInput(vocab, config.embedding_dim)
        self.bidirectional = config.encoder == "bilstm"
        units = config.hidden // 2 if self.bidirectional else config.hidden
        layers, size = [], self.input.size
        for _ in range(config.layers):
            layer = LSTM(size, units, return_sequences=True, return_state=True, dropout=config.dropout)
            layers.append(Bidirectional(layer) if self.bidirectional else layer)
            size = config.hidden
        self.layers = nn.ModuleList(layers)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor):
        x, states = self.input(ids), []
        for layer in self.layers:
            x, state = layer(x, lengths=lengths)
            if self.bidirectional:
                (h_forward, c_forward), (h_backward, c_backward) = state
                state = (torch.cat([h_forward, h_backward], -1), torch.cat([c_forward, c_backward], -1))
            states.append(state)
        return x, states


class Decoder(nn.Module):
    """Teacher-forced: ids (batch, T) + encoder states/outputs -> logits (batch, T, vocab);
    `step` runs one step for inference."""

    def __init__(self, config: TranslateConfig, vocab: int):
        super().__init__()
        self.input = TokenInput(vocab, config.embedding_dim)
        sizes = [self.input.size] + [config.hidden] * config.layers
        self.layers = nn.ModuleList(LSTM(sizes[i], config.hidden, return_sequences=True, return_state=True,
                                         dropout=config.dropout) for i in range(config.layers))
        self.attention = config.attention
        if config.attention:
            self.score = nn.Linear(config.hidden, config.hidden, bias=False)  # Luong "general": h_t W m_s
            self.combine = Dense(2 * config.hidden, config.hidden, activation="tanh")
        self.output = Dense(config.hidden, vocab)
        self.bf16_output = config.bf16_output
        self._step_cache = None  # (key, step_constants())

    def forward(self, ids, states, memory, memory_mask):
        x = self.input(ids)
        for layer, state in zip(self.layers, states):
            x, _ = layer(x, initial_state=state)
        x = self.attend(x, memory, memory_mask)[0]
        with torch.autocast(x.device.type, torch.bfloat16, enabled=self.bf16_output and self.training):
            return self.output(x)

    def attend(self, queries, memory, memory_mask):
        """queries (batch, T, hidden), memory (batch, S, hidden), mask (batch, S) True at real steps
        -> (attentional outputs (batch, T, hidden), weights (batch, T, S) or None)."""
        if not self.attention:
            return queries, None
        scores = self.score(queries) @ memory.transpose(1, 2)
        weights = scores.masked_fill(~memory_mask[:, None, :], float("-inf")).softmax(-1)
        return self.combine(torch.cat([weights @ memory, queries], -1)), weights

    def step_constants(self, bf16: bool = False):
        """What step() needs: each layer's LSTM.step_weights (the first with a one-hot table when
        inputs are one-hot), the output weights transposed, and the output bias with the padding and
        start tokens at -inf (never a token of a translation). bf16: the matrix products' weights in
        bfloat16. Made once per state of the weights, not per call: translating one sentence at a
        time would otherwise spend a good part of its time here."""
        key = (bf16, *((p.data_ptr(), p._version) for p in self.parameters()))  # changes when weights do
        if self._step_cache is None or self._step_cache[0] != key:
            self._step_cache = key, self._make_step_constants(torch.bfloat16 if bf16 else torch.float32)
        return self._step_cache[1]

    def train(self, mode: bool = True):
        self._step_cache = None  # fused Adam changes weights without bumping their version
        return super().train(mode)

    def _make_step_constants(self, dtype):
        one_hot = self.input.embedding is None
        layers = [layer.step_weights(one_hot=one_hot and index == 0, dtype=dtype)
                  for index, layer in enumerate(self.layers)]
        output_bias = self.output.bias.detach().clone()
        output_bias[[PAD, START]] = float("-inf")
        return layers, self.output.weight.detach().t().to(dtype).contiguous(), output_bias

    def step(self, tokens, states, memory, memory_mask, constants):
        """tokens (batch,) -> (logits (batch, vocab), new states, attention weights (batch, S) or None).
        `constants`: step_constants()."""
        layer_weights, output_t, output_bias = constants
        x = tokens if self.input.embedding is None else self.input(tokens)
        new_states = []
        for layer, weights, state in zip(self.layers, layer_weights, states):
            state = layer.step_fast(weights, x, state)
            new_states.append(state)
            x = state[0]
        x, attention = self.attend(x[:, None], memory, memory_mask)
        logits = linear_t(x[:, 0], output_t, output_bias)
        return logits, new_states, attention[:, 0] if attention is not None else None


class Seq2Seq(nn.Module):
    """One English encoder; one decoder per target language (`languages` names them in order)."""

    def __init__(self, config: TranslateConfig, source_vocab: int, target_vocabs: dict[str, int]):
        super().__init__()
        self.languages = list(target_vocabs)
        self.encoder = Encoder(config, source_vocab)
        self.decoders = nn.ModuleDict({language: Decoder(config, size) for language, size in target_vocabs.items()})

    def encode(self, source, lengths):
        """-> (memory (batch, S, hidden), mask (batch, S), states)."""
        memory, states = self.encoder(source, lengths)
        return memory, time_mask(lengths, memory.shape[1], memory.device), states

    def forward(self, source, lengths, target_in, language: str):
        memory, mask, states = self.encode(source, lengths)
        return self.decoders[language](target_in, states, memory, mask)


# --- data -------------------------------------------------------------------------------------
@dataclass
class Corpus:
    """Every file's pairs after preprocessing, and which English sentences are held out."""

    files: dict[str, PairFile]  # language -> its pairs (preprocessed), main language first
    split: Split

    @property
    def main(self) -> str:
        return next(iter(self.files))

    def part(self, language: str, part: str) -> list[tuple[str, str]]:
        return [pair for pair in self.files[language].pairs if self.split.part_of(split_key(pair[0])) == part]


def split_key(english: str) -> str:
    """What decides an English sentence's part: lower-case, no punctuation, so "Go!" and "Go." never
    land in two parts, and the split does not depend on the run's preprocessing."""
    return normalize(english, lowercase=True, strip_punctuation=True)


def read_corpus(pairs_path, config: TranslateConfig, log=print) -> Corpus:
    files, split = {}, None
    for path in [pairs_path, *config.also]:
        pair_file = read_pairs(path)
        language = language_of(path)
        if language in files:
            raise DataError(f"{path}: a second file for language {language!r}; give each target language once")
        if pair_file.skipped:
            log(f"{path}: skipped {pair_file.skipped:,} malformed lines (no tab, or an empty side)")
        if split is None:  # the main file decides which English sentences are held out, for every file
            keyed = [(split_key(english), other) for english, other in pair_file.pairs]
            split = split_by_source(keyed, test_pairs=config.test_pairs, validation_pairs=config.validation_pairs,
                                    seed=config.split_seed)
            _check_split(path, keyed, split, config)
        pairs = [(preprocess(english, config), preprocess(other, config)) for english, other in pair_file.pairs]
        files[language] = PairFile(pair_file.path, [p for p in pairs if p[0] and p[1]], pair_file.skipped)
    return Corpus(files, split)


def _check_split(path, keyed_pairs, split: Split, config: TranslateConfig) -> None:
    """A file too small for the held-out parts is one clear error, not a failure after training."""
    held_out = sum(split.part_of(english) != "train" for english, _ in keyed_pairs)
    if not split.validation or not split.test or len(keyed_pairs) - held_out < held_out:
        raise DataError(f"{path}: {len(keyed_pairs):,} pairs are too few to hold out --test-pairs {config.test_pairs:,} "
                        f"and --validation-pairs {config.validation_pairs:,} and train on the rest; expected at "
                        f"least twice as many pairs as are held out (or give smaller --test-pairs/--validation-pairs)")


def preprocess(text: str, config: TranslateConfig) -> str:
    return normalize(text, lowercase=config.lowercase, strip_punctuation=config.strip_punctuation)


def encode_pairs(pairs, source: TokenVocabulary, target: TokenVocabulary, max_length: int = 0):
    """-> [(source ids, target ids + stop)], leaving out pairs with a side over max_length tokens."""
    encoded = []
    for english, other in pairs:
        source_ids, target_ids = source.encode(english), target.encode(other)
        if max_length and (len(source_ids) > max_length or len(target_ids) > max_length):
            continue
        encoded.append((source_ids, target_ids + [STOP]))
    return encoded


def pair_batches(encoded, language: int, batch_size: int, generator=None, pool: int = 50):
    """Batches (source (batch, S), lengths (batch,), target_in (batch, T), target_out (batch, T),
    language (batch,)) of similar source lengths. target_in is target_out shifted right behind START."""
    order = torch.randperm(len(encoded), generator=generator).tolist() if generator is not None else \
        list(range(len(encoded)))
    pool_size = batch_size * pool
    for start in range(0, len(order), pool_size):
        chunk = sorted(order[start: start + pool_size], key=lambda r: (len(encoded[r][0]), len(encoded[r][1])))
        for i in range(0, len(chunk), batch_size):
            rows = chunk[i: i + batch_size]
            source, lengths = pad_right([encoded[r][0] for r in rows])
            target_out, _ = pad_right([encoded[r][1] for r in rows])
            target_in = torch.cat([torch.full((len(rows), 1), START), target_out[:, :-1]], 1)
            target_in[target_in == STOP] = PAD  # the stop token is never read
            yield source, lengths, target_in, target_out, torch.full((len(rows),), language)


class _Epoch:
    """One epoch's batches from every language, in random order, made on the fly."""

    def __init__(self, per_language, batch_size, generator):
        self.per_language, self.batch_size, self.generator = per_language, batch_size, generator

    def __len__(self):
        return sum(math.ceil(len(encoded) / self.batch_size) for encoded in self.per_language)

    def __iter__(self):
        streams = [pair_batches(encoded, index, self.batch_size, self.generator)
                   for index, encoded in enumerate(self.per_language)]
        # which language each batch comes from: a shuffled list with each language's batch count
        turns = [index for index, encoded in enumerate(self.per_language)
                 for _ in range(math.ceil(len(encoded) / self.batch_size))]
        order = torch.randperm(len(turns), generator=self.generator).tolist()
        for position in order:
            yield next(streams[turns[position]])


# --- train / load / translate / evaluate --------------------------------------------------------
@dataclass
class Translator:
    """A trained model with its vocabularies and limits, ready to translate. Calls only read the
    weights (the decoder caches their step layout once): threads may share one translator."""

    model: Seq2Seq
    config: TranslateConfig
    source: TokenVocabulary
    targets: dict[str, TokenVocabulary]
    max_source: int  # longest training source, in tokens: longer inputs are cut
    max_output: int  # decoding guard, in tokens

    @property
    def device(self):
        return next(self.model.parameters()).device

    def translate(self, sentences: list[str], *, language: str | None = None, beam: int = 1,
                  alpha: float = 1.0, keep_attention: bool = False, bf16: bool = False):
        """-> translations (and with keep_attention, [(source tokens, target tokens, weights (T, S))]).
        bf16: matrix products in bfloat16 (greedy_decode)."""
        language = language or self.model.languages[0]
        if language not in self.targets:
            raise SettingsError(f"--language {language!r}: this run translates into {', '.join(self.targets)}")
        check("beam", beam)
        check("alpha", alpha)
        for number, sentence in enumerate(sentences, 1):
            if not sentence.strip():
                raise DataError(f"sentence {number} to translate is empty; expected some words")
        texts = [preprocess(sentence, self.config) for sentence in sentences]
        encoded = []
        for sentence, text in zip(sentences, texts):
            ids = cut(self.source.encode(text), self.max_source, f"input {sentence[:40]!r}")
            encoded.append(ids or [UNKNOWN])
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
        results, maps = [None] * len(encoded), [None] * len(encoded)
        vocabulary = self.targets[language]
        if self.model.training:
            self.model.eval()
        size = sentences_per_batch(beam, vocabulary.size)
        for start in range(0, len(order), size):
            rows = order[start: start + size]
            source, lengths = pad_right([encoded[r] for r in rows])
            source, lengths = source.to(self.device), lengths.to(self.device)
            attention = None
            if beam > 1:
                ids = beam_decode(self.model, language, source, lengths, self.max_output, beam, alpha, bf16)
            else:
                ids, attention = greedy_decode(self.model, language, source, lengths, self.max_output,
                                               keep_attention=keep_attention, bf16=bf16)
            for position, row in enumerate(rows):
                results[row] = vocabulary.decode(ids[position].tolist())
                if keep_attention and attention is not None:
                    steps = int((ids[position] != PAD).sum())
                    source_tokens = [self.source.names[i] for i in encoded[row]]
                    target_tokens = [vocabulary.names[i] for i in ids[position, :steps].tolist()]
                    maps[row] = (source_tokens, target_tokens, attention[position, :steps, : len(encoded[row])])
        return (results, maps) if keep_attention else results


    def inspect(self, sentence: str) -> Inspection:
        """The encoder's LSTM layers over the English `sentence`, token by token (as preprocessed)."""
        ids = self.source.encode(preprocess(sentence, self.config))[: self.max_source] or [UNKNOWN]
        with torch.no_grad():
            x = self.model.encoder.input(torch.tensor([ids], device=self.device))
        return inspect_layers(self.model.encoder.layers, x, [self.source.names[i] for i in ids], "LSTM")


def group_references(pairs) -> tuple[list[str], list[list[str]]]:
    """Pairs -> (unique English sentences in first-seen order, every translation of each)."""
    grouped: dict[str, list[str]] = {}
    for english, other in pairs:
        grouped.setdefault(english, []).append(other)
    return list(grouped), list(grouped.values())


def score(translator: Translator, pairs, *, language: str | None = None, beam: int = 1, alpha: float = 1.0,
          examples: int = 0, bf16: bool = False) -> dict:
    """BLEU, chrF and exact match of the translations of the pairs' English sentences; each sentence
    is translated once and scored against all its translations in `pairs`."""
    sources, references = group_references(pairs)
    started = time.perf_counter()
    hypotheses = translator.translate(sources, language=language, beam=beam, alpha=alpha, bf16=bf16)
    seconds = time.perf_counter() - started
    result = translation_scores(hypotheses, references)
    result.update(sentences=len(sources), pairs=len(pairs), seconds=round(seconds, 2))
    if examples:
        result["examples"] = [{"source": s, "translation": h, "references": r}
                              for s, h, r in list(zip(sources, hypotheses, references))[:examples]]
    return result


def batch_loss_on(languages: list[str], device):
    """batch_loss(model, batch) -> (mean cross-entropy per target token, {"count"}). No token accuracy:
    its argmax over the vocabulary costs as much as the softmax."""
    def batch_loss(model, batch):
        source, lengths, target_in, target_out, language = (t.to(device) for t in batch)
        logits = model(source, lengths, target_in, languages[int(language[0])])
        loss = nn.functional.cross_entropy(logits.flatten(0, 1).float(), target_out.flatten(), ignore_index=PAD)
        return loss, {"count": int((target_out != PAD).sum())}

    return batch_loss


def train(config: TranslateConfig, pairs_path, out, *, resume: bool = False, device: str = "auto",
          progress: bool = True, log=print) -> dict:
    """Trains on the pairs file (plus config.also) into the run directory `out`; the held-out
    validation and test pairs are written there (validation.tsv, test.tsv)."""
    validate_config(config)
    target_device, run, resume, config = start_run(out, config, "translate", resume, device)
    if resume:
        pairs_path = run.saved("pairs", str)
    need_all(*NEEDS, ("sacrebleu", SCORES_FEATURE))
    corpus = read_corpus(pairs_path, config, log)
    languages = list(corpus.files)
    train_parts = {language: corpus.part(language, "train") for language in languages}
    if not train_parts[corpus.main]:
        raise DataError(f"{pairs_path}: every pair was held out for validation/test; the file needs more "
                        f"than {config.test_pairs + config.validation_pairs:,} pairs or smaller --test-pairs")
    if resume:
        source, targets = run.load_vocab(lambda data: _vocabularies(data, languages))
    else:
        source = TokenVocabulary.fit((e for part in train_parts.values() for e, _ in part), config.level,
                                     max_size=config.source_vocab)
        targets = {language: TokenVocabulary.fit((o for _, o in part), config.level, max_size=config.target_vocab)
                   for language, part in train_parts.items()}
    encoded = [encode_pairs(train_parts[language], source, targets[language], config.max_length)
               for language in languages]
    max_source = max(len(s) for part in encoded for s, _ in part)
    max_output = max(len(t) for part in encoded for _, t in part) + 10
    torch.manual_seed(config.seed)
    model = Seq2Seq(config, source.size, {language: targets[language].size for language in languages})
    model.to(target_device)
    if not resume:  # before config.json, whose presence makes the folder a run to resume
        run.save_vocab({"source": source.to_json(), "targets": {k: v.to_json() for k, v in targets.items()}})
        for part in ("validation", "test"):
            held = corpus.part(corpus.main, part)
            text = "".join(f"{english}\t{other}\n" for english, other in held)
            run.save_text(f"{part}.tsv", text)
    run.save_config({"task": "translate", "lstmkit": __version__, "pairs": str(pairs_path),
                     "languages": languages, "max_source": max_source, "max_output": max_output,
                     "config": dataclasses.asdict(config)})
    log(f"{config.level} level, {', '.join(f'{k}: {len(v):,}' for k, v in zip(languages, encoded))} training "
        f"pairs; {len(corpus.part(corpus.main, 'validation')):,} validation / "
        f"{len(corpus.part(corpus.main, 'test')):,} test pairs ({corpus.main}); vocabularies en {source.size:,}, "
        f"{', '.join(f'{k} {v.size:,}' for k, v in targets.items())}; "
        f"{sum(p.numel() for p in model.parameters()):,} parameters on {target_device}")
    translator = Translator(model, config, source, targets, max_source, max_output)
    validation = corpus.part(corpus.main, "validation")
    sentences, _ = group_references(validation)
    subset = set(random.Random(config.split_seed).sample(sentences, min(config.bleu_sentences, len(sentences))))
    bleu_pairs = [pair for pair in validation if pair[0] in subset]
    validation_encoded = encode_pairs(validation, source, targets[corpus.main])
    batch_loss = batch_loss_on(languages, target_device)

    def validate(model):
        total, count = 0.0, 0
        for batch in pair_batches(validation_encoded, 0, 256):
            loss, stats = batch_loss(model, batch)
            total, count = total + loss.item() * stats["count"], count + stats["count"]
        scores = score(dataclasses.replace(translator, model=model), bleu_pairs)  # model: maybe the average
        return {"val_loss": total / max(count, 1), "val_bleu": scores["bleu"], "val_chrf": scores["chrf"]}

    generator = torch.Generator().manual_seed(config.seed)
    optimizer = make_optimizer(config.optimizer, model.parameters(), config.lr)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, config.lr_decay)
    options = FitOptions(epochs=config.epochs, monitor="val_bleu", mode="max", patience=config.patience,
                         clip_norm=config.clip_norm, ema=config.ema, progress=progress,
                         max_seconds=config.minutes * 60 if config.minutes else None)
    history = fit(model, optimizer, batches=lambda epoch: _Epoch(encoded, config.batch_size, generator),
                  batch_loss=batch_loss, validate=validate, options=options, run=run, generator=generator,
                  resume=resume, scheduler=scheduler)
    best = max(history, key=lambda row: row["val_bleu"]) if history else {}
    return {"history": history, "best": best, "translator": translator}


def load(run_path, device: str = "cpu") -> Translator:
    run = RunDirectory(run_path)
    config = TranslateConfig(**run.load_task_config("translate", TranslateConfig))
    languages = run.saved("languages", list[str])
    source, targets = run.load_vocab(lambda data: _vocabularies(data, languages))
    model = run.load_weights(Seq2Seq(config, source.size, {k: v.size for k, v in targets.items()}))
    model = model.to(resolve_device(device)).eval()
    return Translator(model, config, source, targets, run.saved("max_source", int), run.saved("max_output", int))


def _vocabularies(data: dict, languages: list[str]) -> tuple[TokenVocabulary, dict[str, TokenVocabulary]]:
    """vocab.json's data -> (source vocabulary, {language: target vocabulary})."""
    return (TokenVocabulary.from_json(data["source"]),
            {language: TokenVocabulary.from_json(data["targets"][language]) for language in languages})


def held_out_pairs(run_path, part: str = "test") -> list[tuple[str, str]]:
    """The run's own validation or test pairs (as preprocessed for it)."""
    path = RunDirectory(run_path).file(f"{part}.tsv")
    if not path.is_file():
        raise RunError(f"{run_path} has no {part}.tsv; expected a folder written by `lstmkit translate train`")
    return read_pairs(path).pairs


def evaluate(run_path, pairs_path=None, *, beam: int = 1, alpha: float = 1.0, language: str | None = None,
             device: str = "auto", examples: int = 5, bf16: bool = False) -> dict:
    """Scores on the run's test split, or on every pair of `pairs_path` (preprocessed as in training)."""
    translator = load(run_path, device)
    if pairs_path is None:
        main_language = translator.model.languages[0]
        if language not in (None, main_language):
            raise SettingsError(f"--language {language}: the run's test split holds {main_language} references; "
                             f"give --pairs FILE with {language} translations")
        pairs = held_out_pairs(run_path, "test")
    else:
        pair_file = read_pairs(pairs_path)
        pairs = [(preprocess(e, translator.config), preprocess(o, translator.config)) for e, o in pair_file.pairs]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # overlong inputs are cut; one warning each would flood the output
        result = score(translator, pairs, language=language, beam=beam, alpha=alpha, examples=examples, bf16=bf16)
    result.update(beam=beam, bf16=bf16)
    return result


def plot_attention(maps, path) -> None:
    """Saves one heat map per sentence (target tokens down, source tokens across) in one PNG."""
    figure_class = need("matplotlib.figure", "plotting the attention map").Figure  # not pyplot: no global state
    maps = [m for m in maps if m is not None]
    figure = figure_class(figsize=(max(4, 0.45 * max(len(m[0]) for m in maps) + 2),
                                   sum(0.35 * len(m[1]) + 1.2 for m in maps)))
    axes = figure.subplots(len(maps), 1, squeeze=False)
    for axis, (source_tokens, target_tokens, weights) in zip(axes[:, 0], maps):
        axis.imshow(weights.numpy(), cmap="viridis", aspect="auto", vmin=0, vmax=1)
        axis.set_xticks(range(len(source_tokens)), [repr(t)[1:-1] for t in source_tokens], rotation=90)
        axis.set_yticks(range(len(target_tokens)), [repr(t)[1:-1] for t in target_tokens])
        axis.set_xlabel("source")
        axis.set_ylabel("translation")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
