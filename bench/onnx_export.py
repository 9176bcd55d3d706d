"""onnxruntime vs PyTorch on lstmkit's exported graphs: calls/s of the same model both ways.

    .venv/bin/python bench/onnx_export.py [--reps 5] [--seconds 1.5] [--threads 2] [--words 200]

Cases (the lecture's shapes, random weights: they do not change speed):
  sentiment predict   one review of --words words, batch 1: Embedding(10000, 32) -> LSTM(32) -> Dense(1),
                      PyTorch SentimentModel + probabilities vs the exported graph
  textgen step        one character, batch 1: one-hot 57 -> LSTM(128) -> Dense(57), PyTorch
                      LanguageModelSteps.step vs the exported graph with time 1
  translate step      one decoder step, batch 1: the lecture's char model (one-hot, LSTM(256)),
                      Seq2SeqSteps.step vs decoder-LANG.onnx
Each rep times every variant for --seconds in turn (the order rotating), so both sides of a ratio
see the same machine; printed: median calls/s [min-max], and the median of the reps' ratios.
Needs the onnx extra (pip install 'lstmkit[onnx]').
"""

from __future__ import annotations

import argparse
import statistics
import time

import onnxruntime
import torch

from lstmkit.export import models
from lstmkit.tasks.sentiment import SentimentConfig
from lstmkit.tasks.sentiment.model import SentimentModel, probabilities
from lstmkit.tasks.textgen import CharModel, TextgenConfig
from lstmkit.tasks.translate import Seq2Seq, TranslateConfig
from lstmkit.tasks.translate.model import Seq2SeqSteps
from lstmkit.text.tokens import START


def session(graph, threads: int):
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    return onnxruntime.InferenceSession(graph.model({}).SerializeToString(), options,
                                        providers=["CPUExecutionProvider"])


def sentiment_case(words: int, threads: int):
    model = SentimentModel(SentimentConfig(), 10_000, 2).eval()
    ids, lengths = torch.randint(2, 10_000, (1, words)), torch.tensor([words])
    graph = session(models.sentiment(model, ["neg", "pos"]), threads)
    feed = {"ids": ids.numpy(), "lengths": lengths.numpy()}

    def pytorch():
        with torch.inference_mode():
            return probabilities(model(ids, lengths))

    return pytorch, lambda: graph.run(None, feed)


def textgen_case(threads: int):
    model = CharModel(TextgenConfig(mode="lecture"), 57).eval()
    sampler, graph = model.sampler(), session(models.textgen(model), threads)
    token = torch.tensor([5])
    with torch.inference_mode():
        (_, states, _), _ = sampler.start(torch.randint(0, 57, (1, 60)))
    feed = {"ids": token[:, None].numpy(), "state_h": torch.stack([h for h, _ in states]).numpy(),
            "state_c": torch.stack([c for _, c in states]).numpy()}

    def pytorch():
        with torch.inference_mode():
            return sampler.step(token, states)

    return pytorch, lambda: graph.run(None, feed)


def translate_case(threads: int):
    model = Seq2Seq(TranslateConfig(), 70, {"deu": 90}).eval()
    steps, graph = Seq2SeqSteps(model, "deu"), session(models.translate_decoder(model, "deu"), threads)
    source, lengths, token = torch.randint(4, 70, (1, 20)), torch.tensor([20]), torch.tensor([START])
    with torch.inference_mode():
        memory, mask, states = model.encode(source, lengths)
        context = (memory, mask)
    feed = {"token": token.numpy(), "state_h": torch.stack([h for h, _ in states]).numpy(),
            "state_c": torch.stack([c for _, c in states]).numpy()}

    def pytorch():
        with torch.inference_mode():
            return steps.step(token, states, context)

    return pytorch, lambda: graph.run(None, feed)


def rate(call, seconds: float) -> float:
    call()  # warm-up
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        call()
        count += 1
    return count / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=1.5, help="timed seconds per variant and rep")
    parser.add_argument("--threads", type=int, default=2, help="torch's and onnxruntime's intra-op threads")
    parser.add_argument("--words", type=int, default=200, help="words of the review to classify")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cases = {"sentiment predict": sentiment_case(args.words, args.threads), "textgen step": textgen_case(args.threads),
             "translate step": translate_case(args.threads)}
    variants = [(case, side) for case in cases for side in (0, 1)]
    rates = {variant: [] for variant in variants}
    for rep in range(args.reps):
        for case, side in variants[rep % len(variants):] + variants[: rep % len(variants)]:
            rates[case, side].append(rate(cases[case][side], args.seconds))
        print(f"rep {rep + 1}/{args.reps} done", flush=True)
    print(f"\nbatch 1; torch {torch.__version__}, onnxruntime {onnxruntime.__version__}, {args.threads} threads; "
          f"calls/s median [min-max] of {args.reps} reps")
    print("| case | PyTorch | onnxruntime | onnxruntime / PyTorch |")
    print("|---|---|---|---|")
    for case in cases:
        torch_rates, onnx_rates = rates[case, 0], rates[case, 1]
        ratio = statistics.median(o / t for o, t in zip(onnx_rates, torch_rates))
        cells = [f"{statistics.median(values):,.0f} [{min(values):,.0f}-{max(values):,.0f}]"
                 for values in (torch_rates, onnx_rates)]
        print(f"| {case} | {cells[0]} | {cells[1]} | {ratio:.2f}x |")


if __name__ == "__main__":
    main()
