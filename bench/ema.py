"""Weight averaging (`train --ema`) on Nietzsche: the raw weights against moving averages of them,
one training run.

    .venv/bin/python bench/ema.py [--preset fast] [--epochs 19] [--decays 0.99 0.998] [--threads 1]
                                  [--set dropout=0.4 --set hidden=512 ...]

The model trains once, with the preset's recipe (`--set NAME=VALUE` overrides a config field);
after every step each average takes the new weights in (torch's AveragedModel, as `--ema` does),
and after every epoch the raw weights and every average are scored on the held-out last 10% (mean
-ln p(next char | 60 chars before), positions at stride 3). So the columns differ only in which
weights are scored. Prints one row per epoch and each column's best.
"""

from __future__ import annotations

import argparse
import dataclasses

import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from lstmkit.data import nietzsche_path
from lstmkit.nn import flush_denormals
from lstmkit.tasks import textgen
from lstmkit.training.loop import FitOptions, train_epoch
from lstmkit.training.optimizers import make_optimizer


class Averages:
    """Several AveragedModels following one model (train_epoch calls update_parameters)."""

    def __init__(self, model, decays):
        self.models = {decay: AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)
                       for decay in decays}

    def update_parameters(self, model):
        for averaged in self.models.values():
            averaged.update_parameters(model)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="fast", choices=sorted(textgen.PRESETS))
    parser.add_argument("--epochs", type=int, default=19)
    parser.add_argument("--decays", type=float, nargs="+", default=[0.99, 0.998])
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="override a config field")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config = textgen.PRESETS[args.preset]
    for item in args.set:
        name, value = item.split("=", 1)
        config = dataclasses.replace(config, **{name: type(getattr(config, name))(value)})
    device = torch.device("cpu")
    vocabulary, train_ids, held_ids = textgen.prepare_text(nietzsche_path(), config)
    torch.manual_seed(config.seed)
    model = textgen.CharModel(config, vocabulary.size)
    optimizer = make_optimizer(config.optimizer, model.parameters(), config.lr)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, config.lr_decay)
    batches = textgen.epoch_batches(config, train_ids, torch.Generator().manual_seed(config.seed))
    batch_loss = textgen.batch_loss_on(config, vocabulary.size, device)
    options = FitOptions(epochs=1, clip_norm=config.clip_norm, progress=False)
    averages = Averages(model, args.decays)
    columns = {"raw": model, **{f"ema {decay:g}": averaged.module for decay, averaged in averages.models.items()}}
    print(f"{config}\ntorch {torch.__version__}, {args.threads} thread(s); held-out nats/char after each epoch")
    print("epoch  trained s  " + "  ".join(f"{name:>10s}" for name in columns), flush=True)
    trained, scores = 0.0, {name: [] for name in columns}
    for epoch in range(1, args.epochs + 1):
        with flush_denormals():
            row = train_epoch(model, optimizer, batches(epoch), batch_loss, options, epoch, averaged=averages)
        scheduler.step()
        trained += row["seconds"]
        for name, scored in columns.items():
            scored.eval()
            scores[name].append(textgen.held_out_nats(scored, held_ids, device, stride=3))
        print(f"{epoch:5d}  {trained:9.1f}  " + "  ".join(f"{scores[name][-1]:10.4f}" for name in columns), flush=True)
    print("best   " + " " * 9 + "  ".join(f"{min(values):10.4f}" for values in scores.values()))
    print("at epoch " + " " * 7 + "  ".join(f"{values.index(min(values)) + 1:10d}" for values in scores.values()))


if __name__ == "__main__":
    main()
