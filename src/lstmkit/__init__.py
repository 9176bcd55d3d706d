"""lstmkit: the LSTM lecture as a toolkit."""

__version__ = "0.1.0"
__all__ = ["summary", "__version__"]


def __getattr__(name: str):
    # torch loads on first use, not on `import lstmkit`: the command handles signals before it loads
    if name == "summary":
        from .nn import summary

        return summary
    raise AttributeError(f"module 'lstmkit' has no attribute {name!r}")
