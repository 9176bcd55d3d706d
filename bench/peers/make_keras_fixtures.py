"""Small saved Keras 3 models of the lecture's layer types and Keras's outputs on fixed inputs, which
tests/nn/test_from_keras.py loads with lstmkit.nn.from_keras (the suite itself needs no Keras).

    make bench/out/peers/venv-keras/.installed   # Keras's virtualenv, once
    TF_CPP_MIN_LOG_LEVEL=2 bench/out/peers/venv-keras/bin/python bench/peers/make_keras_fixtures.py

Writes tests/data/keras/NAME.keras, NAME.input.npz (the inputs in order; one-hot ones as uint8),
NAME.output.npy and versions.json. The shapes are the lecture's but smaller (a vocabulary of 100,
40 steps, the char model's LSTM(48), a seq2seq of LSTM(16)) to keep the files small; every weight,
biases included, is drawn at random, so a misplaced gate or bias shows.
"""

import json
from pathlib import Path

import numpy as np
import keras
from keras import layers

OUT = Path(__file__).resolve().parents[2] / "tests" / "data" / "keras"
VOCAB, LENGTH, UNITS, BATCH = 100, 40, 32, 4
CHARS, CHAR_LENGTH, CHAR_UNITS = 57, 60, 48


def imdb(*recurrent):
    return keras.Sequential([keras.Input((LENGTH,), dtype="int32"), layers.Embedding(VOCAB, UNITS), *recurrent,
                             layers.Dense(1, activation="sigmoid")])


MODELS = {
    "imdb_lstm": lambda: imdb(layers.LSTM(UNITS)),
    "imdb_simplernn": lambda: imdb(layers.SimpleRNN(UNITS)),
    "imdb_stacked": lambda: imdb(layers.LSTM(UNITS, dropout=0.2, return_sequences=True),
                                 layers.LSTM(UNITS, dropout=0.2, return_sequences=True),
                                 layers.LSTM(UNITS, dropout=0.2)),
    "imdb_bilstm": lambda: imdb(layers.Bidirectional(layers.LSTM(UNITS, dropout=0.2))),
    "imdb_gru": lambda: imdb(layers.GRU(UNITS, return_sequences=True), layers.Dropout(0.5),
                             layers.Bidirectional(layers.GRU(UNITS // 2))),
    "char_lstm": lambda: keras.Sequential([keras.Input((CHAR_LENGTH, CHARS)), layers.LSTM(CHAR_UNITS),
                                           layers.Dense(CHARS, activation="softmax")]),
    "seq2seq_char": lambda: seq2seq(),
}
SEQ2SEQ = dict(source_length=7, source_chars=10, target_length=9, target_chars=12, units=16)


def seq2seq():
    """keras.io's character seq2seq, small: the encoder's final (h, c) start the decoder (teacher forcing)."""
    c = SEQ2SEQ
    source = keras.Input((c["source_length"], c["source_chars"]), name="source")
    _, h, cell = layers.LSTM(c["units"], return_state=True)(source)
    target_in = keras.Input((c["target_length"], c["target_chars"]), name="target_in")
    decoded = layers.LSTM(c["units"], return_sequences=True)(target_in, initial_state=[h, cell])
    return keras.Model([source, target_in], layers.Dense(c["target_chars"], activation="softmax")(decoded))


def inputs(name, rng) -> list:
    def one_hot(depth, length):
        return np.eye(depth, dtype="float32")[rng.integers(0, depth, (BATCH, length))]

    if name == "char_lstm":
        return [one_hot(CHARS, CHAR_LENGTH)]
    if name == "seq2seq_char":
        c = SEQ2SEQ
        return [one_hot(c["source_chars"], c["source_length"]), one_hot(c["target_chars"], c["target_length"])]
    return [rng.integers(0, VOCAB, (BATCH, LENGTH), dtype="int32")]


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for name, build in MODELS.items():
        model = build()
        for weight in model.weights:  # random everywhere: zero biases would hide a misplaced bias
            weight.assign(rng.normal(0, 0.3, weight.shape).astype("float32"))
        x = inputs(name, rng)
        y = np.asarray(model(x if len(x) > 1 else x[0], training=False))
        model.save(OUT / f"{name}.keras")
        # the inputs in the model's order, "0", "1", ...; one-hot as bytes (0 and 1)
        np.savez(OUT / f"{name}.input.npz",
                 **{str(index): a.astype("uint8") if a.ndim == 3 else a for index, a in enumerate(x)})
        np.save(OUT / f"{name}.output.npy", y)
        print(name, [a.shape for a in x], "->", y.shape)
    (OUT / "versions.json").write_text(json.dumps(dict(keras=keras.__version__, numpy=np.__version__,
                                                       backend=keras.backend.backend()), indent=1) + "\n")


if __name__ == "__main__":
    main()
