"""Time to quality against the lecture's own scripts: Keras running the lecture's recipe, lstmkit's
lecture recipe and lstmkit's fast recipe, each trained until it first meets the task's target.

    .venv/bin/python bench/time_to_quality.py [--tasks sentiment,textgen]
        [--contenders keras,lstmkit-lecture,lstmkit-fast] [--cap-minutes 15] [--quick]
    make bench-quality [QUALITY_ARGS='--quick']

Targets: sentiment validation accuracy >= 0.85 (the 20% of the IMDB training reviews each script holds
out); textgen held-out loss <= 1.67 nats/char (the last 10% of the lowercased Nietzsche text, the
positions at stride 3 that lstmkit scores and Keras's `val_nats_stride3`).

The contenders run one after another, never two at once, each as its own process with every core:
  sentiment  keras            ../shared/bench/lecture-keras/imdb_lecture.py --cell lstm (10 epochs)
             lstmkit-lecture  lstmkit sentiment train --preset lecture --batching padded (the lecture's
                              padded loop: 500 steps for every review, as Keras runs it)
             lstmkit-fast     lstmkit sentiment train --preset lecture (lstmkit's default length-aware
                              batching; docs/RESULTS.md: 5.8 s/epoch, 88% test by epoch 3)
  textgen    keras            ../shared/bench/lecture-keras/char_lecture.py (up to 3 epochs; 2 reach it)
             lstmkit-lecture  lstmkit textgen train --mode lecture (up to 3 epochs)
             lstmkit-fast     lstmkit textgen train --preset fast
Per-epoch records: Keras's `EPOCH {json}` lines on its stdout, lstmkit's history.jsonl in its run
directory. Time = the epochs' wall time summed, held-out evaluation INCLUDED for every contender
(Keras's IMDB epoch time holds its validation pass and cannot be split; Keras's char script also
scores stride 1 each epoch, which is not counted); start-up, data preparation and checkpoint saving
are not counted. "train only" leaves the evaluation out where a contender reports it apart.
By default a contender is stopped once an epoch meets the target (--run-full: each runs to its own
end); --cap-minutes bounds each one's training (lstmkit's --minutes; Keras is stopped after the epoch
that passes it). Output under --out (bench/out/quality): table.md, raw.json (every epoch record, the
load averages before and after each contender), time_to_quality.png, logs/ and runs/.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TASKS = {  # metric, target, whether higher is better, lstmkit's history key
    "sentiment": {"metric": "validation accuracy", "target": 0.85, "higher": True, "key": "val_accuracy"},
    "textgen": {"metric": "held-out nats/char", "target": 1.67, "higher": False, "key": "val_nats_per_char"},
}
CONTENDERS = ("keras", "lstmkit-lecture", "lstmkit-fast")
KERAS_VENV = "bench/out/peers/venv-keras/bin/python"


class Missing(Exception):
    """Bad input: one line naming what is missing and how to get it (exit 2)."""


class Parser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}; see {self.prog} --help\n")


# --- pure parts: records, time to target, the table -----------------------------------------------
def keras_rows(log_text: str) -> list[dict]:
    """The rows of a lecture-keras script's `EPOCH {json}` lines (a line still being written is skipped)."""
    rows = []
    for line in log_text.splitlines(keepends=True):
        if line.startswith("EPOCH ") and line.endswith("\n"):
            try:
                rows.append(json.loads(line[len("EPOCH "):]))
            except json.JSONDecodeError:
                continue
    return rows


def keras_records(rows: list[dict], task: str) -> list[dict]:
    """-> [{epoch, seconds (cumulative, evaluation included), train_seconds (or None), metric}].
    imdb_lecture.py's wall_s runs from on_epoch_begin to on_epoch_end, validation included;
    char_lecture.py's epoch_wall_s is training only, its stride-3 scoring timed apart."""
    records, total, train = [], 0.0, 0.0
    for row in rows:
        if task == "sentiment":
            total += row["wall_s"]
            records.append({"epoch": row["epoch"], "seconds": round(total, 2), "train_seconds": None,
                            "metric": row["val_acc"]})
        else:
            train += row["epoch_wall_s"]
            total += row["epoch_wall_s"] + row["val_eval_wall_s_stride3"]
            records.append({"epoch": row["epoch"], "seconds": round(total, 2), "train_seconds": round(train, 2),
                            "metric": row["val_nats_stride3"]})
    return records


def lstmkit_records(history_text: str, key: str) -> list[dict]:
    """history.jsonl (one row per validated epoch: seconds of training, val_seconds, the metric) -> records."""
    records, total, train = [], 0.0, 0.0
    for line in history_text.splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        if key not in row:
            continue
        train += row["seconds"]
        total += row["seconds"] + row.get("val_seconds", 0.0)
        records.append({"epoch": row["epoch"], "seconds": round(total, 2), "train_seconds": round(train, 2),
                        "metric": row[key]})
    return records


def meets(value: float, target: float, higher: bool) -> bool:
    return value >= target if higher else value <= target


def time_to_target(records: list[dict], target: float, higher: bool) -> dict:
    """The first epoch meeting the target, and the best value -> {reached, epoch, seconds, train_seconds, best}."""
    result = {"reached": False, "epoch": None, "seconds": None, "train_seconds": None, "best": None}
    if records:
        result["best"] = (max if higher else min)(record["metric"] for record in records)
    hit = next((record for record in records if meets(record["metric"], target, higher)), None)
    if hit:
        result.update(reached=True, epoch=hit["epoch"], seconds=hit["seconds"], train_seconds=hit["train_seconds"])
    return result


def _seconds(value) -> str:
    return "—" if value is None else f"{value:.1f} s"


def render_table(results: list[dict], header: str = "") -> str:
    """Markdown: one row per contender; the ratio is its time over the same task's Keras time."""
    keras_time = {r["task"]: r["outcome"]["seconds"] for r in results
                  if r["contender"] == "keras" and r["outcome"]["reached"]}
    lines = [header] if header else []
    lines += ["| task | contender | command | epochs run | time to target (eval incl.) | train only | best metric "
              "| lstmkit / Keras | load 1-min before → after |", "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        out, task = r["outcome"], TASKS[r["task"]]
        if r.get("error"):
            reach = f"failed: {r['error']}"
        elif out["reached"]:
            reach = f"**{out['seconds']:.1f} s** (epoch {out['epoch']})"
        else:
            reach = "not reached" + (f" (best {out['best']:.4f})" if out["best"] is not None else "")
        best = "—" if out["best"] is None else f"{out['best']:.4f}"
        ratio = "—"
        if r["contender"] != "keras" and out["reached"] and keras_time.get(r["task"]):
            ratio = f"{out['seconds'] / keras_time[r['task']]:.2f}×"
        load = "—"
        if r.get("loadavg_before") and r.get("loadavg_after"):
            load = f"{r['loadavg_before'][0]:.2f} → {r['loadavg_after'][0]:.2f}"
        goal = f"{task['metric']} {'≥' if task['higher'] else '≤'} {task['target']}"
        command = r["command"].replace("|", "\\|")
        lines.append(f"| {r['task']} ({goal}) | {r['contender']} | `{command}` | {len(r['records'])} | {reach} "
                     f"| {_seconds(out['train_seconds']) if out['reached'] else '—'} | {best} | {ratio} | {load} |")
    return "\n".join(lines) + "\n"


# --- the commands --------------------------------------------------------------------------------------
def _shown(path: Path | str) -> str:
    """A path as the command shows it: relative to the repository root (the commands run there) when it is
    in it or beside it, else whole."""
    if not os.path.isabs(path):
        return str(path)
    relative = os.path.relpath(path, ROOT)
    if relative.startswith(os.path.join(os.pardir, os.pardir)):
        return str(path)
    return relative if os.sep in relative else os.path.join(os.curdir, relative)  # never a bare name ($PATH)


def command_for(task: str, contender: str, args, runs: Path) -> tuple[list[str], Path]:
    """-> (argv run from the repository root, the file its per-epoch records go to)."""
    seed, cap, quick = str(args.seed), f"{args.cap_minutes:g}", args.quick
    run = runs / f"{task}-{contender}"
    if contender == "keras":
        script = "imdb_lecture.py" if task == "sentiment" else "char_lecture.py"
        epochs = 1 if quick else (10 if task == "sentiment" else 3)  # the recipe's 10; the char model needs 2
        argv = [_shown(args.keras_python), _shown(args.shared / "bench" / "lecture-keras" / script)]
        argv += ["--cell", "lstm"] if task == "sentiment" else []
        argv += ["--epochs", str(epochs), "--seed", seed, "--out", _shown(run / "result.json")]
        return argv, run / "stdout.log"
    argv = [_shown(args.lstmkit_python), "-m", "lstmkit", task, "train"]
    if task == "sentiment":
        argv += ["--data", _shown(args.shared / "data" / "imdb" / "aclImdb.tar.gz"), "--preset", "lecture"]
        argv += ["--batching", "padded"] if contender == "lstmkit-lecture" else []
    else:
        argv += ["--mode", "lecture"] if contender == "lstmkit-lecture" else ["--preset", "fast"]
    epochs = "1" if quick else ("3" if (task, contender) == ("textgen", "lstmkit-lecture") else None)
    argv += ["--epochs", epochs] if epochs else []  # else the preset's: sentiment 10, textgen fast 30
    argv += ["--out", _shown(run), "--seed", seed, "--minutes", cap, "--quiet"]
    return argv, run / "history.jsonl"


def records_of(task: str, contender: str, source: Path) -> list[dict]:
    if not source.is_file():
        return []
    text = source.read_text(encoding="utf-8", errors="replace")
    if contender == "keras":
        return keras_records(keras_rows(text), task)
    return lstmkit_records(text, TASKS[task]["key"])


# --- checks before anything runs -----------------------------------------------------------------------
def _has_modules(python: Path, modules: dict[str, tuple[str, ...]]) -> dict | None:
    """{module: its distribution's version} in `python`'s environment, found without importing the
    modules (cheap); None if one is absent. `modules` maps each to the distributions that may hold it."""
    code = ("import importlib.util as u, importlib.metadata as m, json, sys\n"
            f"wanted = {modules!r}\n"
            "if not all(u.find_spec(n) for n in wanted): sys.exit(3)\n"
            "def version(names):\n"
            "    for name in names:\n"
            "        try: return m.version(name)\n"
            "        except m.PackageNotFoundError: pass\n"
            "print(json.dumps({n: version(d) for n, d in wanted.items()}))\n")
    try:
        done = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    except OSError:
        return None
    return json.loads(done.stdout) if done.returncode == 0 else None


def preflight(args, tasks: list[str], contenders: list[str]) -> dict:
    """Raises Missing for the first thing a run would lack -> the peers' package versions."""
    versions = {}
    if "keras" in contenders:
        python = args.keras_python
        how = ("build it with `make bench/out/peers/venv-keras/.installed` (tensorflow-cpu 2.21.0 + keras 3.15.1, "
               "bench/peers/README.md) or pass --keras-python PATH")
        if not (python.is_file() and os.access(python, os.X_OK)):
            raise Missing(f"the Keras virtualenv is missing: {_shown(python)} is not an executable file; {how}")
        found = _has_modules(python, {"keras": ("keras",), "tensorflow": ("tensorflow-cpu", "tensorflow")})
        if found is None:
            raise Missing(f"{_shown(python)} has no keras and tensorflow; {how}")
        versions["keras_python"] = found
        for task in tasks:
            script = args.shared / "bench" / "lecture-keras" / ("imdb_lecture.py" if task == "sentiment"
                                                                else "char_lecture.py")
            if not script.is_file():
                raise Missing(f"the lecture's Keras script is missing: {_shown(script)}; it lives in the shared "
                              "folder's bench/lecture-keras/ (pass --shared DIR)")
    if "sentiment" in tasks:
        tar = args.shared / "data" / "imdb" / "aclImdb.tar.gz"
        if not tar.is_file():
            raise Missing(f"the IMDB data is missing: {_shown(tar)}; it is aclImdb v1 "
                          "(https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz, see "
                          "data/imdb/PROVENANCE.md of the shared folder); pass --shared DIR holding data/imdb/")
    if "textgen" in tasks and "keras" in contenders:
        text = args.shared / "data" / "nietzsche" / "nietzsche.txt"
        if not text.is_file():
            raise Missing(f"the Nietzsche text is missing: {_shown(text)} (Keras's copy: "
                          "https://s3.amazonaws.com/text-datasets/nietzsche.txt, see data/nietzsche/PROVENANCE.md "
                          "of the shared folder); pass --shared DIR holding data/nietzsche/")
    if any(c.startswith("lstmkit") for c in contenders):
        found = _has_modules(args.lstmkit_python, {"lstmkit": ("lstmkit",), "torch": ("torch",)})
        if found is None:
            raise Missing(f"lstmkit is not installed for {_shown(args.lstmkit_python)}: `make .venv/.installed`, "
                          "or pass --lstmkit-python PATH")
        versions["lstmkit_python"] = found
    try:
        args.out.mkdir(parents=True, exist_ok=True)
        probe = args.out / ".writable"
        probe.write_text("")
        probe.unlink()
    except OSError as error:
        raise Missing(f"cannot write the results to {_shown(args.out)}: {error.strerror}; pass --out DIR") from None
    return versions


# --- running one contender -----------------------------------------------------------------------------
def stop_reason(records: list[dict], task: str, args, elapsed: float) -> str | None:
    """Why to stop a running contender now, if it should stop: its records meet the target (unless
    --run-full), its counted time passed the cap, or the process has run past cap + prep minutes."""
    spec = TASKS[task]
    if not args.run_full and time_to_target(records, spec["target"], spec["higher"])["reached"]:
        return "target reached"
    if records and records[-1]["seconds"] >= args.cap_minutes * 60:
        return "cap reached"
    if elapsed > (args.cap_minutes + args.prep_minutes) * 60:  # a hung start-up ends too
        return f"wall limit ({args.cap_minutes + args.prep_minutes:g} min)"
    return None


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(process.pid, signum)  # the contender's own process group (started with a new session)
    except ProcessLookupError:
        pass


def run_contender(task: str, contender: str, args, runs: Path, logs: Path) -> dict:
    argv, source = command_for(task, contender, args, runs)
    run = runs / f"{task}-{contender}"
    if run.exists():  # a fresh run: lstmkit refuses to overwrite one, and old records would mislead
        shutil.rmtree(run)
    run.mkdir(parents=True)
    log_path = source if contender == "keras" else logs / f"{task}-{contender}.log"  # Keras's stdout: its records
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1", "SHARED": str(args.shared)}
    spec = TASKS[task]
    command = shlex.join(argv)
    print(f"\n== {task} / {contender}: {command}", flush=True)
    result = {"task": task, "contender": contender, "command": command, "argv": argv, "log": _shown(log_path),
              "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "loadavg_before": list(os.getloadavg()), "stopped": None, "error": None}
    started = time.monotonic()
    kill_at = None
    seen = 0
    with open(log_path, "w") as log:
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            while process.poll() is None:
                time.sleep(args.poll)
                records = records_of(task, contender, source)
                for record in records[seen:]:
                    print(f"   epoch {record['epoch']}: {record['seconds']:.1f} s, {spec['metric']} "
                          f"{record['metric']:.4f}", flush=True)
                seen = len(records)
                now = time.monotonic()
                if result["stopped"] is None:
                    result["stopped"] = stop_reason(records, task, args, now - started)
                    if result["stopped"]:
                        result["observed_wall_s"] = round(now - started, 1)  # start-up and data included
                        _signal_group(process, signal.SIGTERM)  # lstmkit ends at its next step, runs kept
                        kill_at = now + 120
                elif kill_at is not None and now > kill_at:
                    _signal_group(process, signal.SIGKILL)
                    kill_at = None
        except KeyboardInterrupt:
            _signal_group(process, signal.SIGTERM)
            process.wait()
            raise
    result["process_wall_s"] = round(time.monotonic() - started, 1)
    result["rc"] = process.returncode
    result["loadavg_after"] = list(os.getloadavg())
    result["records"] = records_of(task, contender, source)
    result["outcome"] = time_to_target(result["records"], spec["target"], spec["higher"])
    if process.returncode != 0 and result["stopped"] is None:
        lines = [line for line in log_path.read_text(errors="replace").splitlines() if line.strip()]
        result["error"] = f"exit {process.returncode}: {(lines or ['(no output)'])[-1][:200]}"
        print(f"   FAILED, {result['error']} (log: {_shown(log_path)})", flush=True)
    return result


# --- the plot and main -----------------------------------------------------------------------------------
def plot(results: list[dict], path: Path) -> str | None:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed: no plot"
    tasks = list(dict.fromkeys(r["task"] for r in results))
    figure, axes = plt.subplots(1, len(tasks), figsize=(6.5 * len(tasks), 4.2), squeeze=False)
    for axis, task in zip(axes[0], tasks):
        spec = TASKS[task]
        for r in (r for r in results if r["task"] == task and r["records"]):
            axis.plot([p["seconds"] for p in r["records"]], [p["metric"] for p in r["records"]], marker="o",
                      label=r["contender"])
        axis.axhline(spec["target"], color="grey", linestyle=":", label=f"target {spec['target']}")
        axis.set_xlabel("training wall time, held-out evaluation included (s)")
        axis.set_ylabel(spec["metric"])
        axis.set_title(f"{task}: time to {spec['metric']} {'≥' if spec['higher'] else '≤'} {spec['target']}")
        axis.grid(alpha=0.3)
        axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return None


def _names(text: str, allowed, what: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names or any(name not in allowed for name in names):
        raise argparse.ArgumentTypeError(f"{what} must be a comma-separated list of {', '.join(allowed)}; got {text!r}")
    return list(dict.fromkeys(names))


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a number above 0, got {text!r}")
    return value


def parse_args(argv=None):
    parser = Parser(prog="time_to_quality.py", description=__doc__,
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=lambda t: _names(t, TASKS, "--tasks"), default=list(TASKS))
    parser.add_argument("--contenders", type=lambda t: _names(t, CONTENDERS, "--contenders"), default=list(CONTENDERS))
    parser.add_argument("--cap-minutes", type=_positive, help="training time allowed each contender (default 15; "
                                                                  "--quick: 0.25)")
    parser.add_argument("--prep-minutes", type=_positive, default=10.0,
                        help="start-up and data preparation allowed on top of the cap before a contender is stopped")
    parser.add_argument("--keras-python", type=Path, default=ROOT / KERAS_VENV,
                        help=f"Keras's interpreter (default {KERAS_VENV})")
    parser.add_argument("--lstmkit-python", type=Path, default=Path(sys.executable),
                        help="lstmkit's interpreter (default: this one)")
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared",
                        help="the shared folder: data/ and bench/lecture-keras/ (default ../shared)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--run-full", action="store_true", help="do not stop a contender once it meets the target")
    parser.add_argument("--pause", type=float, help="seconds of rest between contenders (default 10; --quick: 0)")
    parser.add_argument("--poll", type=_positive, default=1.0, help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="one short epoch each: a functional check, not a result")
    parser.add_argument("--out", type=Path, help="default bench/out/quality (--quick: bench/out/quality-quick)")
    args = parser.parse_args(argv)
    args.cap_minutes = args.cap_minutes or (0.25 if args.quick else 15.0)
    args.pause = args.pause if args.pause is not None else (0.0 if args.quick else 10.0)
    args.out = args.out or ROOT / "bench" / "out" / ("quality-quick" if args.quick else "quality")
    for name in ("keras_python", "lstmkit_python", "shared", "out"):  # a relative path: from the current folder
        setattr(args, name, getattr(args, name).absolute())  # not resolve(): a venv's python is a link
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        versions = preflight(args, args.tasks, args.contenders)
    except Missing as missing:
        print(f"time_to_quality.py: {missing}", file=sys.stderr)
        return 2
    runs, logs = args.out / "runs", args.out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    results = []
    try:
        for task in args.tasks:
            for contender in args.contenders:
                if results and args.pause:
                    time.sleep(args.pause)
                results.append(run_contender(task, contender, args, runs, logs))
    except KeyboardInterrupt:
        print("time_to_quality.py: interrupted; the contenders finished so far are written", file=sys.stderr)
    header = (f"Time to quality, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores "
              f"({platform.machine()}), contenders one after another, each capped at {args.cap_minutes:g} min of "
              f"training{', --quick: a functional check, not a result' if args.quick else ''}. Time: the epochs' "
              "wall time summed up to the first epoch meeting the target, held-out evaluation included "
              "(Keras's IMDB epochs hold their validation pass); start-up and data preparation not counted; "
              "train only: the evaluation left out, where reported apart."
              + "".join(f" {_shown(getattr(args, where))}: "
                        + ", ".join(f"{name} {version}" for name, version in found.items()) + "."
                        for where, found in versions.items()) + "\n")
    table = render_table(results, header)
    print("\n" + table)
    (args.out / "table.md").write_text(table, encoding="utf-8")
    note = plot(results, args.out / "time_to_quality.png") if results else "nothing ran: no plot"
    raw = {"args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
           "versions": versions, "cpu_count": os.cpu_count(), "platform": platform.platform(),
           "time_basis": "seconds: training + held-out evaluation, summed over epochs; train_seconds: training only",
           "targets": TASKS, "results": results}
    (args.out / "raw.json").write_text(json.dumps(raw, indent=1), encoding="utf-8")
    print(f"written: {_shown(args.out / 'table.md')}, {_shown(args.out / 'raw.json')}"
          + (f"; {note}" if note else f", {_shown(args.out / 'time_to_quality.png')}"))
    return 1 if any(r["error"] for r in results) or len(results) < len(args.tasks) * len(args.contenders) else 0


if __name__ == "__main__":
    sys.exit(main())
