"""lstmkit's source as it was at a git commit, ready to import beside today's: for the benchmarks'
"before" variants (`bench/peers/run.py --before`, `bench/serve.py --before`).

The C extensions that commit's pyproject.toml declares (the compiled step loops) are built in place,
as the install builds them: without them the old code runs its slower fallbacks, and "before"
would flatter "after".
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BUILD_EXTENSIONS = """
import tomllib
from setuptools import Extension, setup
with open("pyproject.toml", "rb") as file:
    modules = tomllib.load(file)["tool"]["setuptools"].get("ext-modules", [])
setup(name="before", package_dir={"": "src"}, script_args=["build_ext", "--inplace", "--quiet"],
      ext_modules=[Extension(m["name"], m["sources"], extra_compile_args=m.get("extra-compile-args", []))
                   for m in modules])
"""


def short_commit(ref: str) -> str:
    """The abbreviated commit `ref` names; exits with one line where it names none."""
    found = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", f"{ref}^{{commit}}"],
                           capture_output=True, text=True)
    if found.returncode:
        sys.exit(f"{Path(sys.argv[0]).name}: --before {ref}: not a commit of {ROOT}: {found.stderr.strip()}")
    return found.stdout.strip()


def unpack(ref: str, folder: Path, python: str = sys.executable) -> Path:
    """src/ and pyproject.toml of git `ref` unpacked into `folder` (once: a finished folder is reused)
    and its C extensions built by `python` -> the src/ folder to put first on PYTHONPATH."""
    if not (folder / ".built").is_file():
        folder.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", short_commit(ref), "src", "pyproject.toml"],
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
        subprocess.run([python, "-c", BUILD_EXTENSIONS], cwd=folder, check=True, capture_output=True)
        (folder / ".built").touch()
    return folder / "src"
