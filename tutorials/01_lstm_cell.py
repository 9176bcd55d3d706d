# %% [markdown]
# # The LSTM cell and its parameter count
#
# A simple RNN passes one vector, its output, from step to step; over hundreds of steps the
# gradient that flows back through it shrinks or explodes, and the network forgets what it read
# early. The LSTM adds a second vector, the **cell state** `c` — the lecture's "conveyor belt" —
# that runs along the sequence with only small, gated changes at each step. Four small layers
# decide those changes from the step's input `x_t` and the previous output `h_{t-1}`:
#
# | | equation | what it does |
# |---|---|---|
# | forget gate | `f_t = σ(W_f·[h_{t-1}, x_t] + b_f)` | how much of the belt to keep (1 keeps, 0 forgets) |
# | input gate | `i_t = σ(W_i·[h_{t-1}, x_t] + b_i)` | how much new information to put on it |
# | candidate | `c̃_t = tanh(W_c·[h_{t-1}, x_t] + b_c)` | the new values |
# | output gate | `o_t = σ(W_o·[h_{t-1}, x_t] + b_o)` | how much of the belt to show |
# | cell state | `c_t = f_t ∘ c_{t-1} + i_t ∘ c̃_t` | the belt moves on |
# | output | `h_t = o_t ∘ tanh(c_t)` | what the next step and the next layer see |
#
# This tutorial writes those six lines by hand, checks them against lstmkit's fast `LSTM` layer,
# counts the parameters as the lecture does, and counts the lecture's models. No data and no
# training: it runs in a second at either size.

# %%
import matplotlib.pyplot as plt
import torch

from lstmkit.nn import LSTM, summary
from lstmkit.tasks.sentiment import SentimentConfig, SentimentModel
from lstmkit.tasks.textgen import CharModel, TextgenConfig

torch.manual_seed(0)
INPUT_SIZE = 32  # x: one word's embedding in the lecture's IMDB model
HIDDEN_SIZE = 32  # h: the LSTM's units
STEPS = 20  # time steps per sequence
BATCH = 4  # sequences side by side

# %% [markdown]
# ## The equations by hand
#
# lstmkit keeps `W·[h, x]` as two blocks, `weight_ih` of shape `(4h, x)` for the input and
# `weight_hh` of shape `(4h, h)` for the previous output, with the four gates stacked in the order
# (input, forget, candidate, output) — Keras's order and PyTorch's. Cutting each in four gives the
# lecture's `W_i, W_f, W_c, W_o`.

# %%
def lstm_by_hand(layer: LSTM, inputs: torch.Tensor) -> torch.Tensor:
    """The lecture's six lines, one time step at a time: inputs (batch, time, x) -> last h (batch, h)."""
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
        c = f * c + i * candidate  # the cell state, the conveyor belt
        h = o * torch.tanh(c)
    return h

# %% [markdown]
# Random sequences stand in for embedded words. lstmkit's layer runs all steps in one fused kernel;
# on the same weights it must give the same last output as the loop above.

# %%
inputs = torch.randn(BATCH, STEPS, INPUT_SIZE)
layer = LSTM(INPUT_SIZE, HIDDEN_SIZE)
with torch.no_grad():
    by_hand = lstm_by_hand(layer, inputs)
    fused = layer(inputs)
difference = (by_hand - fused).abs().max().item()
print(f"output shape {tuple(fused.shape)} (batch, units): the last step's h")
print(f"hand-written equations vs lstmkit's fused LSTM: largest difference {difference:.1e}")

# %% [markdown]
# The difference is float32 rounding: the two compute the same function.
#
# ## The parameter count
#
# Each of the four gates has a weight matrix on `[h, x]` and one bias vector, so an LSTM with `h`
# units on `x` inputs has `4·h·(h+x) + 4·h` parameters. Keras counts the same way. PyTorch's
# `nn.LSTM` keeps two bias vectors per gate (`b_ih` and `b_hh`), whose sum is the one bias that
# matters, and so reports `4·h` more.

# %%
parameters = sum(p.numel() for p in layer.parameters())
formula = 4 * HIDDEN_SIZE * (HIDDEN_SIZE + INPUT_SIZE) + 4 * HIDDEN_SIZE
torch_parameters = sum(p.numel() for p in layer.to_torch().parameters())
print(f"LSTM({HIDDEN_SIZE}) on {INPUT_SIZE} inputs: {parameters:,} parameters; 4·h·(h+x) + 4·h = {formula:,}")
print(f"PyTorch's nn.LSTM with the same weights: {torch_parameters:,} (a second bias vector per gate)")

# %% [markdown]
# ## The gates at the start of training
#
# `layer.gates(inputs)` runs the equations step by step and returns every step's `f`, `i`, `c~`,
# `o`, `c` and `h`, each `(batch, time, units)`. Before any training the forget gate's bias is 1,
# as Keras initialises it, so `f ≈ σ(1) = 0.73` on average: from the first step the belt carries
# most of what it holds.

# %%
with torch.no_grad():
    gates = layer.gates(inputs)
forget = gates["f"].mean().item()
print(f"forget gate, mean over every step and unit: {forget:.2f} (σ(1) = {torch.sigmoid(torch.tensor(1.0)):.2f})")
print(f"input gate: {gates['i'].mean().item():.2f}, output gate: {gates['o'].mean().item():.2f} "
      "(their biases start at 0)")

figure, axes = plt.subplots(2, 2, figsize=(11, 5.5), sharex=True)
for axis, (key, title) in zip(axes.flat, [("f", "forget gate f"), ("i", "input gate i"),
                                           ("o", "output gate o"), ("c", "cell state c")]):
    values = gates[key][0, :, :8].T.numpy()  # the first sequence, 8 units: (units, time)
    if key == "c":
        largest = abs(values).max()
        image = axis.imshow(values, aspect="auto", cmap="RdBu_r", vmin=-largest, vmax=largest)
    else:
        image = axis.imshow(values, aspect="auto", cmap="Blues", vmin=0, vmax=1)
    axis.set_title(title, loc="left", fontsize=10)
    axis.set_ylabel("unit")
    figure.colorbar(image, ax=axis)
for axis in axes[1]:
    axis.set_xlabel("time step")
figure.suptitle("An untrained LSTM(32) on random inputs: 8 of its units over 20 steps")
plt.show()

# %% [markdown]
# The forget gate's panel is evenly mid-blue (about 0.73) while the input and output gates scatter
# around 0.5; the cell state drifts smoothly from step to step because most of it is carried over.
# Training moves these biases and weights: tutorial 7 looks at the gates of trained models.
#
# ## The lecture's models, counted as Keras counts them
#
# `summary()` prints a Keras-style table. The lecture's IMDB model is
# Embedding(10000, 32) → LSTM(32) → Dense(1, sigmoid); the variants stack three LSTMs, read the
# review in both directions, or put a SimpleRNN in the LSTM's place. The character model reads
# one-hot vectors of the 57 characters of the Nietzsche text.

# %%
counts, parts = {}, {}
ids = torch.randint(1, 10_000, (1, 500))  # one review of 500 word ids
for name, config in [("IMDB LSTM", SentimentConfig()),
                     ("stacked 3×LSTM(32)", SentimentConfig(layers=3)),
                     ("Bi-LSTM(32)", SentimentConfig(bidirectional=True)),
                     ("SimpleRNN(32)", SentimentConfig(rnn="simplernn"))]:
    print(f"\n{name}")
    model = SentimentModel(config, vocabulary_size=10_000, num_classes=2)
    summary(model, ids)
    counts[name] = sum(p.numel() for p in model.parameters())
    parts[name] = [sum(p.numel() for p in module.parameters())
                   for module in (model.embedding, model.recurrent, model.output)]

print("\nchar model (Nietzsche)")
char_model = CharModel(TextgenConfig(mode="lecture"), 57)
summary(char_model, torch.randint(0, 57, (1, 60)))
counts["char model"] = sum(p.numel() for p in char_model.parameters())
parts["char model"] = [0, sum(p.numel() for p in char_model.recurrent.parameters()),
                       sum(p.numel() for p in char_model.output.parameters())]

# %% [markdown]
# The lecture's numbers: IMDB LSTM **328,353** (embedding 320,000 + LSTM 8,320 + dense 33),
# stacked **344,993**, Bi-LSTM **336,705** (its dense layer reads both directions' 32 outputs:
# 65 parameters), SimpleRNN **322,113**, char model **102,585** (LSTM(128) on 57 inputs:
# 4·128·(128+57) + 4·128 = 95,232, plus 7,353 for Dense(57)). Where the parameters sit:

# %%
figure, axis = plt.subplots(figsize=(9, 3.6))
names = list(parts)
left = [0] * len(names)
for index, (label, colour) in enumerate([("embedding", "#bbbbbb"), ("recurrent", "#1f77b4"), ("dense", "#ff7f0e")]):
    sizes = [parts[name][index] for name in names]
    axis.barh(names, sizes, left=left, color=colour, label=label)
    left = [a + b for a, b in zip(left, sizes)]
for row, name in enumerate(names):
    axis.text(counts[name] + 4_000, row, f"{counts[name]:,}", va="center", fontsize=9)
axis.set_xlim(0, 420_000)
axis.invert_yaxis()
axis.set_xlabel("parameters")
axis.legend(loc="lower right")
axis.set_title("The lecture's models: the embedding holds most of the IMDB models' parameters", loc="left")
plt.show()

# %% [markdown]
# In the IMDB models the recurrent layer is small beside the embedding: 8,320 of 328,353 parameters
# for the LSTM, 2,080 for the SimpleRNN. What the LSTM adds is not size but the gated belt — which
# is why it trains better on long reviews (tutorial 2).
