# %% [markdown]
# # Inside the LSTM: gates and cell state on real text
#
# Tutorial 1 wrote the LSTM's equations and looked at the gates of an untrained layer on random
# numbers. Here the models are trained and the inputs are real: the character model
# `nietzsche-fast` reading Nietzsche, and the review classifier `imdb-best` reading a review, both
# shipped with lstmkit. Every predictor's `inspect(text)` runs the equations step by step and
# returns, for each LSTM layer, the forget, input and output gates, the candidate `c̃`, the cell
# state `c` (the conveyor belt) and the output `h` at every step, as `(steps, units)` arrays.
#
# Nothing is trained; the size sets how much text the search for meaningful units reads
# (3,000 characters at the small size, 20,000 at `LSTMKIT_TUTORIAL_SIZE=full`).

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import lstmkit
from lstmkit.data import nietzsche_path
from lstmkit.inspection import busiest_units

SIZE = os.environ.get("LSTMKIT_TUTORIAL_SIZE", "small")  # small: seconds; full: a longer text
CHARACTERS = 20_000 if SIZE == "full" else 3_000

generator = lstmkit.load("nietzsche-fast")
text = nietzsche_path().read_text(encoding="utf-8").lower()
held_out = text[len(text) - len(text) // 10:]  # the last 10%: the model never trained on it
passage = held_out[:CHARACTERS]

# %% [markdown]
# ## What `inspect` returns

# %%
inspection = generator.inspect(passage)
layer = inspection.layers[0]
print(f"{len(inspection.tokens):,} steps, one per character; layers: {inspection.names}")
print({name: values.shape for name, values in layer.items()})

# the lecture's equations hold at every step: the belt moves on, the output shows part of it
previous = np.vstack([np.zeros((1, layer["c"].shape[1])), layer["c"][:-1]])
belt_error = np.abs(layer["f"] * previous + layer["i"] * layer["candidate"] - layer["c"]).max()
output_error = np.abs(layer["o"] * np.tanh(layer["c"]) - layer["h"]).max()
print(f"c_t = f∘c_(t-1) + i∘c̃_t: largest difference {belt_error:.1e}; h_t = o∘tanh(c_t): {output_error:.1e}")

# %% [markdown]
# The model has 256 units. The ones whose cell state varies most over the text are the ones to look
# at first (`busiest_units`). Over a stretch of text that holds a quotation:

# %%
start = max(passage.index('"') - 30, 0)
stretch = slice(start, start + 90)
units = busiest_units(inspection, count=8)
labels = [{" ": "␣", "\n": "⏎"}.get(token, token) for token in inspection.tokens[stretch]]
figure, axes = plt.subplots(4, 1, figsize=(14, 9), sharex=True)
for axis, (key, title) in zip(axes, [("f", "forget gate f (1 keeps the belt)"), ("i", "input gate i"),
                                     ("o", "output gate o"), ("c", "cell state c, the conveyor belt")]):
    values = layer[key][stretch][:, units].T  # (units, steps)
    if key == "c":
        largest = np.abs(values).max()
        image = axis.imshow(values, aspect="auto", cmap="RdBu_r", vmin=-largest, vmax=largest, interpolation="nearest")
    else:
        image = axis.imshow(values, aspect="auto", cmap="Blues", vmin=0, vmax=1, interpolation="nearest")
    axis.set_yticks(range(len(units)), [f"unit {unit}" for unit in units], fontsize=8)
    axis.set_title(title, loc="left", fontsize=10)
    figure.colorbar(image, ax=axis, pad=0.01)
axes[-1].set_xticks(range(len(labels)), labels, fontsize=8)
figure.suptitle("nietzsche-fast, its 8 busiest units, character by character", fontsize=11)
plt.show()

# %% [markdown]
# These busiest units keep their forget gates close to 1 nearly everywhere, dropping at a few
# characters (a full stop, a quotation mark): they carry their belt across the whole stretch, and
# their cell states drift over tens of characters while the input and output gates change with
# every character.
#
# ## Units that follow something in the text
#
# Some units' cell states follow a simple property of the text. For four properties, each computed
# from the characters alone, the unit whose cell state correlates most with it over the passage:

# %%
def running_count(tokens, resets) -> np.ndarray:
    """At each step, how many characters since one of `resets` (0 on one)."""
    counts, count = [], 0
    for token in tokens:
        count = 0 if resets(token) else count + 1
        counts.append(count)
    return np.array(counts, dtype=float)


def inside_quotes(tokens) -> np.ndarray:
    inside, flags = False, []
    for token in tokens:
        inside = not inside if token == '"' else inside
        flags.append(inside)
    return np.array(flags, dtype=float)


tokens = inspection.tokens
properties = {
    "a space": np.array([token == " " for token in tokens], dtype=float),
    "letters into the word": running_count(tokens, lambda token: not token.isalpha()),
    "characters since punctuation (log)": np.log1p(running_count(tokens, lambda token: token in ",;:.!?")),
    "inside quotes": inside_quotes(tokens),
}
standard = (layer["c"] - layer["c"].mean(0)) / (layer["c"].std(0) + 1e-9)
followers = {}  # property -> (unit, correlation)
for name, values in properties.items():
    correlations = standard.T @ ((values - values.mean()) / (values.std() + 1e-9)) / len(values)
    unit = int(np.abs(correlations).argmax())
    followers[name] = (unit, float(correlations[unit]))
    print(f"{name:<36} unit {unit:>3}: correlation {correlations[unit]:+.2f}")

# %%
figure, axes = plt.subplots(len(followers), 1, figsize=(14, 8), sharex=True)
for axis, (name, (unit, correlation)) in zip(axes, followers.items()):
    axis.plot(layer["c"][stretch, unit], color="#1f77b4", label=f"unit {unit}'s cell state")
    other = axis.twinx()
    other.fill_between(range(len(labels)), properties[name][stretch], step="mid", color="#ff7f0e", alpha=0.25)
    other.set_yticks([])
    axis.set_title(f"{name} (shaded) and unit {unit} (line): correlation {correlation:+.2f} over the passage",
                   loc="left", fontsize=10)
axes[-1].set_xticks(range(len(labels)), labels, fontsize=8)
plt.show()

# %% [markdown]
# Where a space falls, how far into a word the model is, how long since the last comma or full
# stop: each is followed closely by one unit (the correlations printed above). Being inside a
# quotation, which takes memory over dozens of characters, is followed by no unit nearly as well
# over the whole passage, even where one seems to within a single quotation. Correlation finds
# units that track a property linearly; a unit may carry it in other ways, and most units mix
# several things.
#
# ## A Bi-LSTM reading a review
#
# `imdb-best` reads a review word by word with a Bi-LSTM(64): `inspect` returns the forward layer
# (left to right) and the backward one (right to left, its steps aligned with the words). Beside
# the gates, `explain` says how much each word moves the verdict: the drop in the predicted
# class's probability when that word is replaced by an unknown one.

# %%
classifier = lstmkit.load("imdb-best")
review = ("The first hour is slow and the dialogue is awful, but the ending is wonderful "
          "and the music is the best I have heard in years.")
[verdict] = classifier.predict([review])
review_inspection = classifier.inspect(review)
explanation = classifier.explain(review)
print(f"{verdict['label']} ({verdict['probability']:.2f}); layers {review_inspection.names}, "
      f"{len(review_inspection.tokens)} words")

words = review_inspection.tokens
contributions = [contribution for _, contribution in explanation["words"]][-len(words):]  # one per word read
figure, axes = plt.subplots(3, 1, figsize=(12, 8.5), sharex=True, layout="constrained",
                            gridspec_kw={"height_ratios": [3, 3, 2]})
largest = max(np.abs(layer["c"]).max() for layer in review_inspection.layers)
for axis, index in zip(axes, range(2)):
    shown = busiest_units(review_inspection, layer=index, count=8)
    image = axis.imshow(review_inspection.layers[index]["c"][:, shown].T, aspect="auto", cmap="RdBu_r",
                        vmin=-largest, vmax=largest, interpolation="nearest")
    axis.set_yticks(range(len(shown)), [f"unit {unit}" for unit in shown], fontsize=8)
    axis.set_title(f"cell state, {review_inspection.names[index]}", loc="left", fontsize=10)
figure.colorbar(image, ax=axes, label="cell state", shrink=0.6)
axes[2].bar(range(len(words)), contributions, color=["#2ca02c" if value >= 0 else "#d62728" for value in contributions])
axes[2].set_title(f"each word's contribution to '{explanation['label']}' (occlusion)", loc="left", fontsize=10)
axes[2].axhline(0, color="grey", linewidth=0.8)
axes[2].set_xticks(range(len(words)), words, rotation=60, fontsize=9)
plt.show()

# %% [markdown]
# The backward layer reads from the end, so its state at the first word has read the whole
# review, while the forward layer's has read one word. With max pooling over time the classifier
# reads every step's output of both layers, not only the last ones. The occlusion bars name the
# words it leans on; compare them with where the forward layer's cell states move.
