"""The `lstmkit` command: command.py (the parser, main, errors as one line), options.py (what the
commands share, declared once) and one module per task. Handlers parse, call the library
(`lstmkit.load` for what uses a trained run), and print."""

from .command import build_parser, main

__all__ = ["build_parser", "main"]
