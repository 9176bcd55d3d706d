"""Time to quality on Nietzsche: held-out loss vs training time, lecture mode vs fast mode, one run.

    .venv/bin/python bench/textgen.py [--lecture-epochs 2] [--png docs/textgen_time_to_quality.png]

Lecture mode (`--preset lecture`) and fast mode (`--preset fast`) train in one process, taking
turns: one lecture epoch, then fast epochs until fast mode has trained as long, and so on. After
every epoch each is scored on the held-out last 10% (mean -ln p(next char | 60 chars before),
positions at stride 3; the scoring time is not training time). Prints both curves, the training
time each needs to first reach the target, and draws the curves to a PNG.
"""

from __future__ import annotations

import argparse
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from lstmkit.data import nietzsche_path  # noqa: E402
from lstmkit.nn import flush_denormals  # noqa: E402
from lstmkit.tasks import textgen  # noqa: E402
from lstmkit.training.loop import FitOptions, train_epoch  # noqa: E402
from lstmkit.training.optimizers import make_optimizer  # noqa: E402


def contender(name: str, device):
    config = textgen.PRESETS[name]
    vocabulary, train_ids, held_ids = textgen.prepare_text(nietzsche_path(), config)
    torch.manual_seed(config.seed)
    model = textgen.CharModel(config, vocabulary.size)
    optimizer = make_optimizer(config.optimizer, model.parameters(), config.lr)
    generator = torch.Generator().manual_seed(config.seed)
    return dict(name=name, config=config, model=model, optimizer=optimizer, held_ids=held_ids,
                scheduler=torch.optim.lr_scheduler.ExponentialLR(optimizer, config.lr_decay),
                batches=textgen.epoch_batches(config, train_ids, generator),
                loss=textgen.batch_loss_on(config, vocabulary.size, device),
                options=FitOptions(epochs=1, clip_norm=config.clip_norm, progress=False),
                seconds=0.0, epoch=0, curve=[])


def run_epoch(item, device):
    item["epoch"] += 1
    with flush_denormals():
        row = train_epoch(item["model"], item["optimizer"], item["batches"](item["epoch"]), item["loss"],
                          item["options"], item["epoch"])
    item["scheduler"].step()
    item["seconds"] += row["seconds"]
    nats = textgen.held_out_nats(item["model"], item["held_ids"], device, stride=3)
    item["curve"].append((item["seconds"], nats))
    print(f"{item['name']:8s} epoch {item['epoch']:2d}: {item['seconds']:7.1f} s trained, train loss "
          f"{row['loss']:.3f}, held-out {nats:.4f} nats/char", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lecture-epochs", type=int, default=2)
    parser.add_argument("--target", type=float, default=1.67, help="held-out nats/char to reach")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--png", default="docs/textgen_time_to_quality.png")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device("cpu")
    lecture, fast = contender("lecture", device), contender("fast", device)
    for _ in range(args.lecture_epochs):
        run_epoch(lecture, device)
        while fast["seconds"] < lecture["seconds"]:
            run_epoch(fast, device)

    print(f"\ntorch {torch.__version__}, {args.threads} threads")
    reach = {}
    for item in (lecture, fast):
        hit = next(((s, n) for s, n in item["curve"] if n <= args.target), None)
        reach[item["name"]] = hit[0] if hit else None
        best = min(n for _, n in item["curve"])
        print(f"{item['name']}: best held-out {best:.4f} nats/char ({best / math.log(2):.4f} bits/char) in "
              f"{item['seconds']:.1f} s; first <= {args.target}: "
              + (f"{hit[0]:.1f} s" if hit else "not reached"))
    if reach["lecture"] and reach["fast"]:
        print(f"time to {args.target} nats/char, fast / lecture: {reach['fast'] / reach['lecture']:.3f}x")

    figure, axis = plt.subplots(figsize=(6.5, 4))
    for item in (lecture, fast):
        axis.plot(*zip(*item["curve"]), marker="o", label=f"{item['name']} mode")
    axis.axhline(args.target, color="grey", linestyle=":", label=f"{args.target} nats/char")
    axis.set_xlabel("training time (s), 2-core CPU")
    axis.set_ylabel("held-out nats/char")
    axis.set_title("Nietzsche char model: held-out loss vs training time")
    axis.grid(alpha=0.3)
    axis.legend()
    figure.tight_layout()
    figure.savefig(args.png, dpi=90)
    print(f"curves: {args.png}")


if __name__ == "__main__":
    main()
