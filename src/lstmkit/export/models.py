"""Each task's graphs: the sentiment classifier, the text model's step (and prime), and the translator's
encoder and decoder step. Every graph takes and gives batch-first tensors; states are stacked by layer."""

from __future__ import annotations

import numpy as np
import torch

from .graph import Graph

BATCH, TIME, SOURCE = "batch", "time", "source_time"


def _token_input(graph: Graph, table: torch.Tensor, ids: str) -> str:
    """ids (...) -> features (..., size): a row of `table` (an Embedding's weight, or the identity for one-hot)."""
    return graph.op("Gather", graph.constant(table.float(), "input_table"), ids)


def sentiment(model, classes: list[str]) -> Graph:
    """ids (batch, time), lengths (batch,) -> probabilities (batch, classes), as SentimentModel(ids,
    lengths) followed by model.probabilities."""
    graph = Graph("sentiment")
    ids = graph.input("ids", "int64", [BATCH, TIME], "word ids; steps after lengths[row] are padding "
                      "(preprocessing.padding: how the run pads)")
    lengths = graph.input("lengths", "int64", [BATCH], "words in each row, 1..time")
    x = graph.op("Transpose", _token_input(graph, model.embedding.weight, ids), perm=[1, 0, 2])
    lengths32 = graph.cast(lengths, "int32")
    finals = None
    for layer in model.recurrent:
        x, finals = graph.recurrent(layer, x, lengths32)
    if model.pooling == "last":
        features = graph.joined(finals[0])
    else:  # over time, the padding left out
        mask = graph.op("Unsqueeze", graph.op("Transpose", graph.time_mask(lengths, ids, 1), perm=[1, 0]),
                        graph.constant([2]))  # (time, batch, 1)
        if model.pooling == "max":
            masked = graph.op("Where", mask, x, graph.constant(np.float32(-np.inf)))
            features = graph.op("ReduceMax", masked, graph.constant([0]), keepdims=0)
        else:
            total = graph.op("ReduceSum", graph.op("Mul", x, graph.cast(mask, "float32")), graph.constant([0]),
                             keepdims=0)
            words = graph.op("Unsqueeze", graph.cast(lengths, "float32"), graph.constant([1]))  # (batch, 1)
            features = graph.op("Div", total, words)
    logits = graph.dense(model.output, features)
    if len(classes) == 2:  # one logit: sigmoid, then (1 - p, p) as model.probabilities
        positive = graph.op("Sigmoid", logits)
        probabilities = graph.op("Concat", graph.op("Sub", graph.constant(np.float32(1.0)), positive), positive, axis=1)
    else:
        probabilities = graph.op("Softmax", logits, axis=1)
    graph.output("probabilities", probabilities, "float32", [BATCH, len(classes)],
                 f"class probabilities in the order {', '.join(classes)}")
    return graph


def _stacked_layers(graph: Graph, layers, x: str, layers_count: int):
    """LSTM layers on x (time, batch, features), each started from its row of the inputs state_h and
    state_c (layers, batch, hidden) -> (outputs (time, batch, hidden), new state_h, new state_c)."""
    hidden = layers[0].hidden_size
    state_h = graph.input("state_h", "float32", [layers_count, BATCH, hidden], "each LSTM layer's h (zeros to start)")
    state_c = graph.input("state_c", "float32", [layers_count, BATCH, hidden], "each LSTM layer's c (zeros to start)")
    new_h, new_c = [], []
    for index, layer in enumerate(layers):
        row = [graph.constant([index]), graph.constant([index + 1]), graph.constant([0])]
        initial = (graph.op("Slice", state_h, *row), graph.op("Slice", state_c, *row))
        x, (h, c) = graph.recurrent(layer, x, "", initial)
        new_h.append(h)
        new_c.append(c)
    return x, graph.op("Concat", *new_h, axis=0), graph.op("Concat", *new_c, axis=0)


def _state_outputs(graph: Graph, state_h: str, state_c: str, layers: int, hidden: int) -> None:
    for name, value in (("new_state_h", state_h), ("new_state_c", state_c)):
        graph.output(name, value, "float32", [layers, BATCH, hidden], f"each LSTM layer's {name[-1]} after the input")


def textgen(model) -> Graph:
    """ids (batch, time), state_h, state_c (layers, batch, hidden) -> logits of the next character
    (batch, vocab) after the last id, and the new states: one step with time 1, the prime over a seed
    with the whole seed (and zero states)."""
    graph = Graph("textgen")
    ids = graph.input("ids", "int64", [BATCH, TIME], "character ids read in order (one per step)")
    x = graph.op("Transpose", _token_input(graph, model.input_table(), ids), perm=[1, 0, 2])
    layers = list(model.recurrent)
    _, state_h, state_c = _stacked_layers(graph, layers, x, len(layers))
    last = graph.op("Gather", state_h, graph.constant(np.int64(len(layers) - 1)))  # the last layer's h
    graph.output("logits", graph.dense(model.output, last), "float32", [BATCH, model.vocab],
                 "scores of the next character (softmax: its probabilities)")
    _state_outputs(graph, state_h, state_c, len(layers), layers[0].hidden_size)
    return graph


def translate_encoder(model) -> Graph:
    """source ids (batch, source_time) right-padded, lengths (batch,) -> memory (batch, source_time,
    hidden), zero at padding, and the decoder's starting state_h, state_c (layers, batch, hidden)."""
    encoder = model.encoder
    graph = Graph("translate_encoder")
    ids = graph.input("ids", "int64", [BATCH, SOURCE], "source token ids, each row padded with 0 after its length")
    lengths = graph.input("lengths", "int64", [BATCH], "tokens in each row, 1..source_time")
    x = graph.op("Transpose", _token_input(graph, _table(encoder.input), ids), perm=[1, 0, 2])
    lengths32 = graph.cast(lengths, "int32")
    states = {"h": [], "c": []}
    for layer in encoder.layers:
        x, finals = graph.recurrent(layer, x, lengths32)
        for name, final in zip("hc", finals):  # a Bi-LSTM's two directions joined, as Encoder does
            states[name].append(graph.op("Unsqueeze", graph.joined(final), graph.constant([0])))
    layers, hidden = len(encoder.layers), model.decoders[model.languages[0]].layers[0].hidden_size
    graph.output("memory", graph.op("Transpose", x, perm=[1, 0, 2]), "float32", [BATCH, SOURCE, hidden],
                 "the encoder's outputs (what attention reads)")
    _state_outputs(graph, graph.op("Concat", *states["h"], axis=0), graph.op("Concat", *states["c"], axis=0),
                   layers, hidden)
    return graph


def translate_decoder(model, language: str) -> Graph:
    """One decoding step: the previous token (batch,), state_h, state_c (layers, batch, hidden) [and with
    attention the encoder's memory (batch, source_time, hidden) and the source lengths (batch,)] ->
    logits (batch, vocab) (padding and start at -inf, as Decoder.step), new states [, attention
    (batch, source_time)]."""
    decoder = model.decoders[language]
    graph = Graph(f"translate_decoder_{language}")
    token = graph.input("token", "int64", [BATCH], "the previous token's id (the start token first)")
    x = graph.op("Unsqueeze", _token_input(graph, _table(decoder.input), token), graph.constant([0]))
    layers = list(decoder.layers)
    _, state_h, state_c = _stacked_layers(graph, layers, x, len(layers))
    query = graph.op("Gather", state_h, graph.constant(np.int64(len(layers) - 1)))  # (batch, hidden)
    hidden = layers[0].hidden_size
    weights = None
    if decoder.attention:  # Decoder.attend for one query
        memory = graph.input("memory", "float32", [BATCH, SOURCE, hidden], "the encoder's memory")
        lengths = graph.input("lengths", "int64", [BATCH], "the source lengths given to the encoder")
        keys = graph.op("Unsqueeze", graph.dense(decoder.score, query), graph.constant([1]))  # (batch, 1, hidden)
        scores = graph.op("MatMul", keys, graph.op("Transpose", memory, perm=[0, 2, 1]))
        if decoder.score_scale != 1.0:
            scores = graph.op("Mul", scores, graph.constant(np.float32(decoder.score_scale)))
        mask = graph.op("Unsqueeze", graph.time_mask(lengths, memory, 1), graph.constant([1]))
        weights = graph.op("Softmax", graph.op("Where", mask, scores, graph.constant(np.float32(-np.inf))), axis=-1)
        context = graph.op("Squeeze", graph.op("MatMul", weights, memory), graph.constant([1]))
        query = graph.dense(decoder.combine, graph.op("Concat", context, query, axis=-1))
    _, output_t, output_bias = decoder.step_constants()
    logits = graph.op("Add", graph.op("MatMul", query, graph.constant(output_t.float())),
                      graph.constant(output_bias.float()))
    graph.output("logits", logits, "float32", [BATCH, decoder.output.out_features],
                 "scores of the next token; the argmax is greedy decoding's choice")
    _state_outputs(graph, state_h, state_c, len(layers), hidden)
    if weights is not None:
        graph.output("attention", graph.op("Squeeze", weights, graph.constant([1])), "float32", [BATCH, SOURCE],
                     "how much each source token counted for this step")
    return graph


def _table(token_input) -> torch.Tensor:
    """A TokenInput's (vocab, size) table: its Embedding's weight, or the identity for one-hot ids."""
    if token_input.embedding is not None:
        return token_input.embedding.weight
    return torch.eye(token_input.vocab)
