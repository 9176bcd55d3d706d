"""Translation speed: training samples/s of the lecture's char seq2seq, and decoding sentences/s.

    .venv/bin/python bench/translate.py [--run RUN] [--reps 5] [--threads 2] [--sentences 512]

Training (batch 64, the peers' synthetic shapes: English 16 one-hot chars of 70, German 60 of 90,
LSTM(256) encoder and decoder, RMSprop, categorical cross-entropy), taking turns each rep:
  nn.LSTM   the peers' PyTorch model (../shared/bench/peers/bench_torch.py's Seq2Seq)
  lstmkit   lstmkit.tasks.translate.Seq2Seq with the lecture preset, one fused pass per LSTM
Decoding the first --sentences English sentences of RUN's test split (default: a lecture model
with random weights, which never stops early), taking turns each rep:
  one at a time  greedy, one sentence per call (the lecture's inference loop)
  batched greedy all sentences in batches of 512 (DECODE_BATCH); a sentence leaves the batch at its stop token
  batched beam 5 the same with beam search, 5 hypotheses per sentence (fewer sentences per batch
                 for a large vocabulary: decoding.sentences_per_batch)
  ..., bf16      the same with the matrix products in bfloat16 (--bf16)
Ratios are to the float32 one-at-a-time loop (its fastest: bfloat16 products are slower for one row).
Prints medians over reps and the ratios.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

from lstmkit.nn import flush_denormals
from lstmkit.tasks import translate
from lstmkit.generation import search as decoding
from lstmkit.tasks.translate.model import Seq2SeqSteps
from lstmkit.text.batching import pad_right
from lstmkit.nn import one_hot
from lstmkit.text.tokens import PAIR_SPECIALS, UNKNOWN
from lstmkit.text.vocabulary import Vocabulary

ENGLISH_LENGTH, ENGLISH_VOCAB, GERMAN_LENGTH, GERMAN_VOCAB, UNITS, BATCH = 16, 70, 60, 90, 256, 64


class PeerSeq2Seq(nn.Module):
    """The peers' PyTorch model: nn.LSTM encoder -> (h, c) -> nn.LSTM decoder -> Linear."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.LSTM(ENGLISH_VOCAB, UNITS, batch_first=True)
        self.decoder = nn.LSTM(GERMAN_VOCAB, UNITS, batch_first=True)
        self.output = nn.Linear(UNITS, GERMAN_VOCAB)

    def forward(self, source, target_in):
        _, state = self.encoder(one_hot(source, ENGLISH_VOCAB))
        return self.output(self.decoder(one_hot(target_in, GERMAN_VOCAB), state)[0])


def training_step_timer(name: str, steps: int):
    generator = torch.Generator().manual_seed(0)
    source = torch.randint(4, ENGLISH_VOCAB, (BATCH, ENGLISH_LENGTH), generator=generator)
    target = torch.randint(4, GERMAN_VOCAB, (BATCH, GERMAN_LENGTH), generator=generator)
    lengths = torch.full((BATCH,), ENGLISH_LENGTH)
    torch.manual_seed(0)
    if name == "nn.LSTM":
        model = PeerSeq2Seq()
        forward = lambda: model(source, target)  # noqa: E731
    else:
        model = translate.Seq2Seq(translate.PRESETS["lecture"], ENGLISH_VOCAB, {"deu": GERMAN_VOCAB})
        forward = lambda: model(source, lengths, target, "deu")  # noqa: E731
    optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3)

    def timed() -> float:
        started = time.perf_counter()
        for _ in range(steps):
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(forward().flatten(0, 1), target.flatten())
            loss.backward()
            optimizer.step()
        return steps * BATCH / (time.perf_counter() - started)

    return timed


def decoding_timers(translator, sentences: list[str]):
    encoded = [translator.source.encode(translate.preprocess(s, translator.config))[: translator.max_source] or
               [UNKNOWN] for s in sentences]
    model, language, steps = translator.model, translator.model.languages[0], translator.max_output

    def one_at_a_time(bf16: bool = False):
        def timed():
            started = time.perf_counter()
            for ids in encoded:
                decoding.greedy_decode(Seq2SeqSteps(model, language, bf16), *pad_right([ids]), steps)
            return len(encoded) / (time.perf_counter() - started)
        return timed

    def batched(beam: int, bf16: bool = False):
        def timed():
            started = time.perf_counter()
            order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
            size = decoding.sentences_per_batch(beam, translator.targets[language].size)
            for start in range(0, len(order), size):
                batch = pad_right([encoded[i] for i in order[start: start + size]])
                if beam == 1:
                    decoding.greedy_decode(Seq2SeqSteps(model, language, bf16), *batch, steps)
                else:
                    decoding.beam_decode(Seq2SeqSteps(model, language, bf16), *batch, steps, beam)
            return len(encoded) / (time.perf_counter() - started)
        return timed

    return {"one at a time": one_at_a_time(), "batched greedy": batched(1), "batched beam 5": batched(5),
            "one at a time, bf16": one_at_a_time(bf16=True), "batched greedy, bf16": batched(1, bf16=True),
            "batched beam 5, bf16": batched(5, bf16=True)}


def interleave(timers: dict, reps: int) -> dict:
    rates = {name: [] for name in timers}
    for timer in timers.values():
        timer()  # warm-up
    for _ in range(reps):
        for name, timer in timers.items():
            rates[name].append(timer())
    return {name: statistics.median(values) for name, values in rates.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", help="a trained translate run (its test split is decoded)")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=20, help="training steps per rep")
    parser.add_argument("--sentences", type=int, default=512)
    parser.add_argument("--skip-training", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} threads, median of {args.reps} interleaved reps")
    with flush_denormals():
        if not args.skip_training:
            rates = interleave({name: training_step_timer(name, args.steps) for name in ("nn.LSTM", "lstmkit")},
                               args.reps)
            for name, rate in rates.items():
                print(f"training  {name:8s} {rate:8.1f} samples/s")
            print(f"training  lstmkit / nn.LSTM = {rates['lstmkit'] / rates['nn.LSTM']:.2f}x")
        if args.run:
            translator = translate.load(args.run)
            sentences = translate.group_references(translate.held_out_pairs(args.run))[0][: args.sentences]
            what = f"{len(sentences)} test sentences of {args.run}"
        else:
            config = translate.PRESETS["lecture"]
            vocab = Vocabulary.fit(["abcdefghijklmnopqrstuvwxyz ?!.,'"], "char", specials=PAIR_SPECIALS["char"])
            model = translate.Seq2Seq(config, vocab.size, {"deu": vocab.size}).eval()
            translator = translate.Translator(model, config, vocab, {"deu": vocab}, 80, GERMAN_LENGTH)
            sentences = [f"sentence number {i} is here" for i in range(args.sentences)]
            what = f"{len(sentences)} sentences, random lecture model (decodes to the {GERMAN_LENGTH}-step guard)"
        rates = interleave(decoding_timers(translator, sentences), args.reps)
        print(f"decoding {what}")
        for name, rate in rates.items():
            print(f"decoding  {name:21s} {rate:9.1f} sentences/s  ({rate / rates['one at a time']:.1f}x)")


if __name__ == "__main__":
    main()
