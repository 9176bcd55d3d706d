"""What the LSTM layers compute at each step of one text: the gates, the candidate, the cell state
(the lecture's "conveyor belt") and the output, as arrays, for pictures and for study."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .errors import RunError
from .nn import LSTM, Bidirectional

VALUES = ("f", "i", "o", "candidate", "c", "h")  # forget, input, output gate; c̃; cell state; output


@dataclass(frozen=True)
class Inspection:
    """`tokens[t]` is what step t read; `layers[k][name]` is a (steps, units) array for each name in
    VALUES, of the layer called names[k] ("layer 1", or "layer 1 forward"/"layer 1 backward")."""

    tokens: list[str]
    names: list[str]
    layers: list[dict[str, np.ndarray]]

    def to_json(self) -> dict:
        layers = [{"name": name, **{key: values.tolist() for key, values in layer.items()}}
                  for name, layer in zip(self.names, self.layers)]
        return {"tokens": self.tokens, "layers": layers}


def _values(layer: LSTM, x: torch.Tensor) -> dict[str, torch.Tensor]:
    gates = layer.gates(x)
    return {name: gates["c~" if name == "candidate" else name][0] for name in VALUES}


def inspect_layers(layers, x: torch.Tensor, tokens: list[str], kind: str) -> Inspection:
    """Runs stacked recurrent `layers` (LSTMs, or Bidirectional LSTMs) over x (1, time, features)
    step by step; `kind` names the run's recurrent layer in the error for other kinds."""
    names, values = [], []
    with torch.no_grad():
        for number, layer in enumerate(layers, 1):
            inner = layer.forward_layer if isinstance(layer, Bidirectional) else layer
            if not isinstance(inner, LSTM):
                raise RunError(f"inspect shows the gates of LSTM layers; this run's layers are {kind}")
            if isinstance(layer, Bidirectional):
                both = [_values(layer.forward_layer, x), _values(layer.backward_layer, x)]
                names += [f"layer {number} forward", f"layer {number} backward"]
                values += both
                x = torch.cat([both[0]["h"], both[1]["h"]], -1)[None]
            else:
                values.append(_values(layer, x))
                names.append(f"layer {number}")
                x = values[-1]["h"][None]
    arrays = [{name: value.float().cpu().numpy() for name, value in layer.items()} for layer in values]
    return Inspection(tokens, names, arrays)


PICTURED = (("f", "forget gate f", "1 keeps, 0 forgets"), ("i", "input gate i", "0 to 1"),
            ("o", "output gate o", "0 to 1"), ("c", "cell state c (the conveyor belt)", "value"))


def busiest_units(inspection: Inspection, layer: int = 0, count: int = 8) -> list[int]:
    """The `count` units of a layer whose cell state varies most over the text: the ones to look at."""
    spread = inspection.layers[layer]["c"].std(axis=0)
    return sorted(np.argsort(-spread, kind="stable")[:count].tolist())


def plot_inspection(inspection: Inspection, path, *, units: list[int] | None = None, layer: int = 0,
                    title: str = "") -> list[int]:
    """Heat maps over time of the forget, input and output gates and the cell state of `units` of
    one layer (default: the busiest), the text under the time axis, saved as a PNG -> the units."""
    from .dependencies import need

    figure_class = need("matplotlib.figure", "drawing gate pictures").Figure  # not pyplot: no global state
    values = inspection.layers[layer]
    width = values["c"].shape[1]
    units = units if units is not None else busiest_units(inspection, layer)
    if bad := [unit for unit in units if not 0 <= unit < width]:
        raise ValueError(f"--units: {bad[0]} is not a unit of {inspection.names[layer]}; it has units 0 to "
                         f"{width - 1}")
    steps = len(inspection.tokens)
    height = 2.2 + 1.6 * len(PICTURED) * max(1, len(units) / 8)
    figure = figure_class(figsize=(min(40, max(8, 0.28 * steps + 3)), height))
    axes = figure.subplots(len(PICTURED), 1, squeeze=False)[:, 0]
    labels = [{" ": "␣", "\n": "⏎", "\t": "⇥"}.get(token, token) for token in inspection.tokens]
    for axis, (key, name, scale) in zip(axes, PICTURED):
        data = values[key][:, units].T  # (units, steps)
        if key == "c":
            largest = max(float(np.abs(data).max()), 1e-6)
            image = axis.imshow(data, aspect="auto", cmap="RdBu_r", vmin=-largest, vmax=largest,
                                interpolation="nearest")
        else:
            image = axis.imshow(data, aspect="auto", cmap="Blues", vmin=0, vmax=1, interpolation="nearest")
        axis.set_title(f"{name} — {inspection.names[layer]}", loc="left", fontsize=10)
        axis.set_yticks(range(len(units)), [f"unit {unit}" for unit in units], fontsize=8)
        axis.set_xticks(range(steps), labels, fontsize=8, rotation=90 if any(len(l) > 1 for l in labels) else 0)
        axis.set_xlabel("time step (the token read)", fontsize=8)
        figure.colorbar(image, ax=axis, label=scale, pad=0.01)
    if title:
        figure.suptitle(title, fontsize=11)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    return units
