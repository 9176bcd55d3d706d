"""The `lstmkit` command: parse, call the library, print; every failure is one line with its exit code
(lstmkit/errors.py has the table); a traceback only with --debug."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import warnings

from ..errors import DataError, DiskFull, MissingDependency, RunError, SettingsError, as_flags
from ..nn import summary
from ..lecture_models import LECTURE_MODELS
from ..tasks import registry
from ..training import distributed, interrupts, runlock
from ..training.run import RunDirectory
from ..version import __version__
from . import export, inspecting, models, serve
from .options import Parser, examples


def _summary(args) -> None:
    model = LECTURE_MODELS[args.model]
    summary(model.build(), model.example(), name=args.model)


class _Version(argparse.Action):
    """--version: what a bug report needs, then exit."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        import platform

        import torch

        cuda = (f"CUDA {torch.version.cuda} usable ({torch.cuda.get_device_name(0)})" if torch.cuda.is_available()
                else "CUDA not usable"
                + (f" (torch built for CUDA {torch.version.cuda})" if torch.version.cuda else ""))
        print(f"lstmkit {__version__}, torch {torch.__version__}, Python {platform.python_version()}; {cuda}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="lstmkit", description="The LSTM lecture as a toolkit.",
                    epilog=examples(("lstmkit demo", "text from the installed char model, in seconds"),
                                    ("lstmkit models", "the trained models installed with lstmkit"),
                                    ("lstmkit sentiment train --help", "a command's options and examples")))
    parser.add_argument("--version", action=_Version, help="the versions of lstmkit, torch and Python, and CUDA")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    show = commands.add_parser("summary", help="print a lecture model's Keras-style summary",
                               epilog=examples(("lstmkit summary imdb-lstm", "layers, output shapes and parameter "
                                                                           "counts, as the lecture shows them")))
    show.add_argument("model", choices=sorted(LECTURE_MODELS), metavar="MODEL",
                      help="one of: " + ", ".join(sorted(LECTURE_MODELS)))
    show.set_defaults(handler=_summary)

    for task in registry().values():
        verbs = commands.add_parser(task.name, help=task.help).add_subparsers(dest="verb", metavar="VERB",
                                                                                required=True)
        task.add_commands(verbs)
        if task.more_commands is not None:
            task.more_commands(commands)
    for command in (inspecting, export, models, serve):
        command.add(commands)
    return parser


def _what_is_kept(args, argv: list[str]) -> str:
    """For a train command that stopped: which epoch is saved where, and the command that resumes."""
    out = getattr(args, "out", None)
    if not out:
        return ""
    epochs = RunDirectory(out).trained_epochs()
    said = (f"; the last completed epoch ({epochs}) is saved in {out}" if epochs else
            f" before the first epoch completed; nothing trained is saved in {out}")
    if hasattr(args, "resume"):
        said += "; continue with: " + shlex.join(["lstmkit", *argv, *([] if args.resume else ["--resume"])])
    return said


def _interrupted(args, argv: list[str]) -> int:
    """Says what an interrupted command kept and how to go on -> the exit code (130 SIGINT, 143 SIGTERM)."""
    print("lstmkit: interrupted" + _what_is_kept(args, argv), file=sys.stderr, flush=True)
    return interrupts.exit_code()


def _one_line_warning(message, category, filename, lineno, line=None) -> str:
    return f"lstmkit: warning: {as_flags(str(message))}\n"


def main(argv: list[str] | None = None) -> int:
    warnings.formatwarning = _one_line_warning
    argv = sys.argv[1:] if argv is None else [str(arg) for arg in argv]
    try:
        parser = build_parser()
    except RunError as error:  # a task folder of LSTMKIT_TASK_PATH that declares no task
        print(f"lstmkit: error: {error}", file=sys.stderr)
        return 2
    try:
        args, extra = parser.parse_known_args(argv)
        if extra and hasattr(args, "texts") and not any(item.startswith("-") for item in extra):
            args.texts += extra  # texts given after an option: `predict RUN --json "text" ...`
        elif extra:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as exit_:  # --help, --version, or a bad argument (its one line printed): 2
        return exit_.code
    if getattr(args, "processes", 1) != 1 and "RANK" not in os.environ:
        from ..training.launch import run_processes

        args.handler = lambda args: run_processes(args.processes, argv)
    if os.environ.get("RANK", "0") != "0":  # a torchrun worker other than the first: process 0 reports
        sys.stdout = open(os.devnull, "w")
        warnings.simplefilter("ignore")
    with interrupts.handled(on_lost=lambda: _interrupted(args, argv)):
        return _handle(args, argv)


def _handle(args, argv: list[str]) -> int:
    """Runs the command's handler -> exit code; every failure becomes one line on stderr."""
    try:
        interrupts.stop_if_received()  # one that came while the command was starting
        if getattr(args, "threads", None):
            import torch

            torch.set_num_threads(args.threads)
        code = args.handler(args)  # None, or an exit code (the launcher of several processes)
    except SettingsError as error:  # a setting the library refused: said as its flag
        if args.debug:
            raise
        print(f"lstmkit: error: {as_flags(error.for_command_line())}", file=sys.stderr)
        return 2
    except (DataError, RunError, ValueError) as error:  # bad input or arguments
        if args.debug:
            raise
        print(f"lstmkit: error: {as_flags(str(error))}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader stopped early (`| head`): nothing is wrong, stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so exit's flush cannot fail again
        return 141  # what a shell reports for a writer stopped by SIGPIPE
    except KeyboardInterrupt:
        return _interrupted(args, argv)
    except MissingDependency as error:
        print(f"lstmkit: {error}", file=sys.stderr)
        return 1
    except DiskFull as error:
        print(f"lstmkit: error: {error.strerror}{_what_is_kept(args, argv)}", file=sys.stderr)
        return 1
    except Exception as error:  # noqa: BLE001 - one line for people; --debug shows the rest
        if interrupts.received():  # another process's signal cut a collective short
            return _interrupted(args, argv)
        if args.debug:
            raise
        kept = _what_is_kept(args, argv) if hasattr(args, "resume") else ""
        print(f"lstmkit: error: {type(error).__name__}: {as_flags(str(error))}{kept}", file=sys.stderr)
        return 1
    finally:
        runlock.release_all()
        distributed.finish()
    return code or 0
