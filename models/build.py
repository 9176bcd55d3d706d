"""Trains, measures and packs the models lstmkit-models ships (models/recipes.json says how each is made).

    python models/build.py [train|stage|check|pack|all] [NAME ...] [--data DIR] [--work DIR]

- train: `lstmkit TASK train ... --resume` into WORK/NAME (continues a run cut short);
- stage: the run's files as they ship into WORK/NAME.staged (weights in bfloat16 where the recipe
  says so), measured there with the recipe's evaluate command -> measured.json;
- check: the staged metric against the shipped model's card, within the recipe's stated noise;
- pack: the staged files into lstmkit_models/NAME/ with its card (card.md, and docs/models/NAME.md),
  and catalogue.json with every file's sha256;
- all (`make models`): train, stage, check, and pack where the check holds (or nothing is shipped yet).
No NAME: every shipped model (a planned one by its name). Hours for all of them on a 2-core CPU; each
step resumes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

HERE = Path(__file__).resolve().parent
PACKAGE = HERE / "lstmkit_models"
DOCS = HERE.parent / "docs" / "models"
RECIPES = HERE / "recipes.json"
FILES = ("config.json", "vocab.json", "model.safetensors", "history.jsonl")  # a run's, as they ship
TASK_FILES = {"translate": ("validation.tsv", "test.tsv")}  # what evaluate reads beside the weights
SHOWN_DATA = "../shared/data"  # how the cards write the data folder: this repository's layout
REPOSITORY = HERE.parent  # {repo}: data kept in this repository (bench/data), which cards show relative to it


def recipes(planned: bool = False) -> dict[str, dict]:
    """The shipped models' recipes by name, in catalogue order; with `planned`, those to ship once trained too."""
    listed = json.loads(RECIPES.read_text(encoding="utf-8"))
    return {recipe["name"]: recipe for recipe in listed["models"] + (listed.get("planned", []) if planned else [])}


def command(recipe: dict, step: str, data: str, run: str, repository: str = str(REPOSITORY)) -> list[str]:
    """The recipe's `step` command (a list of arguments) with its folders filled in ("." for the
    repository: paths relative to it)."""
    inside = "" if repository == "." else f"{repository}/"
    return [part.replace("{data}", data).replace("{run}", run).replace("{repo}/", inside) for part in recipe[step]]


def lstmkit(arguments: list[str], capture: bool = True) -> str:
    """Runs the lstmkit of this interpreter -> its standard output (shown instead, without `capture`);
    stops the build on a failure."""
    print("$ lstmkit " + shlex.join(arguments), flush=True)
    done = subprocess.run([sys.executable, "-m", "lstmkit", *arguments], stdout=subprocess.PIPE if capture else None,
                          text=True)
    if done.returncode != 0:
        sys.exit(f"build: lstmkit {arguments[0]} {arguments[1]} failed (exit {done.returncode})")
    return done.stdout


def history(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "history.jsonl").read_text(encoding="utf-8").splitlines() if line]


def best_row(rows: list[dict]) -> dict:
    return rows[rows[-1]["best_epoch"] - 1]


def train(recipe: dict, data: str, work: Path) -> None:
    lstmkit(command(recipe, "train", data, str(work / recipe["name"])) + ["--resume", "--quiet"], capture=False)


def stage(recipe: dict, data: str, work: Path) -> Path:
    """The trained run's files as they ship, in WORK/NAME.staged, with their measured metric."""
    run, staged = work / recipe["name"], work / f"{recipe['name']}.staged"
    shutil.rmtree(staged, ignore_errors=True)
    staged.mkdir(parents=True)
    for name in FILES + TASK_FILES.get(recipe["task"], ()):
        if (run / name).exists():
            shutil.copyfile(run / name, staged / name)
    if recipe.get("weights") == "bfloat16":  # float32 tensors stored at half the size; they load as float32
        tensors = load_file(staged / "model.safetensors")
        save_file({key: value.bfloat16() if value.dtype == torch.float32 else value for key, value in tensors.items()},
                  staged / "model.safetensors")
    for path in staged.iterdir():  # readable by all, as a package's files are (a run's own are its owner's)
        path.chmod(0o644)
    measure(recipe, data, staged)
    return staged


def measure(recipe: dict, data: str, staged: Path) -> dict:
    """The headline metric of the staged model: its evaluate command's JSON, or its history's."""
    metric = recipe["metric"]
    if recipe.get("evaluate"):
        report = json.loads(lstmkit(command(recipe, "evaluate", data, str(staged))))
        value = report[metric["key"]]
        shown = shlex.join(["lstmkit", *command(recipe, "evaluate", SHOWN_DATA, recipe["name"])])
    else:
        value = best_row(history(staged))[metric["history"]]
        shown = shlex.join(["lstmkit", *command(recipe, "train", SHOWN_DATA, recipe["name"])]) + " (its best epoch)"
    measured = {"name": metric["name"], "value": round(float(value), 4), "command": shown, "machine": machine(),
                "more": [measure_more(other, data, staged, recipe["name"]) for other in recipe.get("also_measured", [])]}
    (staged / "measured.json").write_text(json.dumps(measured, indent=1) + "\n", encoding="utf-8")
    return measured


def measure_more(other: dict, data: str, staged: Path, name: str) -> dict:
    """One more metric of the staged model, from its own evaluate command (another domain, longer texts)."""
    report = json.loads(lstmkit(command(other, "evaluate", data, str(staged))))
    return {"name": other["name"], "value": round(float(report[other["key"]]), 4),
            "command": shlex.join(["lstmkit", *command(other, "evaluate", SHOWN_DATA, name, ".")])}


def machine() -> str:
    """This CPU as the cards name it: its model (from /proc/cpuinfo where there is one) and cores."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            model = next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
    except (OSError, StopIteration):
        model = platform.processor() or platform.machine()
    return f"{model}, {os.cpu_count()} cores"


def shipped(name: str) -> dict | None:
    catalogue = json.loads((PACKAGE / "catalogue.json").read_text(encoding="utf-8"))["models"]
    return next((entry for entry in catalogue if entry["name"] == name), None)


def check(recipe: dict, work: Path) -> bool:
    """Whether the retrained model's metric is the shipped card's within the recipe's noise."""
    entry = shipped(recipe["name"])
    if entry is None:
        print(f"check {recipe['name']}: not shipped yet; nothing to compare")
        return True
    measured = json.loads((work / f"{recipe['name']}.staged" / "measured.json").read_text(encoding="utf-8"))["value"]
    card, noise = entry["metric"]["value"], recipe["metric"]["noise"]
    same = abs(measured - card) <= noise
    print(f"check {recipe['name']}: {recipe['metric']['name']} {measured} retrained, {card} on its card "
          f"(noise ±{noise}): {'same' if same else 'DIFFERENT'}")
    return same


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _table(rows: list[tuple[str, str]]) -> str:
    return "| | |\n|---|---|\n" + "".join(f"| {key} | {value} |\n" for key, value in rows)


def render_card(recipe: dict, run: Path) -> str:
    """The model card, from the recipe and the run's own files (config, history, measured metric)."""
    config = json.loads((run / "config.json").read_text(encoding="utf-8"))
    rows, measured = history(run), json.loads((run / "measured.json").read_text(encoding="utf-8"))
    best = best_row(rows)
    trained = sum(row["seconds"] for row in rows)
    held_out = ", ".join(f"{key} {value:.4f}" for key, value in best.items()
                         if key.startswith("val_") and key != "val_seconds" and isinstance(value, float))
    train_command = shlex.join(["lstmkit", *command(recipe, "train", SHOWN_DATA, recipe["name"])])
    settings = ", ".join(f"{key} {json.dumps(value)}" for key, value in config["config"].items())
    return (
        f"# {recipe['name']} ({recipe['task']})\n\n{recipe['summary']}.\n\n"
        + _table([("task", recipe["task"]), ("load it", f"`lstmkit.load(\"{recipe['name']}\")`"),
                  ("trained with", f"`{train_command}`"),
                  ("data", recipe["data"]), ("data licence", recipe["licence"]),
                  ("training", f"{len(rows)} epochs, {trained / 60:.1f} minutes of training on "
                               f"{measured['machine']} (lstmkit {config['lstmkit']}); the best epoch, {best['epoch']}, "
                               f"is the model"),
                  ("held-out at the best epoch", held_out)])
        + f"\n## Measured\n\n| metric | value | command |\n|---|---|---|\n"
        f"| {measured['name']} | **{measured['value']}** | `{measured['command']}` |\n"
        + "".join(f"| {other['name']} | {other['value']} | `{other['command']}` |\n" for other in measured.get("more", []))
        + f"\nRetrained by `make models MODELS={recipe['name']}`, the metric is expected within "
        f"±{recipe['metric']['noise']} of this one (seeds and kernels round differently between machines).\n"
        + "\n## Not good at\n\n" + "".join(f"- {item}\n" for item in recipe["weak"])
        + f"\n## Settings\n\n{settings}\n")


def pack(recipe: dict, work: Path) -> None:
    """The staged files, with the card, into the package; the model's entry in catalogue.json."""
    staged, target = work / f"{recipe['name']}.staged", PACKAGE / recipe["name"]
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(staged, target)
    card = render_card(recipe, target)
    (target / "card.md").write_text(card, encoding="utf-8")
    DOCS.mkdir(parents=True, exist_ok=True)
    (DOCS / f"{recipe['name']}.md").write_text(card, encoding="utf-8")
    measured = json.loads((target / "measured.json").read_text(encoding="utf-8"))
    entry = {"name": recipe["name"], "task": recipe["task"], "path": recipe["name"], "summary": recipe["summary"],
             "metric": {"name": measured["name"], "value": measured["value"]}, "licence": recipe["licence"],
             "default": recipe["default"],
             "files": {path.name: sha256(path) for path in sorted(target.iterdir())}}
    index = PACKAGE / "catalogue.json"
    catalogue = json.loads(index.read_text(encoding="utf-8"))
    order = list(recipes(planned=True))
    models = [other for other in catalogue["models"] if other["name"] != recipe["name"]] + [entry]
    catalogue["models"] = sorted(models, key=lambda other: order.index(other["name"]))
    index.write_text(json.dumps(catalogue, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"packed {recipe['name']}: {sum(p.stat().st_size for p in target.iterdir()) / 1e6:.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=("train", "stage", "check", "pack", "all"))
    parser.add_argument("names", nargs="*", metavar="NAME")
    parser.add_argument("--data", default=str(HERE.parent.parent / "shared" / "data"), help="the datasets' folder")
    parser.add_argument("--work", default=str(HERE / "work"), help="where the runs train")
    args = parser.parse_args()
    known = recipes(planned=True)
    if unknown := [name for name in args.names if name not in known]:
        parser.error(f"no recipe for {', '.join(unknown)}; models/recipes.json has {', '.join(known)}")
    work, all_same = Path(args.work), True
    for recipe in [known[name] for name in args.names or recipes()]:
        if args.step in ("train", "all"):
            train(recipe, args.data, work)
        if args.step in ("stage", "all"):
            stage(recipe, args.data, work)
        same = check(recipe, work) if args.step in ("check", "all") else True
        if args.step == "pack" or (args.step == "all" and same):
            pack(recipe, work)
        all_same = all_same and same
    sys.exit(0 if all_same else 1)


if __name__ == "__main__":
    main()
