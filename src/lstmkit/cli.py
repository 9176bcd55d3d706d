"""The `lstmkit` command. Thin: parse the arguments, call the library, print.

Errors are one line on stderr: exit code 2 for bad arguments or input, 1 for anything else;
a traceback only with --debug.
"""

from __future__ import annotations

import argparse
import sys

from . import __version__
from .nn import summary
from .presets import PRESETS


class UsageError(Exception):
    """Bad arguments or input: reported in one line, exit code 2."""


def _summary(args) -> None:
    preset = PRESETS[args.preset]
    summary(preset.build(), preset.example(), name=args.preset)


def _demo(args) -> None:
    print("The lecture's models, as lstmkit builds them (see docs/MODELS.md):\n")
    for name, preset in PRESETS.items():
        print(f"{name}: {preset.description}")
        summary(preset.build(), preset.example(), name=name)
        print()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lstmkit", description="The LSTM lecture as a toolkit.")
    parser.add_argument("--version", action="version", version=f"lstmkit {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    show = commands.add_parser("summary", help="print a lecture model's Keras-style summary")
    show.add_argument("preset", choices=sorted(PRESETS), metavar="PRESET",
                      help="one of: " + ", ".join(sorted(PRESETS)))
    show.set_defaults(handler=_summary)

    demo = commands.add_parser("demo", help="the lecture's models, summarised")
    demo.set_defaults(handler=_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # exits with 2 and a usage line on bad arguments
    try:
        args.handler(args)
    except UsageError as error:
        if args.debug:
            raise
        print(f"lstmkit: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("lstmkit: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001 - one line for people; --debug shows the rest
        if args.debug:
            raise
        print(f"lstmkit: error: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    return 0
