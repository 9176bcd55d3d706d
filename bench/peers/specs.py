"""The lecture's models as every variant of the peers benchmark builds them (standard library only:
read by the Keras, PyTorch and lstmkit scripts, each in its own virtualenv).

Shapes are the lecture's; data is synthetic (timing does not depend on the values). The optimizer is
RMSprop with Keras's defaults (rho 0.9, epsilon 1e-7), learning rate 1e-3, the char model's 0.01.
"""

IMDB = dict(vocab=10_000, embedding=32, length=500, units=32)
CHAR = dict(length=60, vocab=57, units=128)
SEQ2SEQ = dict(encoder_length=16, encoder_vocab=70, decoder_length=60, decoder_vocab=90, units=256)
DROPOUT = 0.2  # the lecture's stacked and bidirectional models drop each LSTM's inputs

MODELS = ("imdb_lstm", "imdb_simplernn", "imdb_stacked", "imdb_bilstm", "char_lstm", "seq2seq_char")
TITLES = {"imdb_lstm": "IMDB LSTM(32)", "imdb_simplernn": "IMDB SimpleRNN(32)",
          "imdb_stacked": "IMDB stacked 3×LSTM(32)", "imdb_bilstm": "IMDB Bi-LSTM(32)",
          "char_lstm": "char LSTM(128)", "seq2seq_char": "seq2seq char LSTM(256)"}
BATCHES = (32, 128)

TRAINING_COST = 3  # a training step's matrix products: the forward's, and two more in the backward

# variant -> (interpreter: keras | torch | lstmkit, script, extra arguments)
VARIANTS = {
    "keras": ("keras", "bench_keras.py", []),
    "keras_xla": ("keras", "bench_keras.py", ["--jit"]),
    "torch": ("torch", "bench_torch.py", ["--impl", "torch"]),
    "lstmkit": ("lstmkit", "bench_torch.py", ["--impl", "lstmkit"]),
    "lstmkit_before": ("lstmkit", "bench_torch.py", ["--impl", "lstmkit"]),  # run.py --before REF: lstmkit at REF
}
DEFAULT_VARIANTS = ("keras", "keras_xla", "torch", "lstmkit")
PEERS = ("keras", "keras_xla", "torch")
LABELS = {"keras": "Keras 3", "keras_xla": "Keras XLA", "torch": "PyTorch", "lstmkit": "lstmkit",
          "lstmkit_before": "lstmkit before"}

RMSPROP = dict(rho=0.9, epsilon=1e-7)


def forward_flops(model: str) -> float:
    """Floating-point operations of one sample's forward pass in the matrix products (2 per
    multiply-add; gates, recurrence and the output layer; element-wise work left out). A training
    step costs about TRAINING_COST times this."""
    def recurrent(time, inputs, units, gates):  # every step: gates × units × (inputs + units) multiply-adds
        return 2 * time * gates * units * (inputs + units)
    if model.startswith("imdb"):
        c, units = IMDB, IMDB["units"]
        lstm = recurrent(c["length"], c["embedding"], units, 4)
        simple = recurrent(c["length"], c["embedding"], units, 1)
        return {"imdb_lstm": lstm + 2 * units, "imdb_simplernn": simple + 2 * units,
                "imdb_stacked": 3 * lstm + 2 * units, "imdb_bilstm": 2 * lstm + 4 * units}[model]
    if model == "char_lstm":
        c = CHAR
        return recurrent(c["length"], c["vocab"], c["units"], 4) + 2 * c["units"] * c["vocab"]
    c = SEQ2SEQ
    return (recurrent(c["encoder_length"], c["encoder_vocab"], c["units"], 4)
            + recurrent(c["decoder_length"], c["decoder_vocab"], c["units"], 4)
            + 2 * c["decoder_length"] * c["units"] * c["decoder_vocab"])


def learning_rate(model: str) -> float:
    return 0.01 if model == "char_lstm" else 1e-3
