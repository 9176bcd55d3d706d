"""Data that ships inside the package (see README.md beside this file)."""

from importlib.resources import files
from pathlib import Path


def nietzsche_path() -> Path:
    """The lecture's Nietzsche text (public domain), the default text for text generation."""
    return Path(str(files(__name__) / "nietzsche.txt"))
