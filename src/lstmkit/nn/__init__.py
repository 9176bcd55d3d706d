"""lstmkit's building blocks: recurrent layers, Bidirectional, Embedding, Dense, an encoder-decoder's
Encoder and Decoder, summary, Keras models read.

Inputs are batch-first, (batch, time, features). This package imports nothing else of lstmkit's but
`lstmkit.dependencies` and `lstmkit.errors` (from_keras: h5py is optional; a bad file is a DataError).
"""

from .bidirectional import Bidirectional
from .denormals import denormals_flushed, flush_denormals
from .keras_file import KerasFunctional, KerasModel, from_keras
from .gru import GRU
from .layers import Dense, Embedding, one_hot
from .lstm import LSTM
from .recurrent import Recurrent, reverse_padded
from .seq2seq import Decoder, Encoder
from .simplernn import SimpleRNN
from .summary import summary

__all__ = ["LSTM", "SimpleRNN", "GRU", "Bidirectional", "Embedding", "Dense", "Recurrent",
           "reverse_padded", "summary", "flush_denormals", "denormals_flushed", "from_keras", "KerasModel",
           "KerasFunctional", "one_hot", "Encoder", "Decoder"]
