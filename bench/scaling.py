"""How the cost grows: samples/s of one LSTM layer as sequence length, batch and hidden size grow,
lstmkit.nn.LSTM beside torch.nn.LSTM (the same weights, LSTM.to_torch()), against this CPU's
matrix-product ceiling.

    .venv/bin/python bench/scaling.py [--lengths 100,200,...] [--batches 1,4,...] [--hiddens 32,64,...]
        [--base T,B,H] [--reps 3] [--seconds 0.5] [--threads N] [--ceiling GFLOPS] [--out DIR] [--quick]

Three sweeps, each varying one dimension with the others at the base (T=100, B=32, H=128; input
size = H): sequence length T, batch B, hidden size H. At each point both implementations are timed
for training (forward, loss = sum of the last output, backward, input gradient included; inside
lstmkit.nn.flush_denormals() for both) and inference (torch.inference_mode()), taking turns
(A B, then B A in the next rep), each turn one warm-up step and then at least --seconds and at
least 2 timed steps. Reported: the median samples/s over the reps and the median of the per-rep
ratios lstmkit/torch.

FLOPs per sample of one LSTM layer forward: 2·T·4H·(F+H) (the matrix products; elementwise work
left out); training counts 3× that (forward, and a backward of two products of the same size).
Achieved GFLOP/s = samples/s × FLOPs/sample / 1e9; its share of the ceiling measured by
bench/peers/ceiling.py (torch.mm on 1024×1024 float32, same python and threads) unless --ceiling
gives one.

Writes DIR/table.md (the table and a note per sweep on the shares), DIR/raw.json (every rep, load
averages before and after each point) and DIR/scaling.png (one panel per sweep). DIR defaults to
bench/out/scaling. --quick: tiny lists and a tiny base, 1 rep of 0.05 s (a functional check).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

from lstmkit.nn import LSTM, flush_denormals

HERE = Path(__file__).resolve().parent
CEILING_SCRIPT = HERE / "peers" / "ceiling.py"
DEFAULT_OUT = HERE / "out" / "scaling"

DEFAULTS = dict(lengths=[100, 200, 500, 1000, 2000], batches=[1, 4, 16, 32, 64, 128, 256, 512],
                hiddens=[32, 64, 128, 256, 512, 1024], base=(100, 32, 128), reps=3, seconds=0.5)
QUICK = dict(lengths=[20, 40], batches=[1, 8], hiddens=[16, 32], base=(20, 4, 16), reps=1, seconds=0.05)

SWEEPS = (("T", "lengths"), ("B", "batches"), ("H", "hiddens"))  # (dimension, option)
PHASES = ("train", "infer")
IMPLEMENTATIONS = ("torch", "lstmkit")
SHARE_MARK = 0.5  # the regime note names the first point whose share of the ceiling exceeds this


def flops_per_sample(steps: int, features: int, hidden: int, phase: str) -> int:
    """Matrix-product FLOPs per sample of one LSTM layer: 2·T·4H·(F+H) forward, 3× that in training."""
    forward = 2 * steps * 4 * hidden * (features + hidden)
    return 3 * forward if phase == "train" else forward


# --- arguments ------------------------------------------------------------------------------

def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def int_list(text: str) -> list[int]:
    parts = [part.strip() for part in text.split(",")]
    if not parts or any(not part for part in parts):
        raise argparse.ArgumentTypeError(f"expected comma-separated positive integers, got {text!r}")
    try:
        return [positive_int(part) for part in parts]
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected comma-separated positive integers, got {text!r}") from None


def base_shape(text: str) -> tuple[int, int, int]:
    values = int_list(text)
    if len(values) != 3:
        raise argparse.ArgumentTypeError(f"expected T,B,H (three positive integers), got {text!r}")
    return tuple(values)


def parse_arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--lengths", type=int_list, help="sequence lengths T (default 100,200,500,1000,2000)")
    parser.add_argument("--batches", type=int_list, help="batch sizes B (default 1,4,16,32,64,128,256,512)")
    parser.add_argument("--hiddens", type=int_list, help="hidden sizes H = input sizes (default 32,...,1024)")
    parser.add_argument("--base", type=base_shape, help="T,B,H where a sweep does not vary them (default 100,32,128)")
    parser.add_argument("--reps", type=positive_int, help="interleaved reps per point (default 3)")
    parser.add_argument("--seconds", type=positive_float, help="least timed seconds per turn (default 0.5)")
    parser.add_argument("--threads", type=positive_int, default=os.cpu_count(), help="compute threads")
    parser.add_argument("--ceiling", type=positive_float,
                        help="the ceiling in GFLOP/s, not measured then (default: bench/peers/ceiling.py)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    parser.add_argument("--quick", action="store_true",
                        help="tiny lists and base, 1 rep of 0.05 s unless given (a functional check)")
    args = parser.parse_args(argv)
    fallback = QUICK if args.quick else DEFAULTS
    for name, value in fallback.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    return args


# --- measurement ----------------------------------------------------------------------------

def measure_ceiling(threads: int, seconds: float) -> dict:
    """Runs bench/peers/ceiling.py with this python and these threads -> its RESULT dict."""
    if not CEILING_SCRIPT.is_file():
        raise RuntimeError(f"{CEILING_SCRIPT} is missing: give the ceiling with --ceiling GFLOPS")
    command = [sys.executable, str(CEILING_SCRIPT), "--threads", str(threads), "--seconds", str(seconds)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"{CEILING_SCRIPT.name} failed (exit {done.returncode}): {tail}")
    return json.loads(lines[-1][len("RESULT "):])


def step_functions(steps: int, batch: int, hidden: int) -> dict:
    """-> ({(implementation, phase): step}, {implementation: module}) for one point: lstmkit's LSTM
    and its torch.nn.LSTM twin on one random input (batch, steps, hidden)."""
    ours = LSTM(hidden, hidden)
    theirs = ours.to_torch()  # same weights; torch's second bias is zero
    x = torch.randn(batch, steps, hidden, requires_grad=True)
    x_infer = x.detach()
    last_output = {"lstmkit": ours, "torch": lambda inputs: theirs(inputs)[1][0][0]}  # h_n = last output
    modules = {"lstmkit": ours, "torch": theirs}

    def train(name):
        module, run = modules[name], last_output[name]

        def step():
            for parameter in module.parameters():
                parameter.grad = None
            x.grad = None
            run(x).sum().backward()

        return step

    def infer(name):
        run = last_output[name]

        def step():
            with torch.inference_mode():
                run(x_infer)

        return step

    return {(name, phase): (train if phase == "train" else infer)(name)
            for name in IMPLEMENTATIONS for phase in PHASES}, modules


def timed_turn(step, batch: int, seconds: float) -> float:
    """One warm-up step, then steps until at least `seconds` and at least 2 steps -> samples/s."""
    step()
    count, start = 0, time.perf_counter()
    while True:
        step()
        count += 1
        elapsed = time.perf_counter() - start
        if count >= 2 and elapsed >= seconds:
            return batch * count / elapsed


def measure_point(steps: int, batch: int, hidden: int, reps: int, seconds: float) -> dict:
    """{phase: {implementation: [samples/s per rep]}}, the implementations taking turns."""
    functions, modules = step_functions(steps, batch, hidden)
    rates = {phase: {name: [] for name in IMPLEMENTATIONS} for phase in PHASES}
    for rep in range(reps):
        order = IMPLEMENTATIONS if rep % 2 == 0 else IMPLEMENTATIONS[::-1]
        for phase in PHASES:
            for name in order:
                modules[name].train(phase == "train")
                if phase == "train":
                    with flush_denormals():
                        rate = timed_turn(functions[name, phase], batch, seconds)
                else:
                    rate = timed_turn(functions[name, phase], batch, seconds)
                rates[phase][name].append(rate)
    return rates


def points(args) -> list[tuple[str, int, int, int]]:
    """(sweep dimension, T, B, H) in the order measured."""
    base_t, base_b, base_h = args.base
    result = []
    for dimension, option in SWEEPS:
        for value in getattr(args, option):
            shape = dict(T=base_t, B=base_b, H=base_h)
            shape[dimension] = value
            result.append((dimension, shape["T"], shape["B"], shape["H"]))
    return result


def summarise(dimension, steps, batch, hidden, rates, ceiling, load_before, load_after, seconds_taken) -> list[dict]:
    rows = []
    for phase in PHASES:
        flops = flops_per_sample(steps, hidden, hidden, phase)
        row = dict(sweep=dimension, T=steps, B=batch, H=hidden, F=hidden, phase=phase, flops_per_sample=flops)
        for name in IMPLEMENTATIONS:
            median = statistics.median(rates[phase][name])
            row[f"{name}_sps_reps"] = rates[phase][name]
            row[f"{name}_sps"] = median
            row[f"{name}_gflops"] = median * flops / 1e9
            row[f"{name}_share"] = row[f"{name}_gflops"] / ceiling
        row["ratio"] = statistics.median(ours / theirs for ours, theirs in
                                         zip(rates[phase]["lstmkit"], rates[phase]["torch"]))
        row["ratio_reps"] = [ours / theirs for ours, theirs in zip(rates[phase]["lstmkit"], rates[phase]["torch"])]
        row["loadavg"] = dict(before=[round(v, 2) for v in load_before], after=[round(v, 2) for v in load_after])
        row["point_seconds"] = round(seconds_taken, 2)
        rows.append(row)
    return rows


# --- output ---------------------------------------------------------------------------------

def table_lines(rows: list[dict]) -> list[str]:
    lines = ["| sweep | T | B | H | phase | torch samples/s | lstmkit samples/s | lstmkit/torch "
             "| lstmkit GFLOP/s | share of ceiling |",
             "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|"]
    for row in rows:
        lines.append(f"| {row['sweep']} | {row['T']} | {row['B']} | {row['H']} | "
                     f"{'training' if row['phase'] == 'train' else 'inference'} | "
                     f"{row['torch_sps']:,.0f} | {row['lstmkit_sps']:,.0f} | {row['ratio']:.2f}× | "
                     f"{row['lstmkit_gflops']:.1f} | {100 * row['lstmkit_share']:.1f}% |")
    return lines


def percent(share: float) -> str:
    return f"{100 * share:.0f}%" if share >= 0.1 else f"{100 * share:.1f}%"


def regime_notes(rows: list[dict]) -> list[str]:
    """Per sweep and phase: the shares of the ceiling along the sweep and the first point above SHARE_MARK."""
    notes = []
    for dimension, _ in SWEEPS:
        for phase in PHASES:
            chosen = [row for row in rows if row["sweep"] == dimension and row["phase"] == phase]
            if not chosen:
                continue
            parts = []
            for name in ("lstmkit", "torch"):
                shares = ", ".join(percent(row[f"{name}_share"]) for row in chosen)
                above = next((row for row in chosen if row[f"{name}_share"] > SHARE_MARK), None)
                best = max(chosen, key=lambda row: row[f"{name}_share"])
                where = (f"above {100 * SHARE_MARK:.0f}% from {dimension}={above[dimension]}" if above else
                         f"never above {100 * SHARE_MARK:.0f}% (highest {percent(best[f'{name}_share'])} "
                         f"at {dimension}={best[dimension]})")
                parts.append(f"{name} {shares}: {where}")
            values = ", ".join(str(row[dimension]) for row in chosen)
            label = "training" if phase == "train" else "inference"
            notes.append(f"- {dimension} sweep ({values}), {label}, share of the ceiling: " + "; ".join(parts))
    return notes


def plot(rows: list[dict], ceiling: float, path: Path, title: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    names = {"T": "sequence length T", "B": "batch B", "H": "hidden size H (= input size)"}
    figure, axes = plt.subplots(1, len(SWEEPS), figsize=(15, 4.8), squeeze=False)
    for axis, (dimension, _) in zip(axes[0], SWEEPS):
        for name, colour in (("torch", "tab:blue"), ("lstmkit", "tab:orange")):
            for phase, style, marker in (("train", "-", "o"), ("infer", "--", "s")):
                chosen = [row for row in rows if row["sweep"] == dimension and row["phase"] == phase]
                if chosen:
                    axis.plot([row[dimension] for row in chosen], [row[f"{name}_gflops"] for row in chosen],
                              style, marker=marker, color=colour,
                              label=f"{name} {'training' if phase == 'train' else 'inference'}")
        axis.axhline(ceiling, color="black", linewidth=1, label=f"matmul ceiling {ceiling:.0f}")
        axis.set_xscale("log")
        values = sorted({row[dimension] for row in rows if row["sweep"] == dimension})
        axis.set_xticks(values, [str(value) for value in values])
        axis.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        axis.set_xlabel(names[dimension])
        axis.set_ylabel("achieved GFLOP/s")
        axis.set_ylim(bottom=0)
        axis.grid(True, which="both", alpha=0.3)
    axes[0][0].legend(fontsize=8)
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


# --- main -----------------------------------------------------------------------------------

def main(argv=None) -> int:
    args = parse_arguments(argv)
    started = time.perf_counter()
    saved_threads = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    try:
        if args.ceiling is not None:
            ceiling = dict(gflops=args.ceiling, source="--ceiling")
        else:
            try:
                ceiling = measure_ceiling(args.threads, 1 if args.quick else 3)
            except (RuntimeError, subprocess.TimeoutExpired) as error:
                print(f"scaling.py: no ceiling: {error}", file=sys.stderr)
                return 1
            ceiling["source"] = "bench/peers/ceiling.py"
        gflops = ceiling["gflops"]
        print(f"ceiling {gflops:.1f} GFLOP/s ({ceiling['source']}), {args.threads} threads", flush=True)

        todo = points(args)
        rows = []
        with torch.random.fork_rng():
            torch.manual_seed(0)
            for number, (dimension, steps, batch, hidden) in enumerate(todo, 1):
                load_before, point_start = os.getloadavg(), time.perf_counter()
                rates = measure_point(steps, batch, hidden, args.reps, args.seconds)
                taken = time.perf_counter() - point_start
                point_rows = summarise(dimension, steps, batch, hidden, rates, gflops, load_before,
                                       os.getloadavg(), taken)
                rows.extend(point_rows)
                said = "; ".join(f"{row['phase']} torch {row['torch_sps']:,.0f} lstmkit {row['lstmkit_sps']:,.0f}"
                                 f" ({row['ratio']:.2f}×)" for row in point_rows)
                print(f"[{number}/{len(todo)}] {dimension} sweep T={steps} B={batch} H={hidden}: {said} "
                      f"({taken:.1f} s)", flush=True)

        cpu = platform.processor() or platform.machine()
        header = (f"One LSTM layer (input size = H), samples/s: median of {args.reps} interleaved reps of "
                  f"≥{args.seconds:g} s; ratio: median per-rep lstmkit/torch. Ceiling {gflops:.1f} GFLOP/s "
                  f"({ceiling['source']}); torch {torch.__version__}, {args.threads} thread(s), {cpu}. "
                  f"Base T,B,H = {','.join(map(str, args.base))}; FLOPs/sample 2·T·4H·(F+H), training 3×.")
        notes = regime_notes(rows)
        text = "\n".join([header, "", *table_lines(rows), "", "Share of the ceiling along each sweep "
                          f"(first point above {100 * SHARE_MARK:.0f}%):", *notes]) + "\n"
        print("\n" + text, end="")

        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "table.md").write_text(text, encoding="utf-8")
        meta = dict(ceiling=ceiling, threads=args.threads, reps=args.reps, seconds=args.seconds,
                    base=list(args.base), lengths=args.lengths, batches=args.batches, hiddens=args.hiddens,
                    quick=args.quick, torch=torch.__version__, python=platform.python_version(), cpu=cpu,
                    cpu_count=os.cpu_count(), total_seconds=round(time.perf_counter() - started, 1),
                    time=time.time())
        (args.out / "raw.json").write_text(json.dumps(dict(meta=meta, rows=rows), indent=1), encoding="utf-8")
        plot(rows, gflops, args.out / "scaling.png",
             f"One LSTM layer, achieved GFLOP/s; {args.threads} thread(s), {cpu}; base T,B,H = "
             f"{','.join(map(str, args.base))}")
        print(f"wrote {args.out / 'table.md'}, raw.json, scaling.png "
              f"({time.perf_counter() - started:.0f} s in all)", flush=True)
        return 0
    finally:
        torch.set_num_threads(saved_threads)


if __name__ == "__main__":
    sys.exit(main())
