"""The `lstmkit` command: parse, call the library, print; every failure is one line with its exit code
(lstmkit/errors.py has the table); a traceback only with --debug."""

from __future__ import annotations

import argparse
import dataclasses
import os
import shlex
import sys
import warnings

from .. import __version__
from ..errors import DataError, DiskFull, MissingDependency, RunError, SettingsError
from ..limits import flag_type
from ..nn import summary
from ..presets import PRESETS
from ..training import distributed, interrupts, runlock
from ..training.run import RunDirectory
from . import export, inspect, sentiment, serve, textgen, translate
from .options import Parser, add_common


def _summary(args) -> None:
    preset = PRESETS[args.preset]
    summary(preset.build(), preset.example(), name=args.preset)


def _demo(args) -> None:
    import shutil
    import tempfile

    from ..api import load
    from ..tasks import textgen

    config = dataclasses.replace(textgen.PRESETS["fast"], minutes=args.minutes, epochs=100)
    with tempfile.TemporaryDirectory() as scratch:
        out = args.out or scratch
        run = RunDirectory(out)
        if args.retrain and run.exists():
            run.load_task_config("textgen", textgen.TextgenConfig)  # only ever a textgen run is deleted
            shutil.rmtree(out)
        history = run.load_history() if run.exists() else []
        if history and _demo_finished(history, config):
            print(f"Using the demo model in {out} ({len(history)} epochs; --retrain trains it anew)")
        else:
            print(f"Training the char model on {args.text or 'the lecture Nietzsche text'} for about "
                  f"{args.minutes:g} minutes (fast mode: LSTM(256), every position predicts the next char)")
            history = textgen.train(config, args.text, out, resume=run.exists(), progress=not args.quiet)["history"]
        best = history[history[-1]["best_epoch"] - 1]
        print(f"held-out loss {best['val_nats_per_char']:.3f} nats/char ({best['val_bits_per_char']:.3f} bits/char) "
              f"after {len(history)} epochs")
        generator = load(out, task="textgen")
        for temperature in (0.2, 0.5, 1.0):
            print(f"\n--- temperature {temperature} ---\n{textgen.LECTURE_SEED}", end="")
            generator.sample(textgen.LECTURE_SEED, args.length, temperature=temperature, rng_seed=0,
                             on_text=lambda chars: print(chars, end="", flush=True))
            print()
    if args.out:
        print(f"\nServe it, with the web page: lstmkit serve {shlex.quote(str(args.out))}\n"
              f"then open http://127.0.0.1:8000/")


def _demo_finished(history: list[dict], config) -> bool:
    """Whether a demo run ended by its own rule (its minutes or epochs), not by an interruption."""
    return len(history) >= config.epochs or sum(row["seconds"] for row in history) >= config.minutes * 60 - 1


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
    parser = Parser(prog="lstmkit", description="The LSTM lecture as a toolkit.")
    parser.add_argument("--version", action=_Version, help="the versions of lstmkit, torch and Python, and CUDA")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    show = commands.add_parser("summary", help="print a lecture model's Keras-style summary")
    show.add_argument("preset", choices=sorted(PRESETS), metavar="PRESET",
                      help="one of: " + ", ".join(sorted(PRESETS)))
    show.set_defaults(handler=_summary)

    demo = commands.add_parser("demo",
                               help="train a char model (textgen's fast preset) for ~2 minutes and sample from it")
    demo.add_argument("--minutes", type=flag_type("minutes"), default=2.0, help="training time (default 2)")
    demo.add_argument("--text", help="a UTF-8 text file (default: the shipped Nietzsche text)")
    demo.add_argument("--length", type=flag_type("length"), default=300, help="characters per sample")
    demo.add_argument("--out", metavar="RUN", help="keep the run here, and use it the next time instead of training "
                                                   "again (default: a temporary folder)")
    demo.add_argument("--retrain", action="store_true", help="train anew even if --out holds a finished demo run")
    add_common(demo, device=False, quiet=True)
    demo.set_defaults(handler=_demo)
    for task in (sentiment, textgen, translate, inspect, export, serve):
        task.add(commands)
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
    return f"lstmkit: warning: {message}\n"


def main(argv: list[str] | None = None) -> int:
    warnings.formatwarning = _one_line_warning
    argv = sys.argv[1:] if argv is None else [str(arg) for arg in argv]
    parser = build_parser()
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
        print(f"lstmkit: error: {error.for_command_line()}", file=sys.stderr)
        return 2
    except (DataError, RunError, ValueError) as error:  # bad input or arguments
        if args.debug:
            raise
        print(f"lstmkit: error: {error}", file=sys.stderr)
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
        print(f"lstmkit: error: {type(error).__name__}: {error}{kept}", file=sys.stderr)
        return 1
    finally:
        runlock.release_all()
        distributed.finish()
    return code or 0
