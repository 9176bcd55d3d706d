"""Characters/s generating from the lecture's char model (one-hot 57 -> LSTM(128) -> Dense(57)).

    .venv/bin/python bench/sampling.py [--reps 5] [--chars 400] [--threads 2]

Variants, timed in one process, taking turns each rep (the model's weights do not change speed):
  refeed      the lecture's loop: the last 60 characters one-hot through the model for every new one,
              then the lecture's numpy sample(preds, temperature)
  nn.LSTM     plain PyTorch, stateful: one nn.LSTM step per character carrying (h, c), then
              torch.multinomial on softmax(logits / T)
  lstmkit x1  lstmkit.generation.sampling.sample on LanguageModelSteps, one stream
  lstmkit x64 the same, 64 streams at once (chars/s counts all streams)
All sample at temperature 0.5 after a 60-character seed.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from lstmkit.lecture_models import LECTURE_MODELS
from lstmkit.generation.language_model import LanguageModelSteps
from lstmkit.generation.sampling import SamplingOptions, sample

VOCAB, SEGMENT, TEMPERATURE = 57, 60, 0.5


def lecture_sample(preds, temperature=1.0):
    """The lecture's sampling function, as written there."""
    preds = np.asarray(preds).astype("float64")
    preds = np.log(preds) / temperature
    exp_preds = np.exp(preds)
    preds = exp_preds / np.sum(exp_preds)
    return np.argmax(np.random.multinomial(1, preds, 1))


def variants(chars: int):
    torch.manual_seed(0)
    model = LECTURE_MODELS["char-lstm"].build().eval()  # Sequential(LSTM(57, 128), Dense(128, 57, softmax))
    lstm, dense = model[0], model[1]
    torch_lstm = lstm.to_torch().eval()
    seed = torch.randint(0, VOCAB, (1, SEGMENT))
    identity = torch.eye(VOCAB)

    def refeed():
        text = seed[0].tolist()
        with torch.no_grad():
            for _ in range(chars):
                x = identity[torch.tensor(text[-SEGMENT:])][None]
                text.append(int(lecture_sample(model(x)[0].numpy(), TEMPERATURE)))

    def torch_stateful():
        with torch.no_grad():
            out, state = torch_lstm(identity[seed])
            logits = dense.weight @ out[0, -1] + dense.bias
            for _ in range(chars):
                token = torch.multinomial(torch.softmax(logits / TEMPERATURE, -1), 1)
                out, state = torch_lstm(identity[token][None], state)
                logits = dense.weight @ out[0, -1] + dense.bias

    sampler = LanguageModelSteps(identity, [lstm], dense)
    options = SamplingOptions(strategy="temperature", temperature=TEMPERATURE)
    seeds64 = seed.repeat(64, 1)
    return {
        "refeed (lecture)": (refeed, 1),
        "nn.LSTM stateful": (torch_stateful, 1),
        "lstmkit x1": (lambda: sample(sampler, seed, chars, options), 1),
        "lstmkit x64": (lambda: sample(sampler, seeds64, chars, options), 64),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--chars", type=int, default=400)
    parser.add_argument("--seconds", type=float, default=1.5, help="timed seconds per variant and rep")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    runs = variants(args.chars)
    rates = {name: [] for name in runs}
    for rep in range(args.reps):
        names = list(runs)
        names = names[rep % len(names):] + names[: rep % len(names)]
        for name in names:
            generate, streams = runs[name]
            generate()  # warm-up
            count, start = 0, time.perf_counter()
            while time.perf_counter() - start < args.seconds:
                generate()
                count += 1
            rates[name].append(count * args.chars * streams / (time.perf_counter() - start))
        print(f"rep {rep + 1}/{args.reps} done", flush=True)
    print(f"\n{args.chars} characters after a 60-character seed, temperature {TEMPERATURE}; torch "
          f"{torch.__version__}, {args.threads} threads; chars/s median [min-max] of {args.reps} reps")
    print("| variant | chars/s | vs nn.LSTM stateful |")
    print("|---|---|---|")
    base = rates["nn.LSTM stateful"]
    for name, values in rates.items():
        ratio = statistics.median(v / b for v, b in zip(values, base))
        print(f"| {name} | {statistics.median(values):,.0f} [{min(values):,.0f}-{max(values):,.0f}] | {ratio:.2f}x |")


if __name__ == "__main__":
    main()
