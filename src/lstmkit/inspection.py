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
    """tokens[t] is what step t read; layers[k][name] is a (steps, units) array for each name in
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
