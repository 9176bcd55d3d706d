"""What the commands share: the common options (declared once), the training options, reading
texts, printing, and bad arguments as one line."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import warnings

from ..errors import DataError, flag
from ..limits import flag_type
from ..settings import declaration
from ..training.recipe import RESUMABLE
from ..training.run import RunDirectory


class Parser(argparse.ArgumentParser):
    """A bad argument is one line, exit 2 (argparse prints the whole usage block first); the
    examples that end a command's --help keep their lines."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}; see {self.prog} --help\n")


def examples(*shown: tuple[str, str]) -> str:
    """The end of a command's --help: each (command line, what it does) as a line to copy."""
    width = max(len(line) for line, _ in shown)
    return "examples:\n" + "\n".join(f"  {line.ljust(width)}  # {what}" for line, what in shown)


def add_common(parser: argparse.ArgumentParser, *, device: bool = True, device_default: str = "cpu",
               as_json: bool = False, quiet: bool = False) -> None:
    """The options several commands take, each declared here only: --device, --threads, --json, --quiet."""
    if device:
        parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default=device_default,
                            help=f"where the model runs (default {device_default}; auto: cuda if usable)")
    parser.add_argument("--threads", type=flag_type("threads"), help="torch's CPU threads (default: torch's own)")
    if as_json:
        parser.add_argument("--json", action="store_true", help="print JSON")
    if quiet:
        parser.add_argument("--quiet", action="store_true", help="no progress bars")


def add_ensemble(parser: argparse.ArgumentParser, members: str) -> None:
    """--ensemble RUN (repeatable): more runs (`members`: which ones) whose probabilities are
    averaged with RUN's."""
    parser.add_argument("--ensemble", action="append", default=[], metavar="RUN",
                        help=f"another run {members} whose probabilities are averaged with RUN's (repeat for more)")


def add_train_options(parser: argparse.ArgumentParser, presets: dict, preset_help: str = "default: lecture") -> None:
    """The options every task's `train` takes (guide §2b), and a flag for each setting its config
    declares (settings.py; the presets' class)."""
    parser.add_argument("--out", required=True, metavar="RUN", help="run directory to write")
    parser.add_argument("--preset", choices=sorted(presets), default="lecture",
                        help=f"starting recipe; the options below override it ({preset_help})")
    parser.add_argument("--resume", action="store_true", help="continue the run in --out from its last epoch")
    parser.add_argument("--processes", type=flag_type("processes"), default=1, metavar="N",
                        help="train in N processes on this machine, each on its share of every batch "
                             "(one process's result, dropout aside; see docs/DISTRIBUTED.md)")
    add_common(parser, device_default="auto", quiet=True)
    add_config_options(parser, presets)


def add_config_options(parser: argparse.ArgumentParser, presets: dict) -> None:
    """--flag for each setting of the presets' config the command line offers, made from its
    declaration: a number parsed against its limit, a word among its choices, a switch (--x/--no-x),
    a list; its help ends with the presets' values. Every default is None: config_from lays only what
    was given over the preset."""
    config_class = type(next(iter(presets.values())))
    for item in dataclasses.fields(config_class):
        declared = declaration(config_class, item.name)
        if not declared.get("flag", True):
            continue
        values = preset_values(presets, item.name)
        options = {"help": f"{declared['help']} ({values})" if declared.get("help") else f"({values})",
                   "metavar": declared.get("metavar")}
        if declared.get("limit") is not None:
            options["type"] = flag_type(item.name, {item.name: declared["limit"]})
        elif declared.get("choices"):
            options["choices"] = declared["choices"]
        elif str(item.type) == "bool":
            options["action"] = argparse.BooleanOptionalAction
        elif str(item.type).startswith("list"):
            options["nargs"] = "+"
        parser.add_argument(flag(item.name), **{key: value for key, value in options.items() if value is not None})


def preset_values(presets: dict, name: str) -> str:
    """The value of setting `name` in each preset, as --help shows it: "default 0.001" where all
    presets agree, else "lecture: 32, best: 64"."""
    def shown(value) -> str:
        if value is None:
            return "none"
        if isinstance(value, bool):
            return "on" if value else "off"
        if isinstance(value, (list, tuple)):
            return " ".join(map(str, value))
        return str(value)

    values = {preset: shown(getattr(config, name)) for preset, config in sorted(presets.items())}
    if len(set(values.values())) == 1:
        return f"default {next(iter(values.values()))}"
    return ", ".join(f"{preset}: {value}" for preset, value in values.items())


def config_from(args, presets: dict):
    """The preset's config with every option the user gave laid over it. Resuming a run keeps its
    recipe (training/recipe.py): the options it cannot change are named in a warning."""
    config = presets[args.preset]
    given = {field.name: getattr(args, field.name) for field in dataclasses.fields(config)
             if getattr(args, field.name, None) is not None}
    run = RunDirectory(args.out)
    if args.resume and run.exists():
        saved = run.load_config()["config"]  # the settings given again as they were need no word
        changed = sorted(name for name, value in given.items() if saved.get(name) != value)
        if ignored := [name for name in changed if name not in RESUMABLE]:
            warnings.warn(f"--resume continues the run's recipe; ignored: {', '.join(map(flag, ignored))} (a resume "
                          f"may change {', '.join(flag(name) for name in RESUMABLE if hasattr(config, name))})",
                          stacklevel=2)
    return dataclasses.replace(config, **given)


def read_inputs(args, what: str) -> list[str]:
    """Texts from the arguments, else from --file (one per line; '-' is stdin), else stdin. A lone
    '-' argument also means stdin, as for most Unix tools."""
    from_stdin = args.texts == ["-"]
    if args.texts and not from_stdin:
        return args.texts
    if args.file and args.file != "-":
        try:
            with open(args.file, encoding="utf-8") as handle:
                lines = handle.read().splitlines()
        except FileNotFoundError:
            raise DataError(f"--file {args.file}: not found; expected a UTF-8 file with one {what} per line") from None
        except UnicodeDecodeError as error:
            raise DataError(f"--file {args.file}: not UTF-8 (byte {error.start}); expected one {what} "
                            f"per line") from None
    elif from_stdin or args.file == "-" or not sys.stdin.isatty():
        lines = sys.stdin.read().splitlines()
    else:
        raise DataError(f"no {what} given; pass it as an argument, with --file FILE, or on standard input")
    texts = [line for line in lines if line.strip()]
    if not texts:
        raise DataError(f"no {what} to read: the input holds only empty lines")
    return texts


def print_json(value) -> None:
    print(json.dumps(value, indent=1, ensure_ascii=False))


def print_report(report: dict) -> None:
    print(f"accuracy  {report['accuracy']:.4f}   ({report['count']:,} texts)")
    print(f"precision {report['precision']:.4f}\nrecall    {report['recall']:.4f}\nf1        {report['f1']:.4f}")
    classes = report["classes"]
    width = max(len(name) for name in classes + ["true \\ predicted"]) + 2
    print("true \\ predicted".ljust(width) + "".join(name.rjust(width) for name in classes))
    for name, row in zip(classes, report["confusion_matrix"]):
        print(name.ljust(width) + "".join(f"{count:,}".rjust(width) for count in row))
