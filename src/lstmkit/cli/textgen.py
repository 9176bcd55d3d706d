"""`lstmkit textgen train|sample|evaluate`."""

from __future__ import annotations

from ..limits import flag_type
from .options import add_common, add_recurrent_options, add_train_options, config_from, print_json


def _train(args) -> None:
    from ..tasks import textgen

    args.preset = args.preset or args.mode or "fast"  # --mode lecture alone means the lecture's recipe
    result = textgen.train(config_from(args, textgen.PRESETS), args.text, args.out, resume=args.resume,
                           device=args.device, progress=not args.quiet)
    best = result["best"]
    if best:
        print(f"best epoch {best['epoch']}: held-out {best['val_nats_per_char']:.4f} nats/char "
              f"({best['val_bits_per_char']:.4f} bits/char)")
    print(f"run saved in {args.out}")


def _sample(args) -> None:
    from ..api import load

    stream = args.num == 1 and not args.json
    seed_shown = False  # the seed text goes out with the first characters: not before the run has loaded

    def show(chars: str) -> None:
        nonlocal seed_shown
        print(("" if seed_shown else args.seed_text) + chars, end="", flush=True)
        seed_shown = True

    generator = load(args.run, task="textgen")
    samples = generator.sample(args.seed_text, args.length, strategy=args.strategy, temperature=args.temperature,
                               top_k=args.top_k, top_p=args.top_p, num=args.num, rng_seed=args.seed,
                               on_text=show if stream else None)
    if args.json:
        print_json([{"seed_text": args.seed_text, "sample": text} for text in samples])
    elif stream:
        print("" if seed_shown else args.seed_text)
    else:
        for number, text in enumerate(samples, 1):
            print(f"--- sample {number} ---\n{args.seed_text}{text}")


def _evaluate(args) -> None:
    from ..tasks import textgen

    report = textgen.evaluate(args.run, args.text, device=args.device)
    if args.json:
        print_json(report)
    else:
        print(f"{args.text}: {report['nats_per_char']:.4f} nats/char, {report['bits_per_char']:.4f} bits/char "
              f"over {report['characters']:,} characters")
        if report["skipped_unknown_characters"]:
            print(f"skipped {report['skipped_unknown_characters']:,} characters the model never saw: "
                  f"{report['unknown']!r}")


def add(commands) -> None:
    from ..sampling import STRATEGIES
    from ..tasks.textgen import LECTURE_SEED, PRESETS as TEXTGEN_PRESETS

    task = commands.add_parser("textgen", help="character-level text generation (the lecture's Nietzsche model)")
    verbs = task.add_subparsers(dest="verb", metavar="VERB", required=True)
    train = verbs.add_parser("train", help="train a character model on a text file")
    train.add_argument("--text", metavar="FILE", help="UTF-8 text (default: the shipped Nietzsche text)")
    add_train_options(train, TEXTGEN_PRESETS, preset_help="default: fast, or --mode's preset when only --mode is given")
    train.set_defaults(preset=None)
    train.add_argument("--mode", choices=["lecture", "fast"],
                       help="how samples are cut from the text: lecture: 60-char pairs; fast: every position of a "
                            "window (default: the preset's)")
    add_recurrent_options(train, "0: one-hot inputs")
    train.add_argument("--window", type=flag_type("window"), help="fast mode: characters per window")
    train.add_argument("--held-out", type=flag_type("held_out"),
                       help="fraction of the text's end held out (default 0.1)")
    train.set_defaults(handler=_train)

    sample = verbs.add_parser("sample", help="generate text from a trained run")
    sample.add_argument("run", metavar="RUN")
    sample.add_argument("--seed-text", default=LECTURE_SEED)
    sample.add_argument("--length", type=flag_type("length"), default=400)
    sample.add_argument("--strategy", choices=STRATEGIES)
    sample.add_argument("--temperature", type=flag_type("temperature"), default=1.0)
    sample.add_argument("--top-k", type=flag_type("top_k"))
    sample.add_argument("--top-p", type=flag_type("top_p"))
    sample.add_argument("--num", type=flag_type("num"), default=1, help="samples at once")
    sample.add_argument("--seed", type=flag_type("seed"), help="random seed, for a reproducible sample")
    add_common(sample, device=False, as_json=True)
    sample.set_defaults(handler=_sample)

    evaluate = verbs.add_parser("evaluate", help="nats/char and bits/char on a text")
    evaluate.add_argument("run", metavar="RUN")
    evaluate.add_argument("--text", required=True, metavar="FILE")
    add_common(evaluate, as_json=True)
    evaluate.set_defaults(handler=_evaluate)
