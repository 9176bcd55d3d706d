"""Keras 3 models saved as `.keras` files (a zip of config.json and model.weights.h5), read into lstmkit's
layers with the same weights: `from_keras(path)` -> a module whose forward gives Keras's outputs.

Reads Sequential and functional models (such as the lecture's seq2seq) of Embedding, LSTM, SimpleRNN,
GRU, Bidirectional, Dense and Dropout. Keras stores kernels (inputs, units) where lstmkit keeps
(units, inputs); LSTM gates are (i, f, c, o) in both; Keras's GRU stacks (z, r, h) where lstmkit
(like PyTorch) stacks (r, z, n). Needs h5py (`pip install 'lstmkit[keras]'`); Keras itself is not needed.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import torch
from torch import nn

from ..dependencies import need
from ..errors import DataError
from .bidirectional import Bidirectional
from .layers import ACTIVATIONS, Dense, Embedding
from .lstm import LSTM
from .recurrent import Recurrent
from .gru import GRU
from .simplernn import SimpleRNN

KERAS_GRU_TO_LSTMKIT = (1, 0, 2)  # Keras's gate blocks (z, r, h) -> lstmkit's (r, z, n)


class KerasModel(nn.Sequential):
    """A Keras Sequential model as lstmkit layers, in Keras's order and under Keras's layer names
    (`model.get_submodule("lstm")`). forward(inputs) is Keras's `model(inputs)`: token ids
    (batch, time) into an Embedding, or features (batch, time, features) into a recurrent layer."""


class KerasFunctional(nn.Module):
    """A Keras functional model (`keras.Model(inputs, outputs)`) of the same layers, such as the
    lecture's seq2seq: the encoder's final (h, c) as the decoder's initial_state. `layers` holds them
    under their Keras names; forward(*inputs) takes the inputs in Keras's order and returns Keras's
    output (a list where Keras gives several). A layer's outputs are Keras's: with return_state, the
    output followed by each state tensor (h, c for an LSTM)."""

    def __init__(self, layers: dict, nodes: list, inputs: list, outputs: list):
        super().__init__()
        self.layers = nn.ModuleDict(layers)
        self.nodes = nodes  # [(layer name, input reference, [initial state references])], in calling order
        self.inputs, self.outputs = inputs, outputs  # input names; output references (layer, index)

    def forward(self, *inputs):
        if len(inputs) != len(self.inputs):
            raise ValueError(f"this model takes {len(self.inputs)} input(s) ({', '.join(self.inputs)}), "
                             f"got {len(inputs)}")
        values = {(name, 0): x for name, x in zip(self.inputs, inputs)}  # (layer name, output index) -> tensor
        for name, argument, states in self.nodes:
            layer = self.layers[name]
            if states:
                result = layer(values[argument], initial_state=tuple(values[state] for state in states))
            else:
                result = layer(values[argument])
            values.update(((name, index), tensor) for index, tensor in enumerate(_flat(result)))
        outputs = [values[reference] for reference in self.outputs]
        return outputs[0] if len(outputs) == 1 else outputs


def _flat(result) -> list:
    """(output, (h, c)) -> [output, h, c]: Keras's order of a layer's output tensors."""
    if isinstance(result, torch.Tensor):
        return [result]
    return [tensor for part in result for tensor in _flat(part)]


class _Reader:
    """One .keras file: its config and its weights by Keras layer name; every error names the file."""

    def __init__(self, path: Path, config: dict, weights):
        self.path, self.config, self.weights = path, config, weights
        self.functional = isinstance(config, dict) and config.get("class_name") == "Functional"

    def fail(self, message: str) -> DataError:
        return DataError(f"{self.path}: {message}")

    def variables(self, group, layer_name: str, count: int) -> list[torch.Tensor]:
        """The first `count` of a weights group's variables (vars/0, vars/1, ...) as float32 tensors."""
        found = group.get("vars") if group is not None else None
        if found is None or any(str(index) not in found for index in range(count)):
            raise self.fail(f"layer '{layer_name}' has no saved weights where Keras keeps them")
        return [torch.as_tensor(found[str(index)][()], dtype=torch.float32) for index in range(count)]

    def group(self, layer_name: str):
        """The weights group of a top-level layer: Keras names the groups by class, and the layer's own
        name is an attribute of their `vars`."""
        for group in self.weights.get("layers", {}).values():
            if "vars" in group and group["vars"].attrs.get("name") == layer_name:
                return group
        raise self.fail(f"layer '{layer_name}' has no weights in model.weights.h5")


def from_keras(path) -> KerasModel | KerasFunctional:
    """Reads a Keras 3 `.keras` file -> a KerasModel (Sequential) or KerasFunctional, in eval mode, with
    Keras's weights. Raises lstmkit.errors.DataError (a ValueError), one line naming the file, when it is not a
    readable Keras model, and naming the layer when a layer or one of its settings has no lstmkit
    equivalent."""
    path = Path(path)
    h5py = need("h5py", "reading Keras models (lstmkit.nn.from_keras)")
    if not path.is_file():
        raise DataError(f"{path}: no such file (from_keras reads a Keras 3 .keras file)")
    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
            weights_bytes = archive.read("model.weights.h5")
    except (OSError, zipfile.BadZipFile, KeyError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DataError(f"{path}: not a readable Keras 3 .keras file (a zip of config.json and "
                         f"model.weights.h5): {error}") from None
    try:
        weights = h5py.File(io.BytesIO(weights_bytes), "r")
    except OSError as error:
        raise DataError(f"{path}: model.weights.h5 is not an HDF5 file: {error}") from None
    with weights:
        reader = _Reader(path, config, weights)
        kind = config.get("class_name") if isinstance(config, dict) else type(config).__name__
        if kind not in ("Sequential", "Functional"):
            raise reader.fail(f"from_keras reads Keras Sequential and Functional models; this one is a {kind}")
        model = _sequential(reader) if kind == "Sequential" else _functional(reader)
    return model.eval()


def _convert(reader: _Reader, entry: dict, features: int | None):
    """One Keras layer entry of config.json -> (Keras name, lstmkit layer, its output's features)."""
    kind, layer_config = entry.get("class_name"), entry.get("config", {})
    name = layer_config.get("name", entry.get("name", kind))
    if kind not in CONVERTERS:
        raise reader.fail(f"layer '{name}' is a {kind}, which from_keras cannot read "
                          f"(it reads {', '.join(CONVERTERS)})")
    input_shape = (entry.get("build_config") or {}).get("input_shape")
    if input_shape and kind != "Embedding":
        features = input_shape[-1]
    layer, features = CONVERTERS[kind](reader, name, layer_config, features)
    return name, layer, features


def _sequential(reader: _Reader) -> KerasModel:
    model = KerasModel()
    features = None  # the last axis of the running output: None for token ids
    for entry in reader.config.get("config", {}).get("layers", []):
        if entry.get("class_name") == "InputLayer":
            config = entry.get("config", {})
            shape = config.get("batch_shape") or config.get("batch_input_shape") or []
            features = shape[-1] if len(shape) == 3 else None
            continue
        name, layer, features = _convert(reader, entry, features)
        model.add_module(name, layer)
    if not len(model):
        raise reader.fail("the model has no layers")
    return model


def _functional(reader: _Reader) -> KerasFunctional:
    """Layers called once each on one tensor (an RNN also on its initial_state), in dependency order."""
    config = reader.config.get("config", {})
    layers, nodes, inputs = {}, [], []

    def reference(tensor, name):
        history = (tensor.get("config", {}) if isinstance(tensor, dict) else {}).get("keras_history")
        if not history or history[1] != 0:
            raise reader.fail(f"layer '{name}' takes an input from_keras cannot follow (a shared layer "
                              "or an operation that is not a layer)")
        return history[0], history[2]

    for entry in config.get("layers", []):
        name = entry.get("name") or entry.get("config", {}).get("name")
        if entry.get("class_name") == "InputLayer":
            inputs.append(name)
            continue
        calls = entry.get("inbound_nodes", [])
        if len(calls) != 1 or len(calls[0].get("args", [])) != 1:
            raise reader.fail(f"layer '{name}' is called {len(calls)} times or on several tensors; "
                              "from_keras reads layers called once on one tensor")
        call = calls[0]
        if call.get("kwargs", {}).get("mask") is not None:
            raise reader.fail(f"layer '{name}' takes a mask, which lstmkit's layers do not")
        argument = reference(call["args"][0], name)
        states = [reference(tensor, name) for tensor in call.get("kwargs", {}).get("initial_state") or []]
        shape = call["args"][0].get("config", {}).get("shape") or []
        entry = dict(entry, build_config={"input_shape": shape} if shape else entry.get("build_config"))
        name, layer, _ = _convert(reader, entry, None)
        if states and isinstance(layer, Bidirectional):
            raise reader.fail(f"layer '{name}' is a Bidirectional given an initial_state, which from_keras "
                              "does not read")
        layers[name] = layer
        nodes.append((name, argument, states))
    outputs = config.get("output_layers", [])
    outputs = [outputs] if outputs and isinstance(outputs[0], str) else outputs
    order, known = [], set(inputs)
    while nodes:  # Keras lists the layers in order; this keeps any order safe
        ready = [node for node in nodes if {node[1][0], *(state[0] for state in node[2])} <= known]
        if not ready:
            raise reader.fail(f"layers {', '.join(node[0] for node in nodes)} take inputs no layer makes")
        for node in ready:
            order.append(node)
            known.add(node[0])
            nodes.remove(node)
    if not order:
        raise reader.fail("the model has no layers")
    return KerasFunctional(layers, order, inputs, [(output[0], output[2]) for output in outputs])


def _no_settings(reader: _Reader, name: str, config: dict, unsupported: dict) -> None:
    """Refuses a layer whose config sets any of `unsupported` {setting: the value lstmkit supports}."""
    for setting, supported in unsupported.items():
        if config.get(setting, supported) != supported:
            raise reader.fail(f"layer '{name}' has {setting}={config[setting]!r}; from_keras reads only "
                              f"{setting}={supported!r}")


def _embedding(reader, name, config, _features):
    _no_settings(reader, name, config, {"mask_zero": False})
    layer = Embedding(config["input_dim"], config["output_dim"])
    (table,) = reader.variables(reader.group(name), name, 1)
    _copy(reader, name, layer.weight, table)
    return layer, config["output_dim"]


def _dense(reader, name, config, features):
    activation = None if config.get("activation") in (None, "linear") else config["activation"]
    if activation not in ACTIVATIONS:
        raise reader.fail(f"layer '{name}' has activation={activation!r}; from_keras reads "
                          f"{', '.join(repr(a) for a in ACTIVATIONS if a)} or 'linear'")
    layer = Dense(_known(reader, name, features), config["units"], activation=activation)
    use_bias = config.get("use_bias", True)
    variables = reader.variables(reader.group(name), name, 2 if use_bias else 1)
    _copy(reader, name, layer.weight, variables[0].t())
    _copy(reader, name, layer.bias, variables[1] if use_bias else torch.zeros_like(layer.bias))
    return layer, config["units"]


def _dropout(reader, name, config, features):
    _no_settings(reader, name, config, {"noise_shape": None})
    return nn.Dropout(config.get("rate", 0.0)), features


RECURRENT = {"LSTM": LSTM, "SimpleRNN": SimpleRNN, "GRU": GRU}


def _recurrent_layer(reader, name, kind, config, features, go_backwards=False) -> Recurrent:
    """An lstmkit layer of a Keras LSTM / SimpleRNN / GRU config, weights not yet loaded."""
    if kind not in RECURRENT:
        raise reader.fail(f"layer '{name}' wraps a {kind}; Bidirectional is read around "
                          f"{', '.join(RECURRENT)} only")
    settings = {"activation": "tanh", "stateful": False, "go_backwards": go_backwards}
    if not reader.functional:  # in a Sequential model the states would have nowhere to go
        settings["return_state"] = False
    if kind != "SimpleRNN":
        settings["recurrent_activation"] = "sigmoid"
    if kind == "GRU":  # Keras 2's default reset_after=False resets h before the product: another equation
        settings["reset_after"] = True
    _no_settings(reader, name, config, settings)
    return RECURRENT[kind](_known(reader, name, features), config["units"],
                           return_sequences=config.get("return_sequences", False),
                           return_state=config.get("return_state", False), dropout=config.get("dropout", 0.0))


def _load_recurrent(reader, name, layer: Recurrent, group, config) -> None:
    """Copies a Keras cell's kernel (inputs, k·units), recurrent kernel (units, k·units) and bias into `layer`."""
    use_bias = config.get("use_bias", True)
    kernel, recurrent, *bias = reader.variables(group.get("cell") if group is not None else None, name,
                                                3 if use_bias else 2)
    if isinstance(layer, GRU):
        reorder = lambda rows: torch.cat([rows.chunk(3, 0)[block] for block in KERAS_GRU_TO_LSTMKIT])  # noqa: E731
        bias_ih, bias_hh = bias[0] if bias else torch.zeros(2, 3 * layer.hidden_size)
        _copy(reader, name, layer.weight_ih, reorder(kernel.t()))
        _copy(reader, name, layer.weight_hh, reorder(recurrent.t()))
        _copy(reader, name, layer.bias_ih, reorder(bias_ih))
        _copy(reader, name, layer.bias_hh, reorder(bias_hh))
        return
    _copy(reader, name, layer.weight_ih, kernel.t())
    _copy(reader, name, layer.weight_hh, recurrent.t())
    _copy(reader, name, layer.bias, bias[0] if bias else torch.zeros_like(layer.bias))


def _recurrent(kind):
    def convert(reader, name, config, features):
        layer = _recurrent_layer(reader, name, kind, config, features)
        _load_recurrent(reader, name, layer, reader.group(name), config)
        return layer, layer.hidden_size
    return convert


def _bidirectional(reader, name, config, features):
    _no_settings(reader, name, config, {"merge_mode": "concat"})
    inner = config["layer"]
    layer = Bidirectional(_recurrent_layer(reader, name, inner.get("class_name"), inner["config"], features))
    group = reader.group(name)
    for direction in ("forward_layer", "backward_layer"):
        _load_recurrent(reader, name, getattr(layer, direction), group.get(direction), inner["config"])
    return layer, layer.hidden_size


CONVERTERS = {"Embedding": _embedding, "LSTM": _recurrent("LSTM"), "SimpleRNN": _recurrent("SimpleRNN"),
              "GRU": _recurrent("GRU"), "Bidirectional": _bidirectional, "Dense": _dense, "Dropout": _dropout}


def _known(reader, name, features):
    if features is None:
        raise reader.fail(f"layer '{name}' needs features (batch, time, features) and gets token ids; "
                          "the model's input shape is missing or an Embedding is")
    return features


def _copy(reader, name, parameter: torch.Tensor, value: torch.Tensor) -> None:
    if tuple(value.shape) != tuple(parameter.shape):
        raise reader.fail(f"layer '{name}' has a weight of shape {tuple(value.shape)} where "
                          f"{tuple(parameter.shape)} is expected")
    with torch.no_grad():
        parameter.copy_(value)
