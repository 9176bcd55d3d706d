"""The README's quick-start outputs, made by running their commands on the installed models.

    python tools/quickstart.py          # rewrites every output block of README.md
    python tools/quickstart.py --check  # says which block differs from a fresh run (exit 1), else nothing

A block is written in README.md as

    <!-- output: lstmkit ARGUMENTS -->
    ```console
    $ lstmkit ARGUMENTS
    what the command printed
    ```
    <!-- /output -->

and only the fenced part is made here. The commands use the models lstmkit-models installs, with
fixed seeds, so a run gives the same text; --check allows numbers to differ by NUMBER_TOLERANCE
(float sums in another order on another CPU).
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"(<!-- output: (?P<command>.+?) -->\n)(?P<shown>.*?)(<!-- /output -->)", re.S)
NUMBER = re.compile(r"-?\d+\.\d+")
NUMBER_TOLERANCE = 0.002  # probabilities and scores are printed with 3 decimals


def shown(command: str) -> str:
    """The fenced block for `command` ("lstmkit ..."): the prompt line and what the command printed."""
    arguments = shlex.split(command)
    if arguments[0] != "lstmkit":
        raise SystemExit(f"quickstart: README.md: {command!r} is not an lstmkit command")
    done = subprocess.run([sys.executable, "-m", "lstmkit", *arguments[1:]], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "100"})
    if done.returncode != 0:
        raise SystemExit(f"quickstart: `{command}` failed (exit {done.returncode}): {done.stderr.strip()}")
    return f"```console\n$ {command}\n{done.stdout.rstrip()}\n```\n"


def same(written: str, made: str) -> bool:
    """Whether two outputs say the same: equal text, numbers within NUMBER_TOLERANCE."""
    if NUMBER.sub("#", written) != NUMBER.sub("#", made):
        return False
    return all(abs(float(a) - float(b)) <= NUMBER_TOLERANCE
               for a, b in zip(NUMBER.findall(written), NUMBER.findall(made)))


def blocks(text: str) -> list[re.Match]:
    return list(BLOCK.finditer(text))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, change nothing")
    args = parser.parse_args(argv)
    text = README.read_text(encoding="utf-8")
    made = {match["command"]: shown(match["command"]) for match in blocks(text)}
    if args.check:
        differing = [match["command"] for match in blocks(text) if not same(match["shown"], made[match["command"]])]
        for command in differing:
            print(f"README.md: the output of `{command}` is not what it prints now (python tools/quickstart.py)")
        return 1 if differing else 0
    README.write_text(BLOCK.sub(lambda match: match[1] + made[match["command"]] + match[4], text), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
