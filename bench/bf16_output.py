"""The best translation preset's training step with and without --bf16-output, taking turns in one
process: bfloat16 pays only where the CPU has bfloat16 kernels (AVX-512 BF16, AMX); elsewhere the
output layer stays float32 (nn/lstm.bfloat16_pays).

    .venv/bin/python bench/bf16_output.py [--reps 5] [--threads 1]

The model of `--preset best` (12.4 M parameters) on one synthetic batch of 64 pairs, 10 source and 12
target words; Adam. Prints ms per step, median over the reps.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time

import torch

from lstmkit.nn import flush_denormals
from lstmkit.nn.lstm import bfloat16_pays
from lstmkit.tasks.translate.config import PRESETS
from lstmkit.tasks.translate.model import Seq2Seq


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    generator = torch.Generator().manual_seed(0)
    batch, source_length, target_length = 64, 10, 12
    source = torch.randint(4, 12_000, (batch, source_length), generator=generator)
    lengths = torch.full((batch,), source_length)
    target_in, target_out = (torch.randint(4, 16_000, (batch, target_length), generator=generator) for _ in range(2))
    steps = {}
    for bf16 in (False, True):
        torch.manual_seed(0)
        model = Seq2Seq(dataclasses.replace(PRESETS["best"], bf16_output=bf16), 12_000, {"deu": 16_000})
        optimizer = torch.optim.Adam(model.parameters(), 2e-3)

        def step(model=model, optimizer=optimizer):
            optimizer.zero_grad()
            logits = model(source, lengths, target_in, "deu")
            torch.nn.functional.cross_entropy(logits.flatten(0, 1).float(), target_out.flatten()).backward()
            optimizer.step()

        steps[bf16] = step
    seconds = {bf16: [] for bf16 in steps}
    with flush_denormals():
        for step in steps.values():
            step()
        for rep in range(args.reps):
            for bf16 in (list(steps) if rep % 2 else list(steps)[::-1]):
                started = time.perf_counter()
                steps[bf16]()
                seconds[bf16].append(time.perf_counter() - started)
    print(f"bfloat16 pays on this CPU: {bfloat16_pays(torch.device('cpu'))}; {torch.get_num_threads()} thread(s)")
    for bf16, times in seconds.items():
        print(f"--bf16-output {'on ' if bf16 else 'off'}: {statistics.median(times) * 1e3:,.0f} ms/step")


if __name__ == "__main__":
    main()
