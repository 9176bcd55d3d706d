# %% [markdown]
# # Character generation and temperature
#
# The lecture's second task: a model that writes like Nietzsche, one character at a time. It
# learns from 60-character segments of his text, taken every 3 characters, to predict the
# character that follows each; to write, it reads a seed text, draws the next character from its
# prediction, appends it, and goes on. The model:
#
# one-hot 57 characters → LSTM(128) → Dense(57, softmax)
#
# trained with RMSprop (learning rate 0.01) in batches of 128. After one epoch the lecture reports
# a loss of **1.6746**. How the next character is drawn matters as much as the model: always the
# most likely one (greedy) loops, drawing from the prediction as it is invents words, and the
# **temperature** sets the trade-off between the two.
#
# Training takes minutes, so this tutorial trains a small run for a few seconds (at
# `LSTMKIT_TUTORIAL_SIZE=full`: the lecture's recipe on the whole text, 2 epochs, a few minutes on
# a 2-core CPU) and writes with the trained models that ship with lstmkit.

# %%
import dataclasses
import math
import os
import re
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import torch

import lstmkit
from lstmkit.data import nietzsche_path
from lstmkit.tasks import textgen
from lstmkit.tasks.textgen import LECTURE_SEED, PRESETS
from lstmkit.tasks.textgen.chars import lecture_starts, read_text

SIZE = os.environ.get("LSTMKIT_TUTORIAL_SIZE", "small")  # small: seconds, on a slice; full: the lecture's sizes
OUT = Path(os.environ.get("LSTMKIT_TUTORIAL_OUT") or tempfile.mkdtemp(prefix="lstmkit-tutorial-"))
run_folder = OUT / "05-textgen"
run_folder.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# ## Prepare the data
#
# The text ships with lstmkit (the file Keras's example downloads, public domain). Lower-cased it
# has 57 distinct characters, and segments of 60 taken every 3 characters make the lecture's
# training pairs: each segment, one-hot, is a `(60, 57)` input, and the character after it the
# target.

# %%
text = read_text(nietzsche_path(), lowercase=True)
characters = sorted(set(text))
starts = lecture_starts(len(text))  # range(0, len(text) - 60, 3), as the lecture writes it
print(f"{len(text):,} characters, {len(characters)} distinct, {len(starts):,} segments of 60")
print(f"the characters: {''.join(characters)!r}")
first = int(starts[1000])
print(f"a pair: {text[first: first + 60]!r} -> {text[first + 60]!r}")

# %% [markdown]
# ## Train
#
# `textgen.train` holds out the text's last 10% and scores every epoch on it: the mean of
# −ln p(next character | the 60 before it), in nats per character (the training loss's unit). At
# the small size it trains the lecture's model for one epoch on the first 10,000 characters.

# %%
if SIZE == "full":
    training_text, EPOCHS = nietzsche_path(), 2
else:
    training_text, EPOCHS = run_folder / "nietzsche-start.txt", 1
    training_text.write_text(text[:10_000], encoding="utf-8")
config = dataclasses.replace(PRESETS["lecture"], epochs=EPOCHS, seed=0)
result = textgen.train(config, training_text, run_folder / "run", progress=False, log=print)
for row in result["history"]:
    print(f"epoch {row['epoch']}: training loss {row['loss']:.4f}, held-out {row['val_nats_per_char']:.4f} "
          f"nats/char, {row['seconds']:.0f} s")
trained = lstmkit.load(run_folder / "run")
print(f"\nthis run writes: {LECTURE_SEED}{trained.sample(LECTURE_SEED, 120, temperature=0.5, seed=0)[0]!r}")

# %% [markdown]
# A few seconds of training make a model that has learned letters and spaces, not words. At full
# size this is `lstmkit textgen train --mode lecture --out RUN --epochs 2`, and `docs/RESULTS.md`
# records (2026-11-27, its 2-core Intel Xeon VM, 2 threads):
#
# | epoch | training loss | held-out nats/char | s/epoch |
# |---|---|---|---|
# | 1 | 1.998 (Keras on the same machine: 2.057) | 1.733 (Keras: 1.795) | 72.1 |
# | 2 | 1.634 (Keras: 1.670) | **1.614** (Keras: 1.656) | 58.0 |
#
# Neither lstmkit nor Keras reaches the lecture's 1.6746 in one epoch on that machine; both get
# there in the second. lstmkit's fast recipe (`--preset fast`: a 32-d embedding, LSTM(256), every
# position of 64-character windows predicting its next character, Adam) reached 1.67 nats/char in
# 12.8 s of training against the lecture recipe's 135.0 s, and 1.3416 after 19 epochs
# (`.venv/bin/python bench/textgen.py`, the two taking turns in one process; same day and machine).
#
# ## The trained models
#
# Two models trained at full size ship with lstmkit: `nietzsche-lstm`, the lecture's recipe
# (2 epochs; its card gives 1.6147 held-out nats/char), and `nietzsche-fast`, the fast recipe
# (best of 30 epochs; 1.3362). Both were trained on 2026-12-05 on a 2-core AMD EPYC.

# %%
models = {name: lstmkit.load(name) for name in ("nietzsche-lstm", "nietzsche-fast")}
for name, generator in models.items():
    print(f"{name}: {generator.parameter_count():,} parameters, "
          f"LSTM({generator.config.hidden}) on {'one-hot' if not generator.config.embedding_dim else 'an embedding'}")

# %% [markdown]
# ## Temperature
#
# The model gives a probability `p_i` for each character. Sampling at temperature `T` draws from
# `p_i^(1/T)`, renormalised — the same as dividing the logits by `T` before the softmax. `T = 1`
# draws from the prediction as it is; `T < 1` sharpens it towards the most likely character
# (`T → 0` is greedy); `T > 1` flattens it. The lecture's model after the lecture's seed and a
# space, where the next word begins:

# %%
TEMPERATURES = (0.2, 0.5, 1.0)  # the lecture's: from conservative to inventive
lecture_model = models["nietzsche-lstm"]
with torch.no_grad():
    logits = lecture_model.model(lecture_model.seed_ids(LECTURE_SEED + " ")[None], last_only=True)[0]
figure, axes = plt.subplots(1, len(TEMPERATURES), figsize=(12, 3.2), sharey=True, layout="constrained")
for axis, temperature in zip(axes, TEMPERATURES):
    probabilities = torch.softmax(logits / temperature, 0)
    top = probabilities.topk(10)
    labels = [repr(lecture_model.vocabulary.decode([i]))[1:-1] or "?" for i in top.indices.tolist()]
    axis.bar([label.replace(" ", "␣") for label in labels], top.values.numpy())
    axis.set_title(f"T = {temperature}", loc="left")
axes[0].set_ylabel("p(next character)")
figure.suptitle(f"the next character after {LECTURE_SEED[-30:] + ' '!r}: the 10 most likely", fontsize=10)
plt.show()

# %% [markdown]
# At 0.2 the likeliest character takes most of the probability; at 1.0 it spreads over many. Each step
# draws from such a distribution and carries the LSTM's state `(h, c)` on to the next, so 400
# characters cost 400 steps, not 400 passes over a 60-character window:

# %%
samples = {}
for temperature in TEMPERATURES:
    [sample] = lecture_model.sample(LECTURE_SEED, 400, temperature=temperature, seed=0)
    samples[temperature] = sample
    print(f"--- nietzsche-lstm, temperature {temperature} ---\n{LECTURE_SEED}{sample}\n")
[fast_sample] = models["nietzsche-fast"].sample(LECTURE_SEED, 400, temperature=0.5, seed=0)
print(f"--- nietzsche-fast, temperature 0.5 ---\n{LECTURE_SEED}{fast_sample}")

# %% [markdown]
# Low temperatures repeat the commonest words and phrases; at 1.0 the model invents words. How
# often the generated words are words of the text, and how often they repeat, measured over
# longer samples:

# %%
known = set(re.findall(r"[a-z]+", text))
SWEEP = (0.2, 0.5, 0.75, 1.0, 1.25)
shares = {}  # model -> [(share of words of the text, share of distinct words)] per temperature
for name, generator in models.items():
    shares[name] = []
    for temperature in SWEEP:
        written = " ".join(generator.sample(LECTURE_SEED, 300, temperature=temperature, num=4, seed=0))
        found = re.findall(r"[a-z]+", written)
        shares[name].append((sum(word in known for word in found) / len(found), len(set(found)) / len(found)))
        print(f"{name}, T = {temperature:<4}: {len(found):>3} words, {shares[name][-1][0]:.0%} words of the text, "
              f"{shares[name][-1][1]:.0%} distinct")
figure, axes = plt.subplots(1, 2, figsize=(11, 3.5), sharey=True)
for axis, (index, title) in zip(axes, [(0, "share that are words of the text"), (1, "share of distinct words")]):
    for name, rows in shares.items():
        axis.plot(SWEEP, [row[index] for row in rows], marker="o", label=name)
    axis.set_title(title, loc="left", fontsize=10)
    axis.set_xlabel("temperature")
    axis.grid(alpha=0.3)
    axis.legend()
axes[0].set_ylim(0, 1.05)
figure.suptitle("1,200 generated characters per model and temperature", fontsize=10)
plt.show()

# %% [markdown]
# The two curves cross: cold sampling writes real words but few different ones, hot sampling many
# different ones of which fewer are real. The lecture's 0.5 sits between. The better the model,
# the higher the temperature it can afford: `nietzsche-fast` (1.3362 nats/char against 1.6147)
# stays closer to real words at the same temperature.
