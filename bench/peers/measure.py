"""What the benchmark scripts share (standard library only): arguments, batch counts, steady-state rates,
load averages and the one RESULT line a measurement prints."""

import argparse
import json
import os
import time

import specs

SKIP = 2  # batches left out at the start of a timed run: the first ones still allocate


def arguments(description: str, extra=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--model", required=True, choices=specs.MODELS)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=8.0, help="timed training, about")
    parser.add_argument("--infer-seconds", type=float, default=4.0, help="timed inference, about; 0 skips it")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="compute threads")
    parser.add_argument("--min-batches", type=int, default=8, help="fewest timed batches")
    if extra:
        extra(parser)
    return parser.parse_args()


def batch_count(args, seconds: float, warmup_stamps: list[float]) -> int:
    """Batches that take about `seconds`, judged from the warm-up's last intervals."""
    per_batch = (warmup_stamps[-1] - warmup_stamps[1]) / max(1, len(warmup_stamps) - 2)
    return int(min(max(seconds / max(per_batch, 1e-6), args.min_batches, SKIP + 2), 20_000))


def steady_rate(stamps: list[float], batch: int) -> float:
    """Samples/s between the end of batch SKIP and the end of the last batch."""
    timed = stamps[SKIP:]
    return batch * (len(timed) - 1) / (timed[-1] - timed[0])


class LoadAverage:
    """The 1-, 5- and 15-minute load averages at the start and end of a timed phase."""

    def __enter__(self):
        self.before = os.getloadavg()
        return self

    def __exit__(self, *exc):
        self.after = os.getloadavg()

    def record(self) -> dict:
        return dict(before=[round(x, 2) for x in self.before], after=[round(x, 2) for x in self.after])


def timed_phases(args, train, infer) -> dict:
    """Training, then inference when --infer-seconds > 0: each warmed up on 5 batches, then timed on
    about its seconds -> {train_sps, train_batches, train_loadavg, infer_...}. `train(count)` and
    `infer(count)` run `count` batches and return each batch's end time."""
    measured = {}
    for phase, run, seconds in (("train", train, args.seconds), ("infer", infer, args.infer_seconds)):
        if seconds <= 0:
            continue
        count = batch_count(args, seconds, run(5))
        with LoadAverage() as load:
            stamps = run(count)
        measured.update({f"{phase}_sps": steady_rate(stamps, args.batch), f"{phase}_batches": count,
                         f"{phase}_loadavg": load.record()})
    return measured


def emit(result: dict) -> None:
    """The line run.py reads: 'RESULT {json}'."""
    result.setdefault("time", time.time())
    print("RESULT " + json.dumps(result), flush=True)
