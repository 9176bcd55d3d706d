"""lstmkit's version, in a module of its own: any module can name it without importing the package's."""

__version__ = "0.1.0"  # as pyproject.toml's
