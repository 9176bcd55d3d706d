"""curves.png: losses and metrics per epoch, from a run's history."""

from __future__ import annotations

import io
from pathlib import Path

from ..dependencies import need
from .run import atomic_write

FEATURE = "plotting curves.png"
SKIP = {"epoch", "seconds", "val_seconds", "best_epoch", "skipped_steps", "lr"}


def plot_curves(history: list[dict], path: Path) -> None:
    """Two panels: every key containing 'loss' (or 'nats'/'bits'), and every other metric."""
    if not history:
        return
    # a Figure of its own, not pyplot: no process-wide backend or figure registry to touch
    figure_class = need("matplotlib.figure", FEATURE).Figure
    keys = [k for k in history[-1] if k not in SKIP and isinstance(history[-1][k], (int, float))]
    losses = [k for k in keys if any(word in k for word in ("loss", "nats", "bits"))]
    metrics = [k for k in keys if k not in losses]
    panels = [group for group in (losses, metrics) if group]
    figure = figure_class(figsize=(5.5 * len(panels), 4.2))
    axes = figure.subplots(1, len(panels), squeeze=False)
    best = history[-1].get("best_epoch")
    for axis, group in zip(axes[0], panels):
        for key in group:
            points = [(row["epoch"], row[key]) for row in history if key in row]
            axis.plot(*zip(*points), marker="o", label=key)
        if best:
            axis.axvline(best, color="grey", linestyle="--", linewidth=1, label=f"best epoch ({best}), kept")
        axis.set_title("training and held-out loss" if group is losses else "held-out metrics", fontsize=10)
        axis.set_ylabel(_unit(group))
        axis.set_xlabel("epoch")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    figure.suptitle(f"{len(history)} epoch(s)", fontsize=10)
    figure.tight_layout()
    image = io.BytesIO()
    figure.savefig(image, format="png", dpi=90)
    atomic_write(Path(path), image.getvalue())


def _unit(keys: list[str]) -> str:
    """The y axis's label for these history keys."""
    if any("bits" in key for key in keys) and not any("nats" in key for key in keys):
        return "bits per character"
    if any("nats" in key or "loss" in key for key in keys):
        return "cross-entropy (nats per predicted token)"
    if all("accuracy" in key for key in keys):
        return "accuracy (fraction correct)"
    return "score (BLEU, chrF: 0-100)" if any("bleu" in key or "chrf" in key for key in keys) else "value"
