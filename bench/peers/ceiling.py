"""This CPU's achievable float32 matrix-product rate: the ceiling the peers table measures shares against.

    python ceiling.py [--threads N] [--seconds 3]

Prints one line 'RESULT {json}' with gflops: the best of 1-second slices of torch.mm on 1024×1024
float32 matrices (the BLAS's best case: large and square), and each slice's rate. The best, not the
median: a ceiling is what the CPU achieves, and a slice that met other work only hides it.
"""

import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import measure  # noqa: E402

SIZE = 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    a, b = torch.randn(SIZE, SIZE), torch.randn(SIZE, SIZE)
    out = torch.empty(SIZE, SIZE)
    for _ in range(3):
        torch.mm(a, b, out=out)  # warm-up: threads started, pages touched
    rates = []
    for _ in range(max(1, round(args.seconds))):
        count, start = 0, time.perf_counter()
        while time.perf_counter() - start < 1.0:
            torch.mm(a, b, out=out)
            count += 1
        rates.append(2 * SIZE ** 3 * count / (time.perf_counter() - start) / 1e9)
    measure.emit(dict(variant="ceiling", threads=torch.get_num_threads(), gflops=max(rates),
                      slices=[round(r, 1) for r in rates], versions=dict(torch=torch.__version__)))


if __name__ == "__main__":
    main()
