"""A Keras-style model summary: Layer (type), Output Shape, Param #, and the totals."""

from __future__ import annotations

import re

import torch
from torch import nn

from .bidirectional import Bidirectional
from .recurrent import Recurrent

ATOMIC = (Recurrent, Bidirectional)  # shown as one row, parameters of their parts included


def _snake(name: str) -> str:
    """'SimpleRNN' -> 'simple_rnn', 'LSTM' -> 'lstm', 'Embedding' -> 'embedding' (Keras's layer names)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def _shape_text(value) -> str:
    """Output shapes with the batch size shown as None; several outputs as a list."""
    tensors = []

    def collect(item):
        if isinstance(item, torch.Tensor):
            tensors.append(item)
        elif isinstance(item, (tuple, list)):
            for part in item:
                collect(part)

    collect(value)
    shapes = [str((None, *t.shape[1:])).replace(",)", ")") for t in tensors]
    return shapes[0] if len(shapes) == 1 else "[" + ", ".join(shapes) + "]"


def _size_text(count: int, bytes_per_param: int) -> str:
    size = float(count * bytes_per_param)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{count:,} ({size:.2f} {unit})"
        size /= 1024


def layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The rows of a summary: (Keras-style name, module), in order; containers are opened."""
    rows, seen = [], {}

    def visit(module):
        children = list(module.children())
        if isinstance(module, ATOMIC) or not children:
            base = _snake(type(module).__name__)
            count = seen.get(base, 0)
            seen[base] = count + 1
            rows.append((base if count == 0 else f"{base}_{count}", module))
            return
        for child in children:
            visit(child)

    visit(model)
    return rows


def summary(model: nn.Module, inputs=None, *, name: str | None = None, print_fn=print) -> str:
    """Prints (and returns) a Keras-style table of `model`'s layers.

    `inputs`, an example input batch (a tensor, or a tuple of the model's arguments), is run once
    under no_grad to record every layer's output shape; without it shapes show as '?'.
    Parameters are counted per layer; the totals split trainable (requires_grad) from the rest.
    """
    rows = layers(model)
    shapes = {}
    if inputs is not None:
        def recorder(key):
            def record(_module, _args, output):  # returns None: the output passes on unchanged
                shapes.setdefault(key, _shape_text(output))
            return record

        hooks = [module.register_forward_hook(recorder(key)) for key, (_, module) in enumerate(rows)]
        was_training = model.training
        try:
            model.eval()
            with torch.no_grad():
                model(*inputs) if isinstance(inputs, tuple) else model(inputs)
        finally:
            model.train(was_training)
            for hook in hooks:
                hook.remove()
    table = [(f"{label} ({type(module).__name__})", shapes.get(key, "?"),
              f"{sum(p.numel() for p in module.parameters()):,}")
             for key, (label, module) in enumerate(rows)]
    header = ("Layer (type)", "Output Shape", "Param #")
    widths = [max(len(row[i]) for row in [header, *table]) + 4 for i in range(3)]
    line_width = sum(widths) + 1

    def format_row(row):
        return " " + "".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()

    parameters = list(model.parameters())
    bytes_per_param = parameters[0].element_size() if parameters else 4
    total = sum(p.numel() for p in parameters)
    trainable = sum(p.numel() for p in parameters if p.requires_grad)
    lines = [f'Model: "{name or type(model).__name__}"', "_" * line_width, format_row(header),
             "=" * line_width, *(format_row(row) for row in table), "=" * line_width,
             f"Total params: {_size_text(total, bytes_per_param)}",
             f"Trainable params: {_size_text(trainable, bytes_per_param)}",
             f"Non-trainable params: {_size_text(total - trainable, bytes_per_param)}",
             "_" * line_width]
    text = "\n".join(lines)
    if print_fn is not None:
        print_fn(text)
    return text
