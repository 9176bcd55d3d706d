"""lstmkit: the LSTM lecture as a toolkit. `lstmkit.load(run)` gives a trained run to use from Python."""

from .version import __version__

__all__ = ["load", "summary", "__version__"]


def __getattr__(name: str):
    # torch loads on first use, not on `import lstmkit`: the command handles signals before it loads
    if name == "summary":
        from .nn import summary

        return summary
    if name == "load":
        from .api import load

        return load
    raise AttributeError(f"module 'lstmkit' has no attribute {name!r}")
