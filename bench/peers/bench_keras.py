"""One measurement of a lecture model in Keras 3 on TensorFlow, plain or with jit_compile=True (XLA).

    python bench_keras.py --model imdb_lstm --batch 32 [--jit] [--seconds 8] [--threads N]

Prints one line 'RESULT {json}': steady-state training and inference samples/s, load averages.
Training is the lecture's `model.fit` (Dense with sigmoid/softmax, cross-entropy, RMSprop with
Keras's defaults) on a repeating shuffled dataset of synthetic samples; batch times come from a
callback, so tracing and compilation stay out of the steady state. Inference: `model.predict`.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import measure  # noqa: E402
import specs  # noqa: E402

POOL_BATCHES = 16


def build(model: str, jit: bool):
    """The lecture's Keras model, compiled."""
    import keras
    from keras import layers
    if model.startswith("imdb"):
        c, units = specs.IMDB, specs.IMDB["units"]
        recurrent = {
            "imdb_lstm": [layers.LSTM(units)],
            "imdb_simplernn": [layers.SimpleRNN(units)],
            "imdb_stacked": [layers.LSTM(units, dropout=specs.DROPOUT, return_sequences=i < 2) for i in range(3)],
            "imdb_bilstm": [layers.Bidirectional(layers.LSTM(units, dropout=specs.DROPOUT))],
        }[model]
        network = keras.Sequential([keras.Input((c["length"],), dtype="int32"),
                                    layers.Embedding(c["vocab"], c["embedding"]), *recurrent,
                                    layers.Dense(1, activation="sigmoid")])
        loss = "binary_crossentropy"
    elif model == "char_lstm":
        c = specs.CHAR
        network = keras.Sequential([keras.Input((c["length"], c["vocab"])), layers.LSTM(c["units"]),
                                    layers.Dense(c["vocab"], activation="softmax")])
        loss = "categorical_crossentropy"
    else:  # keras.io's character-level seq2seq: the encoder's final (h, c) starts the decoder
        c = specs.SEQ2SEQ
        source = keras.Input((c["encoder_length"], c["encoder_vocab"]), name="source")
        _, h, cell = layers.LSTM(c["units"], return_state=True)(source)
        target_in = keras.Input((c["decoder_length"], c["decoder_vocab"]), name="target_in")
        decoded = layers.LSTM(c["units"], return_sequences=True)(target_in, initial_state=[h, cell])
        network = keras.Model([source, target_in], layers.Dense(c["decoder_vocab"], activation="softmax")(decoded))
        loss = "categorical_crossentropy"
    optimizer = keras.optimizers.RMSprop(learning_rate=specs.learning_rate(model))  # rho 0.9, epsilon 1e-7
    network.compile(optimizer=optimizer, loss=loss, jit_compile=jit)
    return network


def synthetic(model: str, count: int, rng):
    """-> (inputs, one-hot or 0/1 targets) numpy arrays of `count` samples."""
    import numpy as np
    one_hot = lambda high, *shape: np.eye(high, dtype="float32")[rng.integers(0, high, shape)]  # noqa: E731
    if model.startswith("imdb"):
        c = specs.IMDB
        return rng.integers(0, c["vocab"], (count, c["length"]), dtype="int32"), \
            rng.integers(0, 2, (count, 1)).astype("float32")
    if model == "char_lstm":
        c = specs.CHAR
        return one_hot(c["vocab"], count, c["length"]), one_hot(c["vocab"], count)
    c = specs.SEQ2SEQ
    # a dict, not a tuple: in a dataset a tuple would be read as (inputs, targets)
    return (dict(source=one_hot(c["encoder_vocab"], count, c["encoder_length"]),
                 target_in=one_hot(c["decoder_vocab"], count, c["decoder_length"])),
            one_hot(c["decoder_vocab"], count, c["decoder_length"]))


def main():
    args = measure.arguments(__doc__.splitlines()[0], lambda p: p.add_argument("--jit", action="store_true"))
    import numpy as np
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    import keras
    keras.utils.set_random_seed(0)
    network = build(args.model, args.jit)
    inputs, targets = synthetic(args.model, POOL_BATCHES * args.batch, np.random.default_rng(0))
    pool = POOL_BATCHES * args.batch
    # a repeating shuffled pool: as many batches as asked for, in bounded memory
    train_data = (tf.data.Dataset.from_tensor_slices((inputs, targets)).shuffle(pool, seed=0).repeat()
                  .batch(args.batch, drop_remainder=True).prefetch(tf.data.AUTOTUNE))
    infer_data = (tf.data.Dataset.from_tensor_slices(inputs).repeat().batch(args.batch, drop_remainder=True)
                  .prefetch(tf.data.AUTOTUNE))

    class Stamps(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.stamps = []

        def on_train_batch_end(self, batch, logs=None):
            self.stamps.append(time.perf_counter())

        on_predict_batch_end = on_train_batch_end

    def train(count):
        stamps = Stamps()
        network.fit(train_data, epochs=1, steps_per_epoch=count, verbose=0, shuffle=False, callbacks=[stamps])
        return stamps.stamps

    def infer(count):
        stamps = Stamps()
        network.predict(infer_data, steps=count, verbose=0, callbacks=[stamps])
        return stamps.stamps

    result = dict(variant="keras_xla" if args.jit else "keras", model=args.model, batch=args.batch,
                  threads=args.threads, params=network.count_params(),
                  versions=dict(tensorflow=tf.__version__, keras=keras.__version__))
    result.update(measure.timed_phases(args, train, infer))
    measure.emit(result)


if __name__ == "__main__":
    main()
