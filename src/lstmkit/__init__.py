"""lstmkit: the LSTM lecture as a toolkit."""

from .nn import summary

__version__ = "0.1.0"
__all__ = ["summary", "__version__"]
