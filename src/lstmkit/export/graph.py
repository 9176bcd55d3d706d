"""An ONNX graph made from lstmkit's layers: ONNX's own LSTM, GRU and RNN operators run the recurrent
layers (their `sequence_lens` is lstmkit's `lengths`: padding is not run, outputs there are 0, the
final state is the one after each sample's last real step; a reverse direction starts at that step).

Tensors inside the graph are time-major (time, batch, features), as those operators take them.
"""

from __future__ import annotations

import json

import numpy as np
import torch

from ..version import __version__
from ..dependencies import need
from ..nn import GRU, LSTM, Bidirectional, SimpleRNN

OPSET = 18  # the Reduce operators take their axes as an input from 18 on
# lstmkit's (and PyTorch's) gate blocks -> ONNX's order: LSTM (i, f, c̃, o) -> (i, o, f, c), GRU (r, z, n) -> (z, r, h)
GATE_ORDER = {LSTM: (0, 3, 1, 2), GRU: (1, 0, 2), SimpleRNN: (0,)}
OPERATOR = {LSTM: "LSTM", GRU: "GRU", SimpleRNN: "RNN"}


def onnx_module():
    """The onnx package, or MissingDependency naming the extra to install."""
    return need("onnx", "lstmkit export")


class Graph:
    """Nodes, weights, inputs and outputs of one ONNX graph; op() adds a node and returns its output name(s)."""

    def __init__(self, name: str):
        self.onnx = onnx_module()
        self.name, self.nodes, self.weights, self.inputs, self.outputs, self.described = name, [], [], [], [], {}
        self.count = 0

    def _fresh(self, hint: str) -> str:
        self.count += 1
        return f"{hint}_{self.count}"

    def constant(self, value, hint: str = "constant") -> str:
        array = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
        name = self._fresh(hint)
        self.weights.append(self.onnx.numpy_helper.from_array(array, name))
        return name

    def op(self, op_type: str, *inputs: str, outputs: int = 1, **attributes):
        names = [self._fresh(op_type.lower()) for _ in range(outputs)]
        while inputs and inputs[-1] == "":  # absent optional inputs at the end are left out
            inputs = inputs[:-1]
        self.nodes.append(self.onnx.helper.make_node(op_type, list(inputs), names, **attributes))
        return names[0] if outputs == 1 else names

    def cast(self, x: str, dtype: str) -> str:
        return self.op("Cast", x, to=self._element(dtype))

    def input(self, name: str, dtype: str, shape: list, meaning: str) -> str:
        self.inputs.append(self._value_info(name, dtype, shape))
        self.described.setdefault("inputs", []).append(dict(name=name, dtype=dtype, shape=shape, meaning=meaning))
        return name

    def output(self, name: str, value: str, dtype: str, shape: list, meaning: str) -> None:
        self.nodes.append(self.onnx.helper.make_node("Identity", [value], [name]))
        self.outputs.append(self._value_info(name, dtype, shape))
        self.described.setdefault("outputs", []).append(dict(name=name, dtype=dtype, shape=shape, meaning=meaning))

    def _element(self, dtype: str) -> int:
        return getattr(self.onnx.TensorProto, {"float32": "FLOAT", "int64": "INT64", "int32": "INT32"}[dtype])

    def _value_info(self, name, dtype, shape):
        return self.onnx.helper.make_tensor_value_info(name, self._element(dtype), shape)

    def model(self, metadata: dict):
        """The checked ModelProto; `metadata` (str -> JSON-able) becomes its metadata_props, with the
        lstmkit version and the inputs and outputs described."""
        helper = self.onnx.helper
        graph = helper.make_graph(self.nodes, self.name, self.inputs, self.outputs, self.weights)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="lstmkit",
                                  producer_version=__version__)
        model.ir_version = 9  # what onnxruntimes of the last years read, not only the newest
        props = {"lstmkit_version": __version__, "io": self.described, **metadata}
        helper.set_model_props(model, {key: value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                                       for key, value in props.items()})
        self.onnx.checker.check_model(model)
        return model

    # --- layers ------------------------------------------------------------------------------
    def dense(self, layer, x: str) -> str:
        """A Dense/Linear layer on x (..., in) -> (..., out), its activation included."""
        y = self.op("MatMul", x, self.constant(layer.weight.t().contiguous(), "weight"))
        if layer.bias is not None:
            y = self.op("Add", y, self.constant(layer.bias, "bias"))
        activation = getattr(layer, "activation", None)
        if activation is None:
            return y
        return self.op({"tanh": "Tanh", "sigmoid": "Sigmoid", "relu": "Relu"}[activation], y)

    def recurrent(self, layer, x: str, lengths: str = "", initial=()):
        """An lstmkit LSTM/GRU/SimpleRNN, or a Bidirectional of one, over x (time, batch, features);
        `lengths` int32 (batch,); `initial` one (directions, batch, hidden) per state (h, c) ->
        (outputs (time, batch, directions·hidden), finals: one (directions, batch, hidden) per state)."""
        directions = [layer.forward_layer, layer.backward_layer] if isinstance(layer, Bidirectional) else [layer]
        first = directions[0]
        weights = [self.constant(torch.stack(parts), "recurrent") for parts in zip(*map(_onnx_weights, directions))]
        direction = "bidirectional" if len(directions) == 2 else "reverse" if first.go_backwards else "forward"
        extra = {"linear_before_reset": 1} if isinstance(first, GRU) else {}  # PyTorch's GRU (Keras's reset_after)
        outputs = self.op(OPERATOR[type(first)], x, *weights, lengths, *initial, outputs=1 + len(first.state_names),
                          hidden_size=first.hidden_size, direction=direction, **extra)
        # (time, directions, batch, hidden) -> (time, batch, directions·hidden): the directions side by side
        sequence = self.op("Reshape", self.op("Transpose", outputs[0], perm=[0, 2, 1, 3]), self.constant([0, 0, -1]))
        return sequence, outputs[1:]

    def joined(self, final: str) -> str:
        """A final state (directions, batch, hidden) -> (batch, directions·hidden), as Bidirectional joins them."""
        return self.op("Reshape", self.op("Transpose", final, perm=[1, 0, 2]), self.constant([0, -1]))

    def time_mask(self, lengths: str, like: str, axis: int) -> str:
        """Boolean (batch, time), True at real steps: time is the size of `like`'s `axis`."""
        time = self.op("Gather", self.op("Shape", like), self.constant(np.int64(axis)))
        steps = self.op("Range", self.constant(np.int64(0)), time, self.constant(np.int64(1)))
        return self.op("Less", self.op("Unsqueeze", steps, self.constant([0])),
                       self.op("Unsqueeze", lengths, self.constant([1])))


def _onnx_weights(layer):
    """One direction's (W (gates·hidden, in), R (gates·hidden, hidden), B (2·gates·hidden,)), in
    ONNX's gate order."""
    order = GATE_ORDER[type(layer)]

    def reordered(tensor):
        blocks = tensor.detach().float().chunk(len(order))
        return torch.cat([blocks[k] for k in order])

    bias_ih, bias_hh = layer._torch_biases()
    return reordered(layer.weight_ih), reordered(layer.weight_hh), torch.cat([reordered(bias_ih), reordered(bias_hh)])
