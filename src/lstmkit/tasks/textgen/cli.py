"""`lstmkit textgen train|sample|evaluate`, and `lstmkit demo`."""

from __future__ import annotations

import dataclasses
import shlex

from ...cli.options import add_common, add_ensemble, add_train_options, config_from, examples, print_json
from ...limits import flag_type
from ...training.run import RunDirectory
from . import LIMITS


def _train(args) -> None:
    from .. import textgen

    args.preset = args.preset or args.mode or "fast"  # --mode lecture alone means the lecture's recipe
    result = textgen.train(config_from(args, textgen.PRESETS), args.text, args.out, resume=args.resume,
                           device=args.device, progress=not args.quiet)
    best = result["best"]
    if best:
        print(f"best epoch {best['epoch']}: held-out {best['val_nats_per_char']:.4f} nats/char "
              f"({best['val_bits_per_char']:.4f} bits/char)")
    print(f"run saved in {args.out}")


def _sample(args) -> None:
    from ...api import load

    stream = args.num == 1 and not args.json
    seed_shown = False  # the seed text goes out with the first characters: not before the run has loaded

    def show(chars: str) -> None:
        nonlocal seed_shown
        print(("" if seed_shown else args.seed_text) + chars, end="", flush=True)
        seed_shown = True

    generator = load(args.run, ensemble=args.ensemble, task="textgen")
    samples = generator.sample(args.seed_text, args.length, strategy=args.strategy, temperature=args.temperature,
                               top_k=args.top_k, top_p=args.top_p, num=args.num, seed=args.seed,
                               on_text=show if stream else None)
    if args.json:
        print_json([{"seed_text": args.seed_text, "sample": text} for text in samples])
    elif stream:
        print("" if seed_shown else args.seed_text)
    else:
        for number, text in enumerate(samples, 1):
            print(f"--- sample {number} ---\n{args.seed_text}{text}")


def _evaluate(args) -> None:
    from .. import textgen

    report = textgen.evaluate([args.run, *args.ensemble], args.text, device=args.device)
    if args.json:
        print_json(report)
    else:
        ensemble = f" ({report['runs']} runs averaged)" if report["runs"] > 1 else ""
        print(f"{args.text}: {report['nats_per_char']:.4f} nats/char, {report['bits_per_char']:.4f} bits/char "
              f"over {report['characters']:,} characters{ensemble}")
        if report["skipped_unknown_characters"]:
            print(f"skipped {report['skipped_unknown_characters']:,} characters the model never saw: "
                  f"{report['unknown']!r}")


def add_verbs(verbs) -> None:
    from ...generation.sampling import STRATEGIES
    from .config import LECTURE_SEED, PRESETS as TEXTGEN_PRESETS

    train = verbs.add_parser("train", help="train a character model on a text file",
                             epilog=examples(("lstmkit textgen train --out runs/nietzsche",
                                              "the fast recipe on the Nietzsche text that ships with lstmkit"),
                                             ("lstmkit textgen train --text mybook.txt --minutes 10 --out runs/mybook",
                                              "your own UTF-8 text, for ten minutes")))
    train.add_argument("--text", metavar="FILE", help="UTF-8 text (default: the shipped Nietzsche text)")
    add_train_options(train, TEXTGEN_PRESETS, preset_help="default: fast, or --mode's preset when only --mode is given")
    train.set_defaults(preset=None, handler=_train)

    sample = verbs.add_parser("sample", help="generate text from a trained run",
                              epilog=examples(("lstmkit textgen sample nietzsche-fast --temperature 0.5 --seed 0",
                                               "400 characters from the installed model, reproducibly"),
                                              ('lstmkit textgen sample runs/mybook --seed-text "Once upon" --top-p 0.9',
                                               "your run, nucleus sampling")))
    sample.add_argument("run", metavar="RUN")
    sample.add_argument("--seed-text", default=LECTURE_SEED, help="the text the sample continues")
    sample.add_argument("--length", type=flag_type("length", LIMITS), default=400, help="characters to generate (default 400)")
    sample.add_argument("--strategy", choices=STRATEGIES, help="how the next character is drawn (default: temperature, "
                                                                "or the one --top-k / --top-p name)")
    sample.add_argument("--temperature", type=flag_type("temperature", LIMITS), default=1.0,
                        help="below 1: safer, repetitive; above 1: bolder (default 1.0)")
    sample.add_argument("--top-k", type=flag_type("top_k", LIMITS), help="draw among the K likeliest characters")
    sample.add_argument("--top-p", type=flag_type("top_p", LIMITS),
                        help="draw among the likeliest characters that hold probability P")
    sample.add_argument("--num", type=flag_type("num", LIMITS), default=1, help="samples at once")
    sample.add_argument("--seed", type=flag_type("seed", LIMITS), help="random seed, for a reproducible sample")
    add_ensemble(sample, "on the same characters")
    add_common(sample, device=False, as_json=True)
    sample.set_defaults(handler=_sample)

    evaluate = verbs.add_parser("evaluate", help="nats/char and bits/char on a text",
                                epilog=examples(("lstmkit textgen evaluate nietzsche-fast --text held-out.txt",
                                                 "how well the model predicts a text it did not see")))
    evaluate.add_argument("run", metavar="RUN")
    evaluate.add_argument("--text", required=True, metavar="FILE", help="a UTF-8 text to score")
    add_ensemble(evaluate, "on the same characters")
    add_common(evaluate, as_json=True)
    evaluate.set_defaults(handler=_evaluate)


def _demo(args) -> None:
    """Samples from the installed char model (seconds), or trains one for --minutes first: with
    --out, --text or --retrain, or where no trained model is installed."""
    import tempfile

    from ... import catalogue
    from ...api import load
    from .. import textgen

    installed = next((model for model in catalogue.defaults() if model.task == "textgen"), None)
    with tempfile.TemporaryDirectory() as scratch:
        if installed is not None and not (args.out or args.text or args.retrain):
            print(f"The installed char model {installed.name}: {installed.summary} "
                  f"({installed.metric['name']} {installed.metric['value']})")
            generator = load(installed.name, task="textgen")
        else:
            generator = load(_demo_run(args, args.out or scratch), task="textgen")
        for temperature in (0.2, 0.5, 1.0):
            print(f"\n--- temperature {temperature} ---\n{textgen.LECTURE_SEED}", end="")
            generator.sample(textgen.LECTURE_SEED, args.length, temperature=temperature, seed=0,
                             on_text=lambda chars: print(chars, end="", flush=True))
            print()
    lstmkit = _command_name()
    if args.out:
        print(f"\nServe it, with the web page: {lstmkit} serve {shlex.quote(str(args.out))}\n"
              f"then open http://127.0.0.1:8000/")
    elif installed is not None:
        print(f"\nServe the installed models, with the web page: {lstmkit} serve\nthen open http://127.0.0.1:8000/"
              f"\nTrain a char model of your own (~2 minutes): {lstmkit} demo --out runs/demo")
    else:
        print(f"\nKeep a model to serve: {lstmkit} demo --out runs/demo")


def _demo_run(args, out):
    """The demo's run in `out`: the finished one there, else trained now -> `out`."""
    import shutil

    from .. import textgen

    config = dataclasses.replace(textgen.PRESETS["fast"], minutes=args.minutes, epochs=100)
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
    return out


def _command_name() -> str:
    """How the user's shell reaches this lstmkit: `lstmkit` where it is on the PATH, else the script's path
    (a venv that is not activated)."""
    import shutil
    import sys
    from pathlib import Path

    script = Path(sys.executable).parent / "lstmkit"
    found = shutil.which("lstmkit")
    if found and (not script.exists() or Path(found).resolve() == script.resolve()):
        return "lstmkit"
    return shlex.quote(str(script)) if script.exists() else "lstmkit"


def _demo_finished(history: list[dict], config) -> bool:
    """Whether a demo run ended by its own rule (its minutes or epochs), not by an interruption."""
    return len(history) >= config.epochs or sum(row["seconds"] for row in history) >= config.minutes * 60 - 1


def add_demo(commands) -> None:
    demo = commands.add_parser("demo", help="sample from the installed char model; or train one (textgen's fast "
                                            "preset) for ~2 minutes first")
    demo.add_argument("--minutes", type=flag_type("minutes", LIMITS), default=2.0, help="training time (default 2)")
    demo.add_argument("--text", help="a UTF-8 text file (default: the shipped Nietzsche text)")
    demo.add_argument("--length", type=flag_type("length", LIMITS), default=300, help="characters per sample")
    demo.add_argument("--out", metavar="RUN", help="train a model of your own and keep it here; the next time it is "
                                                   "used instead of training again")
    demo.add_argument("--retrain", action="store_true", help="train anew even if --out holds a finished demo run")
    add_common(demo, device=False, quiet=True)
    demo.epilog = examples(("lstmkit demo", "samples from the installed char model at three temperatures"),
                           ("lstmkit demo --out runs/demo", "trains a char model of your own for ~2 minutes first"))
    demo.set_defaults(handler=_demo)
