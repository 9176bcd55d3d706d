"""The LSTM, gate by gate: the lecture's equations written out by hand, next to lstmkit's layer.

    python examples/01_lstm_equations.py

Runs in a second on any machine and prints:
    LSTM(32) on 32 inputs: 8,320 parameters = 4·h·(h+x) + 4·h   (PyTorch's nn.LSTM: 8,448)
    hand-written equations vs lstmkit's fused LSTM: largest difference ~1e-7
    forget gate at the start: ~0.73 = σ(1) on average (its bias starts at 1: the belt carries)
    the lecture's models: IMDB LSTM 328,353 · stacked 3×LSTM(32) 344,993 · Bi-LSTM(32) 336,705 ·
    SimpleRNN(32) 322,113 · char model 102,585 parameters, with Keras-style summaries
"""

import argparse

import torch

from lstmkit.nn import LSTM, summary
from lstmkit.tasks.sentiment import SentimentConfig, SentimentModel
from lstmkit.tasks.textgen import CharModel, TextgenConfig

INPUT_SIZE = 32  # x: one word's embedding in the lecture's IMDB model
HIDDEN_SIZE = 32  # h: the LSTM's units
STEPS = 20  # time steps per sequence
BATCH = 4  # sequences side by side


def lstm_by_hand(layer: LSTM, inputs: torch.Tensor) -> torch.Tensor:
    """The lecture's six lines, one time step at a time. inputs (batch, time, x) -> last h (batch, h)."""
    # W·[h, x] is kept as two blocks, weight_ih (4h, x) and weight_hh (4h, h), gates stacked (i, f, c̃, o)
    W_i, W_f, W_c, W_o = layer.weight_ih.chunk(4)
    U_i, U_f, U_c, U_o = layer.weight_hh.chunk(4)
    b_i, b_f, b_c, b_o = layer.bias.chunk(4)
    h = torch.zeros(inputs.shape[0], layer.hidden_size)
    c = torch.zeros(inputs.shape[0], layer.hidden_size)
    for x in inputs.unbind(1):
        f = torch.sigmoid(x @ W_f.T + h @ U_f.T + b_f)  # forget gate: what of the belt to keep
        i = torch.sigmoid(x @ W_i.T + h @ U_i.T + b_i)  # input gate: how much new to let on
        candidate = torch.tanh(x @ W_c.T + h @ U_c.T + b_c)  # the new values
        o = torch.sigmoid(x @ W_o.T + h @ U_o.T + b_o)  # output gate: what of the belt to show
        c = f * c + i * candidate  # the cell state, the "conveyor belt"
        h = o * torch.tanh(c)
    return h


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.manual_seed(args.seed)

    # Prepare the data: random sequences stand in for embedded words.
    inputs = torch.randn(BATCH, STEPS, INPUT_SIZE)

    # Build the layer.
    layer = LSTM(INPUT_SIZE, HIDDEN_SIZE)
    parameters = sum(p.numel() for p in layer.parameters())
    torch_parameters = sum(p.numel() for p in layer.to_torch().parameters())
    print(f"LSTM({HIDDEN_SIZE}) on {INPUT_SIZE} inputs: {parameters:,} parameters = 4·h·(h+x) + 4·h "
          f"(PyTorch's nn.LSTM: {torch_parameters:,}, it keeps a second bias vector)")

    # Run: the equations by hand, and lstmkit's layer (the fused kernel) on the same weights.
    with torch.no_grad():
        by_hand = lstm_by_hand(layer, inputs)
        fused = layer(inputs)
        gates = layer.gates(inputs)  # every step's f, i, c~, o, c, h through the reference path
    difference = (by_hand - fused).abs().max().item()
    forget = gates["f"][:, 0].mean().item()
    print(f"hand-written equations vs lstmkit's fused LSTM: largest difference {difference:.1e}")
    print(f"forget gate at the start: {forget:.2f} on average (its bias starts at 1, σ(1) = 0.73: the belt carries)")

    # The lecture's models, counted as Keras counts them.
    counts = {}
    ids = torch.randint(1, 10_000, (1, 500))
    for name, config in [("IMDB LSTM", SentimentConfig()),
                         ("stacked 3×LSTM(32)", SentimentConfig(layers=3)),
                         ("Bi-LSTM(32)", SentimentConfig(bidirectional=True)),
                         ("SimpleRNN(32)", SentimentConfig(rnn="simplernn"))]:
        print(f"\n{name}")
        model = SentimentModel(config, vocabulary_size=10_000, num_classes=2)
        summary(model, ids)
        counts[name] = sum(p.numel() for p in model.parameters())
    print("\nchar model (Nietzsche)")
    char_model = CharModel(TextgenConfig(mode="lecture"), 57)
    summary(char_model, torch.randint(0, 57, (1, 60)))
    counts["char model"] = sum(p.numel() for p in char_model.parameters())
    return {"lstm_parameters": parameters, "difference": difference, "forget_gate": forget, "models": counts}


if __name__ == "__main__":
    main()
