"""Every variant of every lecture model, one process per measurement, interleaved with the order rotated
each repetition; then the table (standard library only).

    make bench-peers                                    # builds the peers' virtualenvs, then runs this
    .venv/bin/python bench/peers/run.py [--reps 3] [--seconds 8] [--infer-seconds 4] [--quick]

Writes OUT/raw.jsonl (one RESULT per line, with rep and the load average around the process) and
OUT/table.md; a full run in which every measurement succeeded also puts the table into
docs/RESULTS.md between the peers markers.
`--quick` is a functional check (tiny runs, one rep) and never touches docs/RESULTS.md.
"""

import argparse
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]
import source_at  # noqa: E402
import specs  # noqa: E402
import table  # noqa: E402

ROOT = HERE.parents[1]


def arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "peers")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=8.0, help="timed training per measurement, about")
    parser.add_argument("--infer-seconds", type=float, default=4.0)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--models", default=",".join(specs.MODELS))
    parser.add_argument("--batches", default=",".join(map(str, specs.BATCHES)))
    parser.add_argument("--variants", default=",".join(specs.DEFAULT_VARIANTS))
    parser.add_argument("--before", metavar="REF", help="also run lstmkit as it was at git REF (its src/ unpacked "
                        "under OUT), for per-rep ratios after/before")
    parser.add_argument("--quick", action="store_true", help="one rep of tiny runs; docs/RESULTS.md untouched")
    parser.add_argument("--results", type=Path, default=ROOT / "docs" / "RESULTS.md")
    parser.add_argument("--keras-python", help="default: OUT/venv-keras/bin/python")
    parser.add_argument("--torch-python", help="default: OUT/venv-torch/bin/python")
    parser.add_argument("--lstmkit-python", default=sys.executable)
    args = parser.parse_args(argv)
    args.given = list(sys.argv[1:] if argv is None else argv)  # for the table's header
    if args.quick:
        args.reps, args.seconds, args.infer_seconds = 1, 0.3, 0.2
    for name in ("keras", "torch"):
        if getattr(args, f"{name}_python") is None:
            setattr(args, f"{name}_python", str(args.out / f"venv-{name}" / "bin" / "python"))
    for name in ("models", "batches", "variants"):
        values = [v for v in getattr(args, name).split(",") if v]
        known = specs.MODELS if name == "models" else specs.VARIANTS if name == "variants" else None
        if known is not None and set(values) - set(known):
            parser.error(f"unknown {name}: {sorted(set(values) - set(known))}; known: {', '.join(known)}")
        setattr(args, name, [int(v) for v in values] if name == "batches" else values)
    if args.before and "lstmkit_before" not in args.variants:
        args.variants.append("lstmkit_before")
    if "lstmkit_before" in args.variants:
        if not args.before:
            parser.error("the lstmkit_before variant needs --before REF")
        args.before_src = before_tree(args.before, args.out, args.lstmkit_python) / "src"
    for interpreter in {specs.VARIANTS[variant][0] for variant in args.variants}:
        if not os.access(getattr(args, f"{interpreter}_python"), os.X_OK):
            parser.error(f"no {interpreter} interpreter at {getattr(args, f'{interpreter}_python')}: "
                         "`make bench-peers` builds the peers' virtualenvs")
    return args


def before_tree(ref: str, out: Path, python: str) -> Path:
    """The project's src/ as it was at git `ref`, unpacked under `out` once per commit with its C
    extensions built by `python` -> its folder."""
    return source_at.unpack(ref, out / f"before-{source_at.short_commit(ref)}", python).parent


def run_one(args, rep: int, model: str, batch: int, variant: str) -> dict | None:
    """Runs one measurement in its own process -> its RESULT with rep and load averages, or None."""
    interpreter, script, extra = specs.VARIANTS[variant]
    command = [getattr(args, f"{interpreter}_python"), str(HERE / script), "--model", model, "--batch", str(batch),
               "--seconds", str(args.seconds), "--infer-seconds", str(args.infer_seconds),
               "--threads", str(args.threads), *extra]
    if args.quick:
        command += ["--min-batches", "4"]
    before = os.getloadavg()
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    if variant == "lstmkit_before":  # the unpacked source comes first on the path
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(args.before_src), env.get("PYTHONPATH")]))
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode or not lines:
        print(f"FAILED {variant} {model} batch {batch}: {shlex.join(command)}\n{done.stderr[-2000:]}", file=sys.stderr)
        return None
    result = json.loads(lines[-1][len("RESULT "):])
    result.update(variant=variant, rep=rep, process_loadavg=dict(before=before, after=os.getloadavg()))
    if variant == "lstmkit_before":
        result["source"] = str(args.before_src)
    return result


def measure_ceiling(args) -> dict | None:
    """ceiling.py's float32 matrix-product rate on the measurement's threads, in lstmkit's interpreter."""
    command = [args.lstmkit_python, str(HERE / "ceiling.py"), "--threads", str(args.threads),
               "--seconds", "1" if args.quick else "5"]
    done = subprocess.run(command, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode or not lines:
        print(f"FAILED ceiling: {shlex.join(command)}\n{done.stderr[-2000:]}", file=sys.stderr)
        return None
    return json.loads(lines[-1][len("RESULT "):])


def machine() -> str:
    """'model name, N cores' from lscpu (platform's processor name where lscpu is missing)."""
    try:
        info = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
        name = fields.get("Model name", "").strip() or platform.processor()
    except OSError:
        name = platform.processor()
    return f"{name}, {os.cpu_count()} cores"


def before_name(args) -> str:
    """'REF (commit)', or the commit alone when REF is that commit."""
    commit = args.before_src.parent.name[len("before-"):]
    return commit if args.before.startswith(commit) else f"{args.before} ({commit})"


def header(args, results: list[dict]) -> str:
    versions = {}
    for row in results:
        versions.update(row.get("versions", {}))
    given = list(args.given)
    if "--out" in given:  # make passes --out itself
        del given[given.index("--out"): given.index("--out") + 2]
    command = "make bench-peers" + (f" PEERS_ARGS='{shlex.join(given)}'" if given else "")
    reps, threads = f"{args.reps} rep" + "s" * (args.reps != 1), f"{args.threads} thread" + "s" * (args.threads != 1)
    return (f"Command: `{command}` ({reps} × {args.seconds:g} s training + {args.infer_seconds:g} s "
            f"inference per measurement, {threads}). Machine: {machine()}. "
            f"Date: {datetime.date.today().isoformat()}. "
            f"Versions: {', '.join(f'{k} {v}' for k, v in sorted(versions.items()))}."
            + (f" lstmkit before: {before_name(args)}." if args.before else "")
            + "".join(f" Matmul ceiling: {row['gflops']:.1f} GFLOP/s (float32, `ceiling.py`)."
                      for row in results if row["variant"] == "ceiling")
            + "\n\n"
            "Samples/s, steady state, median over reps; ratios are per rep against the best peer of that rep.")


def main(argv=None) -> int:
    args = arguments(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    raw = args.out / "raw.jsonl"
    raw.write_text("")
    results, failures = [], 0
    ceiling = measure_ceiling(args)
    if ceiling:
        results.append(ceiling)
        with raw.open("a") as file:
            file.write(json.dumps(ceiling) + "\n")
        print(f"matmul ceiling: {ceiling['gflops']:.1f} GFLOP/s on {ceiling['threads']} thread(s)", flush=True)
    for rep in range(args.reps):
        for model in args.models:
            for batch in args.batches:
                turn = rep % len(args.variants)  # rotate who runs first, so no variant always meets the same load
                for variant in args.variants[turn:] + args.variants[:turn]:
                    result = run_one(args, rep, model, batch, variant)
                    if result is None:
                        failures += 1
                        continue
                    results.append(result)
                    with raw.open("a") as file:
                        file.write(json.dumps(result) + "\n")
                    rates = ", ".join(f"{k} {result[k]:.0f}" for k in ("train_sps", "infer_sps") if k in result)
                    print(f"rep {rep} {model} batch {batch} {variant}: {rates}", flush=True)
    if not results:
        return 1
    text = table.render(results, header(args, results))
    (args.out / "table.md").write_text(text)
    print(text)
    if failures:  # a missing peer would flatter the ratios: such a table stays out of the results
        print(f"{failures} measurement(s) failed; {args.results} left as it was", file=sys.stderr)
        return 1
    if not args.quick:
        args.results.write_text(table.replace_between_markers(args.results.read_text(encoding="utf-8"), text),
                                encoding="utf-8")
        print(f"written into {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
