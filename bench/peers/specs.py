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

# variant -> (interpreter: keras | torch | lstmkit, script, extra arguments)
VARIANTS = {
    "keras": ("keras", "bench_keras.py", []),
    "keras_xla": ("keras", "bench_keras.py", ["--jit"]),
    "torch": ("torch", "bench_torch.py", ["--impl", "torch"]),
    "lstmkit": ("lstmkit", "bench_torch.py", ["--impl", "lstmkit"]),
}
PEERS = ("keras", "keras_xla", "torch")
LABELS = {"keras": "Keras 3", "keras_xla": "Keras XLA", "torch": "PyTorch", "lstmkit": "lstmkit"}

RMSPROP = dict(rho=0.9, epsilon=1e-7)


def learning_rate(model: str) -> float:
    return 0.01 if model == "char_lstm" else 1e-3
