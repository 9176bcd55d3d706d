# %% [markdown]
# # SimpleRNN vs LSTM on IMDB
#
# The lecture's first task: tell a positive movie review from a negative one. The model reads a
# review as a sequence of word ids, turns each into a 32-number vector, runs a recurrent layer over
# the sequence and classifies the layer's last output:
#
# Embedding(10000, 32) → LSTM(32) → Dense(1, sigmoid)
#
# trained with RMSprop (learning rate 1e-3), batches of 128 reviews, 20% of the training reviews
# held out to pick the best epoch, 10 epochs. The lecture reports **88.6%** test accuracy for the
# LSTM and **84%** for a SimpleRNN in its place, and concludes: always use the LSTM. A SimpleRNN's
# gradient fades over the 500 steps of a review; the LSTM's cell state carries it.
#
# This tutorial trains both under the same recipe. The size is set by `LSTMKIT_TUTORIAL_SIZE`:
# `small` (the default) trains 2 epochs on 640 reviews in seconds, `full` runs the lecture's
# recipe on all 25,000 (a few minutes per model on a 2-core CPU).

# %%
import os
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import torch

import lstmkit
from lstmkit.nn import summary
from lstmkit.tasks import sentiment
from lstmkit.tasks.sentiment import SentimentConfig, SentimentModel
from lstmkit.tasks.sentiment.readers import read_labelled
from lstmkit.text.vocabulary import Vocabulary
from lstmkit.text.words import IMDB_SPECIALS, words

SIZE = os.environ.get("LSTMKIT_TUTORIAL_SIZE", "small")  # small: seconds, on a slice; full: the lecture's sizes
DATA = Path(os.environ.get("LSTMKIT_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")
OUT = Path(os.environ.get("LSTMKIT_TUTORIAL_OUT") or tempfile.mkdtemp(prefix="lstmkit-tutorial-"))
ARCHIVE = DATA / "imdb" / "aclImdb.tar.gz"  # aclImdb_v1.tar.gz, https://ai.stanford.edu/~amaas/data/sentiment/

if SIZE == "full":
    data, EPOCHS = ARCHIVE, 10  # the archive, read in place
else:
    from aclimdb_slice import small_aclimdb  # tutorials/aclimdb_slice.py

    data, EPOCHS = small_aclimdb(ARCHIVE), 2  # the first 400 training and 200 test reviews of each class
NUM_WORDS = 10_000  # the vocabulary: the most frequent words of the training reviews
MAXLEN = 500  # words per review; a longer one keeps its last 500
print(f"size {SIZE}: {EPOCHS} epochs on {'the whole archive' if SIZE == 'full' else 'a slice of the archive'}")

# %% [markdown]
# ## Prepare the data
#
# aclImdb holds 25,000 training and 25,000 test reviews, half positive, half negative. The
# tokenizer lower-cases, drops the `<br />` line breaks and the punctuation, and splits on white
# space; the vocabulary keeps the most frequent words, with id 0 for padding and 1 for any other
# word.

# %%
splits = read_labelled(data)
train_texts = splits["train"]
print(f"{len(train_texts):,} training and {len(splits['test']):,} test reviews, classes {train_texts.classes}")
review, label = train_texts.texts[0], train_texts.labels[0]
print(f"a {label} review: {review[:160]!r}...")
print(f"its words: {words(review)[:16]}...")
vocabulary = Vocabulary.fit(train_texts.texts, "imdb", specials=IMDB_SPECIALS, max_size=NUM_WORDS)
ids = vocabulary.encode(review)[-MAXLEN:]  # the last MAXLEN words, as Keras's pad_sequences keeps them
print(f"as ids (0 padding, 1 unknown word): {ids[:16]}... ({len(ids)} ids)")
print(f"and back: {vocabulary.decode(ids[:16])!r}")

# %% [markdown]
# ## Build the models
#
# The two models differ only in their recurrent layer: the SimpleRNN has one weight matrix on
# `[h, x]` (2,080 parameters), the LSTM four (8,320).

# %%
example = torch.zeros(1, MAXLEN, dtype=torch.long)
for rnn in ("lstm", "simplernn"):
    summary(SentimentModel(SentimentConfig(rnn=rnn), vocabulary_size=NUM_WORDS, num_classes=2), example,
            name=rnn)

# %% [markdown]
# ## Train and evaluate
#
# `sentiment.train` reads the data, holds out 20% of the training reviews, trains, keeps the epoch
# with the best validation accuracy and scores it on the test reviews. Each run is a folder
# (`config.json`, `vocab.json`, `model.safetensors`, `history.jsonl`) that `lstmkit.load` opens.

# %%
results, histories = {}, {}
for rnn in ("lstm", "simplernn"):
    config = SentimentConfig(rnn=rnn, num_words=NUM_WORDS, maxlen=MAXLEN, epochs=EPOCHS, seed=0)
    result = sentiment.train(config, data, OUT / "02-imdb" / rnn, progress=False, log=lambda *_: None)
    histories[rnn] = result["history"]
    results[rnn] = {"test_accuracy": result["test"]["accuracy"], "best_epoch": result["validation"]["epoch"],
                    "val_accuracy": result["validation"]["accuracy"],
                    "seconds_per_epoch": sorted(row["seconds"] for row in result["history"])[EPOCHS // 2]}

print("model       best epoch   validation   test      s/epoch")
for rnn, row in results.items():
    print(f"{rnn:<11} {row['best_epoch']:>10}   {row['val_accuracy']:>10.2%}   {row['test_accuracy']:.2%}"
          f"   {row['seconds_per_epoch']:>6.1f}")

# %%
figure, (loss_axis, accuracy_axis) = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
for (rnn, history), colour in zip(histories.items(), ("#1f77b4", "#ff7f0e")):
    epochs = [row["epoch"] for row in history]
    loss_axis.plot(epochs, [row["loss"] for row in history], marker="o", color=colour, label=f"{rnn}: training")
    loss_axis.plot(epochs, [row["val_loss"] for row in history], marker="o", color=colour, linestyle="--",
                   label=f"{rnn}: validation")
    accuracy_axis.plot(epochs, [row["val_accuracy"] for row in history], marker="o", color=colour, label=rnn)
loss_axis.set_title("loss (binary cross-entropy)", loc="left")
accuracy_axis.set_title("validation accuracy", loc="left")
for axis in (loss_axis, accuracy_axis):
    axis.set_xlabel("epoch")
    axis.set_xticks(range(1, EPOCHS + 1))
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
figure.suptitle(f"LSTM vs SimpleRNN, {SIZE} size")
plt.show()

# %% [markdown]
# At the small size the numbers above come from 640 training reviews and 2 epochs: too little to
# learn much, so they show the code at work, not the lecture's comparison. At full size this is the lecture's recipe
# exactly as `lstmkit sentiment train --data aclImdb.tar.gz --out RUN --seed S --preset lecture
# [--rnn simplernn]` runs it. `docs/RESULTS.md` records (2026-11-27, its 2-core Intel Xeon VM, full
# 25,000-review test set, best-validation epoch):
#
# | model | test accuracy, seeds 0–2 | seeds 0–7 | seed 0 (this tutorial's) | s/epoch |
# |---|---|---|---|---|
# | LSTM(32) | **87.54%** (87.11–87.96) | 87.73% | 87.56% (best epoch 3) | 7.1–9.6 |
# | SimpleRNN(32) | **86.31%** (85.53–87.16) | 86.42% | 87.16% (best epoch 3) | 10.3–14.2 |
#
# The LSTM wins, by 1.2 points on average rather than the lecture's 4.6: its worst of eight seeds
# (87.01%) is above the SimpleRNN's mean. Keras 3 on the same machine with the same recipe gave
# 85.9% and 79.5% after 10 epochs, and 86.9% and 85.5% at the best-validation epoch (the guide's
# table): keeping the best epoch narrows the gap there too. It matters: at full size the LSTM's
# test accuracy peaks at epochs 3–4 and then drifts down as the model overfits (training accuracy
# 96% by epoch 10), so the last epoch is not the one to keep.
#
# ## Use the model
#
# A run directory predicts new text; so does the lecture's model trained at full size, which ships
# with lstmkit as `imdb-lstm` (trained by the same recipe on 2026-12-05, its card gives 0.8835 test
# accuracy).

# %%
reviews = ["A wonderful film, the best I have seen this year.", "Dull, predictable and far too long."]
for name in (OUT / "02-imdb" / "lstm", "imdb-lstm"):
    print(f"{name if isinstance(name, str) else 'this run'}:")
    for prediction in lstmkit.load(name).predict(reviews):
        print(f"  {prediction['label']} ({prediction['probability']:.2f}): {prediction['text']}")
