"""The `lstmkit` command. Thin: parse the arguments, call the library, print.

Errors are one line on stderr: exit code 2 for bad arguments or input, 1 for anything else;
a traceback only with --debug.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shlex
import sys
import warnings

from . import __version__
from .errors import DataError, DiskFull, MissingDependency, RunError, SettingsError
from .limits import flag, flag_type
from .nn import summary
from .presets import PRESETS
from .training import distributed, interrupts, runlock
from .training.optimizers import OPTIMIZERS
from .training.recipe import RESUMABLE
from .training.run import RunDirectory


def _summary(args) -> None:
    preset = PRESETS[args.preset]
    summary(preset.build(), preset.example(), name=args.preset)


def _demo(args) -> None:
    import tempfile

    from .api import load
    from .tasks import textgen

    config = dataclasses.replace(textgen.PRESETS["fast"], minutes=args.minutes, epochs=100)
    with tempfile.TemporaryDirectory() as scratch:
        out = args.out or scratch
        print(f"Training the char model on {args.text or 'the lecture Nietzsche text'} for about "
              f"{args.minutes:g} minutes (fast mode: LSTM(256), every position predicts the next char)")
        result = textgen.train(config, args.text, out, progress=not args.quiet)
        best = result["best"]
        print(f"held-out loss {best['val_nats_per_char']:.3f} nats/char ({best['val_bits_per_char']:.3f} bits/char) "
              f"after {len(result['history'])} epochs")
        generator = load(out, task="textgen")
        for temperature in (0.2, 0.5, 1.0):
            print(f"\n--- temperature {temperature} ---\n{textgen.LECTURE_SEED}", end="")
            generator.sample(textgen.LECTURE_SEED, args.length, temperature=temperature, rng_seed=0,
                             on_text=lambda chars: print(chars, end="", flush=True))
            print()


def add_train_options(parser: argparse.ArgumentParser, presets: dict) -> None:
    """The options every task's `train` takes (guide §2b)."""
    parser.add_argument("--out", required=True, metavar="RUN", help="run directory to write")
    parser.add_argument("--preset", choices=sorted(presets), default="lecture",
                        help="starting recipe; the options below override it (default: lecture)")
    parser.add_argument("--epochs", type=flag_type("epochs"))
    parser.add_argument("--batch-size", type=flag_type("batch_size"))
    parser.add_argument("--lr", type=flag_type("lr"), help="learning rate")
    parser.add_argument("--ema", type=flag_type("ema"), metavar="DECAY",
                        help="validate and keep a moving average of the weights, updated every step with this "
                             "decay (such as 0.999)")
    parser.add_argument("--seed", type=flag_type("seed"))
    parser.add_argument("--minutes", type=flag_type("minutes"),
                        help="stop after this much training time in all (the epoch in progress ends early)")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument("--resume", action="store_true", help="continue the run in --out from its last epoch")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--processes", type=flag_type("processes"), default=1, metavar="N",
                        help="train in N processes on this machine, each on its share of every batch "
                             "(one process's result, dropout aside; see docs/DISTRIBUTED.md)")


def add_recurrent_options(parser: argparse.ArgumentParser, embedding_help: str) -> None:
    """The model and optimisation options textgen and translate share."""
    parser.add_argument("--lowercase", action=argparse.BooleanOptionalAction)
    parser.add_argument("--hidden", type=flag_type("hidden"), help="units per LSTM layer")
    parser.add_argument("--layers", type=flag_type("layers"))
    parser.add_argument("--dropout", type=flag_type("dropout"))
    parser.add_argument("--embedding-dim", type=flag_type("embedding_dim"), help=embedding_help)
    parser.add_argument("--optimizer", choices=OPTIMIZERS)
    parser.add_argument("--lr-decay", type=flag_type("lr_decay"), help="learning rate x this after every epoch")
    parser.add_argument("--clip-norm", type=flag_type("clip_norm"),
                        help="clip the gradient norm at this (0: no clipping)")


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
                          f"may change {', '.join(map(flag, RESUMABLE))})", stacklevel=2)
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
            raise DataError(f"--file {args.file}: not UTF-8 (byte {error.start}); expected one {what} per line") from None
    elif from_stdin or args.file == "-" or not sys.stdin.isatty():
        lines = sys.stdin.read().splitlines()
    else:
        raise DataError(f"no {what} given; pass it as an argument, with --file FILE, or on standard input")
    texts = [line for line in lines if line.strip()]
    if not texts:
        raise DataError(f"no {what} to read: the input holds only empty lines")
    return texts


def _print_json(value) -> None:
    print(json.dumps(value, indent=1, ensure_ascii=False))


def _print_report(report: dict) -> None:
    print(f"accuracy  {report['accuracy']:.4f}   ({report['count']:,} texts)")
    print(f"precision {report['precision']:.4f}\nrecall    {report['recall']:.4f}\nf1        {report['f1']:.4f}")
    classes = report["classes"]
    width = max(len(name) for name in classes + ["true \\ predicted"]) + 2
    print("true \\ predicted".ljust(width) + "".join(name.rjust(width) for name in classes))
    for name, row in zip(classes, report["confusion_matrix"]):
        print(name.ljust(width) + "".join(f"{count:,}".rjust(width) for count in row))


# --- sentiment -------------------------------------------------------------------------------
def _sentiment_train(args) -> None:
    from .tasks import sentiment

    config = config_from(args, sentiment.PRESETS)
    result = sentiment.train(config, args.data, args.out, resume=args.resume, device=args.device,
                             text_column=args.text_column, label_column=args.label_column,
                             group_column=args.group_column, unlabelled=args.unlabelled, progress=not args.quiet)
    validation = result["validation"]
    if validation["accuracy"] is not None:
        print(f"best epoch {validation['epoch']}: validation accuracy {validation['accuracy']:.4f}")
    if "test" in result:
        print(f"test accuracy {result['test']['accuracy']:.4f} on {result['test']['count']:,} texts "
              f"(best checkpoint)")
    print(f"run saved in {args.out}")


def _sentiment_evaluate(args) -> None:
    from .tasks import sentiment

    report = sentiment.evaluate([args.run, *args.ensemble], args.data, device=args.device,
                                text_column=args.text_column, label_column=args.label_column)
    if args.json:
        _print_json(report)
    else:
        ensemble = f", {report['runs']} runs averaged" if report["runs"] > 1 else ""
        print(f"{report['source']} ({report['split']} split{ensemble})")
        _print_report(report)


def _sentiment_predict(args) -> None:
    from .api import load

    classifier = load(args.run, args.device, ensemble=args.ensemble, task="sentiment")
    results = classifier.predict(read_inputs(args, "text"))
    if args.json:
        _print_json(results)
        return
    for item in results:
        excerpt = item["text"] if len(item["text"]) <= 70 else item["text"][:67] + "..."
        print(f"{item['label']}\t{item['probability']:.3f}\t{excerpt}")


def _sentiment_vectors(args) -> None:
    from .tasks import sentiment

    vectors = sentiment.pretrain_word_vectors(args.data, args.dim, unlabelled=args.unlabelled, seed=args.seed)
    vectors.save_word2vec_format(args.out, binary=False)
    print(f"{len(vectors.key_to_index):,} word vectors of size {args.dim} saved in {args.out} "
          f"(use with train --pretrained {args.out})")


def _add_sentiment(commands) -> None:
    from .tasks.sentiment import POOLING, PRESETS as SENTIMENT_PRESETS, RECURRENT

    task = commands.add_parser("sentiment", help="text classification (the lecture's IMDB model)")
    verbs = task.add_subparsers(dest="verb", metavar="VERB", required=True)

    def data_options(parser, required=True):
        parser.add_argument("--data", required=required, metavar="PATH",
                            help="aclImdb .tar.gz or folder, a folder of class sub-folders, or CSV/TSV/JSONL")
        parser.add_argument("--text-column", help="CSV/TSV/JSONL column with the text (default: text, or review)")
        parser.add_argument("--label-column", help="column with the label (default: label, or sentiment)")

    train = verbs.add_parser("train", help="train a classifier")
    data_options(train)
    add_train_options(train, SENTIMENT_PRESETS)
    train.add_argument("--rnn", choices=sorted(RECURRENT))
    train.add_argument("--layers", type=flag_type("layers"), help="stacked recurrent layers")
    train.add_argument("--units", type=flag_type("units"), help="units per recurrent layer")
    train.add_argument("--bidirectional", action=argparse.BooleanOptionalAction)
    train.add_argument("--dropout", type=flag_type("dropout"), help="input dropout of each recurrent layer")
    train.add_argument("--embedding-dim", type=flag_type("embedding_dim"))
    train.add_argument("--num-words", type=flag_type("num_words"),
                       help="vocabulary size (with padding and unknown ids)")
    train.add_argument("--maxlen", type=flag_type("maxlen"), help="words kept per text (its last ones)")
    train.add_argument("--pooling", choices=POOLING, help="last state, or max/mean over time")
    train.add_argument("--pretrained", metavar="word2vec|FILE",
                       help="'word2vec' trains vectors on the unlabelled texts; or a GloVe/word2vec text file")
    train.add_argument("--unlabelled", metavar="PATH", help="aclImdb with train/unsup for --pretrained word2vec "
                                                             "(default: --data)")
    train.add_argument("--freeze-embedding", action=argparse.BooleanOptionalAction)
    train.add_argument("--unfreeze-after", type=flag_type("unfreeze_after"), metavar="EPOCHS")
    train.add_argument("--optimizer", choices=OPTIMIZERS)
    train.add_argument("--val-split", type=flag_type("val_split"))
    train.add_argument("--val-by-group", action=argparse.BooleanOptionalAction,
                       help="keep each group (aclImdb: each movie) wholly in training or in validation, as its "
                            "test movies are disjoint from its training movies")
    train.add_argument("--group-column", help="CSV/TSV/JSONL column saying what a text is about, for --val-by-group")
    train.add_argument("--patience", type=flag_type("patience"),
                       help="early stopping: epochs without a better validation score")
    train.add_argument("--monitor", choices=["val_accuracy", "val_loss"],
                       help="what picks the best checkpoint (default val_accuracy; Keras's ModelCheckpoint uses val_loss)")
    train.add_argument("--clip-norm", type=flag_type("clip_norm"),
                       help="clip the gradient norm at this (0: no clipping)")
    train.add_argument("--batching", choices=["length", "padded"],
                       help="length: similar lengths together, real words only (default); padded: the lecture's")
    train.add_argument("--micro-batch", type=flag_type("micro_batch"),
                       help="CPU: run each batch in chunks of this size (0: off)")
    train.set_defaults(handler=_sentiment_train)

    vectors = verbs.add_parser("vectors", help="pretrain word vectors (word2vec) on the unlabelled and training texts")
    vectors.add_argument("--data", required=True, metavar="PATH", help="aclImdb .tar.gz or folder")
    vectors.add_argument("--unlabelled", metavar="PATH", help="where train/unsup is, if not in --data")
    vectors.add_argument("--dim", type=flag_type("dim"), default=32, help="vector size (default 32)")
    vectors.add_argument("--seed", type=flag_type("seed"), default=0)
    vectors.add_argument("--out", required=True, metavar="FILE", help="word2vec text file to write")
    vectors.set_defaults(handler=_sentiment_vectors)

    def ensemble_option(parser) -> None:
        parser.add_argument("--ensemble", action="append", default=[], metavar="RUN",
                            help="another run of the same classes whose probabilities are averaged with RUN's "
                                 "(repeat for more)")

    evaluate = verbs.add_parser("evaluate", help="accuracy, precision/recall/F1 and confusion matrix")
    evaluate.add_argument("run", metavar="RUN")
    ensemble_option(evaluate)
    data_options(evaluate)
    evaluate.add_argument("--device", choices=["auto", "cpu", "cuda"], default="cpu")
    evaluate.add_argument("--json", action="store_true")
    evaluate.set_defaults(handler=_sentiment_evaluate)

    predict = verbs.add_parser("predict", help="label and probability for texts")
    predict.add_argument("run", metavar="RUN")
    predict.add_argument("texts", nargs="*", metavar="TEXT",
                         help="texts to classify; none or '-': one per line from --file or stdin")
    predict.add_argument("--file", metavar="FILE", help="one text per line ('-': standard input)")
    ensemble_option(predict)
    predict.add_argument("--device", choices=["auto", "cpu", "cuda"], default="cpu")
    predict.add_argument("--json", action="store_true")
    predict.set_defaults(handler=_sentiment_predict)


# --- textgen ---------------------------------------------------------------------------------
def _textgen_train(args) -> None:
    from .tasks import textgen

    args.preset = args.preset or args.mode or "fast"  # --mode lecture alone means the lecture's recipe
    result = textgen.train(config_from(args, textgen.PRESETS), args.text, args.out, resume=args.resume,
                           device=args.device, progress=not args.quiet)
    best = result["best"]
    if best:
        print(f"best epoch {best['epoch']}: held-out {best['val_nats_per_char']:.4f} nats/char "
              f"({best['val_bits_per_char']:.4f} bits/char)")
    print(f"run saved in {args.out}")


def _textgen_sample(args) -> None:
    from .api import load

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
        _print_json([{"seed_text": args.seed_text, "sample": text} for text in samples])
    elif stream:
        print("" if seed_shown else args.seed_text)
    else:
        for number, text in enumerate(samples, 1):
            print(f"--- sample {number} ---\n{args.seed_text}{text}")


def _textgen_evaluate(args) -> None:
    from .tasks import textgen

    report = textgen.evaluate(args.run, args.text, device=args.device)
    if args.json:
        _print_json(report)
    else:
        print(f"{args.text}: {report['nats_per_char']:.4f} nats/char, {report['bits_per_char']:.4f} bits/char "
              f"over {report['characters']:,} characters")
        if report["skipped_unknown_characters"]:
            print(f"skipped {report['skipped_unknown_characters']:,} characters the model never saw: "
                  f"{report['unknown']!r}")


def _add_textgen(commands) -> None:
    from .sampling import STRATEGIES
    from .tasks.textgen import LECTURE_SEED, PRESETS as TEXTGEN_PRESETS

    task = commands.add_parser("textgen", help="character-level text generation (the lecture's Nietzsche model)")
    verbs = task.add_subparsers(dest="verb", metavar="VERB", required=True)
    train = verbs.add_parser("train", help="train a character model on a text file")
    train.add_argument("--text", metavar="FILE", help="UTF-8 text (default: the shipped Nietzsche text)")
    add_train_options(train, TEXTGEN_PRESETS)
    train.set_defaults(preset=None)
    train.add_argument("--mode", choices=["lecture", "fast"], help="lecture: 60-char pairs; fast: every position")
    add_recurrent_options(train, "0: one-hot inputs")
    train.add_argument("--window", type=flag_type("window"), help="fast mode: characters per window")
    train.add_argument("--held-out", type=flag_type("held_out"),
                       help="fraction of the text's end held out (default 0.1)")
    train.set_defaults(handler=_textgen_train)

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
    sample.add_argument("--json", action="store_true")
    sample.set_defaults(handler=_textgen_sample)

    evaluate = verbs.add_parser("evaluate", help="nats/char and bits/char on a text")
    evaluate.add_argument("run", metavar="RUN")
    evaluate.add_argument("--text", required=True, metavar="FILE")
    evaluate.add_argument("--device", choices=["auto", "cpu", "cuda"], default="cpu")
    evaluate.add_argument("--json", action="store_true")
    evaluate.set_defaults(handler=_textgen_evaluate)


# --- translate -------------------------------------------------------------------------------
def _translate_train(args) -> None:
    from .tasks import translate

    if args.encoder is None and args.bidirectional:
        args.encoder = "bilstm"
    result = translate.train(config_from(args, translate.PRESETS), args.pairs, args.out, resume=args.resume,
                             device=args.device, progress=not args.quiet)
    best = result["best"]
    if best:
        print(f"best epoch {best['epoch']}: validation BLEU {best['val_bleu']:.2f}, chrF {best['val_chrf']:.2f}")
    for sentence, translation in zip(translate.LECTURE_EXAMPLES, result["translator"].translate(
            list(translate.LECTURE_EXAMPLES))):
        print(f"  {sentence} -> {translation}")
    print(f"run saved in {args.out} (test split in {args.out}/test.tsv; score it with `lstmkit translate "
          f"evaluate {args.out}`)")


def _translate_run(args) -> None:
    from .api import load
    from .tasks import translate

    translator = load(args.run, args.device, task="translate")
    sentences = read_inputs(args, "sentence")
    keep = bool(args.show_attention)
    if keep and not translator.config.attention:
        raise ValueError(f"--show-attention: {args.run} was trained without --attention; there is no heat map")
    if keep and args.beam > 1:
        raise ValueError("--show-attention works with greedy decoding; leave out --beam")
    result = translator.translate(sentences, language=args.language, beam=args.beam, alpha=args.alpha,
                                  keep_attention=keep, bf16=args.bf16)
    translations, maps = result if keep else (result, None)
    if keep:
        translate.plot_attention(maps, args.show_attention)
    if args.json:
        _print_json([{"source": s, "translation": t} for s, t in zip(sentences, translations)])
    else:
        for translation in translations:
            print(translation)
    if keep:
        print(f"attention heat map saved in {args.show_attention}", file=sys.stderr)


def _translate_evaluate(args) -> None:
    from .tasks import translate

    report = translate.evaluate(args.run, args.pairs, beam=args.beam, alpha=args.alpha, language=args.language,
                                device=args.device, examples=args.examples, bf16=args.bf16)
    if args.json:
        _print_json(report)
        return
    where = args.pairs or f"{args.run}/test.tsv"
    decoding = (f"beam {args.beam}" if args.beam > 1 else "greedy") + (", bfloat16" if args.bf16 else "")
    print(f"{where}: {report['sentences']:,} English sentences ({report['pairs']:,} pairs), {decoding} decoding")
    print(f"BLEU {report['bleu']:.2f}   chrF {report['chrf']:.2f}   exact match {report['exact_match']:.3f}")
    for example in report.get("examples", []):
        print(f"  {example['source']}\n    -> {example['translation']}\n    reference: "
              + " | ".join(example["references"]))


def _add_translate(commands) -> None:
    from .tasks.translate import PRESETS as TRANSLATE_PRESETS

    task = commands.add_parser("translate", help="sequence-to-sequence translation (the lecture's English->German)")
    verbs = task.add_subparsers(dest="verb", metavar="VERB", required=True)
    train = verbs.add_parser("train", help="train a translation model on sentence pairs")
    train.add_argument("--pairs", required=True, metavar="FILE",
                       help="English<TAB>translation lines (a manythings.org/anki file, .txt/.tsv or its .zip)")
    add_train_options(train, TRANSLATE_PRESETS)
    train.add_argument("--level", choices=["char", "word"])
    train.add_argument("--encoder", choices=["lstm", "bilstm"])
    train.add_argument("--bidirectional", action="store_true", help="the same as --encoder bilstm")
    train.add_argument("--attention", action=argparse.BooleanOptionalAction, help="Luong attention")
    train.add_argument("--also", nargs="+", metavar="FILE",
                       help="more <lang>-eng files: multi-task, one shared encoder, a decoder per language")
    add_recurrent_options(train, "0: one-hot inputs (char level)")
    train.add_argument("--strip-punctuation", action=argparse.BooleanOptionalAction)
    train.add_argument("--max-length", type=flag_type("max_length"),
                       help="leave out training pairs with a longer side (tokens)")
    train.add_argument("--source-vocab", type=flag_type("source_vocab"), help="English tokens kept")
    train.add_argument("--target-vocab", type=flag_type("target_vocab"), help="tokens kept per target language")
    train.add_argument("--patience", type=flag_type("patience"),
                       help="epochs without a better validation BLEU before stopping")
    train.add_argument("--test-pairs", type=flag_type("test_pairs"), help="pairs held out for test (default 5000)")
    train.add_argument("--validation-pairs", type=flag_type("validation_pairs"))
    train.add_argument("--split-seed", type=flag_type("split_seed"))
    train.add_argument("--bleu-sentences", type=flag_type("bleu_sentences"),
                       help="validation sentences translated every epoch")
    train.add_argument("--bf16-output", action=argparse.BooleanOptionalAction,
                       help="output layer in bfloat16 while training (~3.5x faster matrix products on a CPU)")
    train.set_defaults(handler=_translate_train)

    def decoding_options(parser):
        parser.add_argument("--beam", type=flag_type("beam"), default=1, help="beam width (1: greedy)")
        parser.add_argument("--alpha", type=flag_type("alpha"),
                            default=1.0, help="beam length normalisation: score / length**alpha")
        parser.add_argument("--language", help="target language of a multi-task run (default: the main one)")
        parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="cpu")
        parser.add_argument("--bf16", action="store_true",
                            help="matrix products in bfloat16: faster in batches on CPUs with AMX; translations "
                                 "may differ where two tokens score almost alike")
        parser.add_argument("--json", action="store_true")

    run = verbs.add_parser("run", help="translate sentences")
    run.add_argument("run", metavar="RUN")
    run.add_argument("texts", nargs="*", metavar="SENTENCE", help="none or '-': one per line from --file or stdin")
    run.add_argument("--file", help="one sentence per line ('-': stdin)")
    run.add_argument("--show-attention", metavar="PNG", help="save the attention heat map (runs with --attention)")
    decoding_options(run)
    run.set_defaults(handler=_translate_run)

    evaluate = verbs.add_parser("evaluate", help="BLEU, chrF and exact match on the test split or a pairs file")
    evaluate.add_argument("run", metavar="RUN")
    evaluate.add_argument("--pairs", metavar="FILE", help="score every pair of this file (default: the run's test split)")
    evaluate.add_argument("--examples", type=flag_type("examples"), default=5, help="example translations to show")
    decoding_options(evaluate)
    evaluate.set_defaults(handler=_translate_evaluate)


class _Version(argparse.Action):
    """--version: what a bug report needs, then exit."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        import platform

        import torch

        cuda = (f"CUDA {torch.version.cuda} usable ({torch.cuda.get_device_name(0)})" if torch.cuda.is_available()
                else "CUDA not usable" + (f" (torch built for CUDA {torch.version.cuda})" if torch.version.cuda else ""))
        print(f"lstmkit {__version__}, torch {torch.__version__}, Python {platform.python_version()}; {cuda}")
        parser.exit()


class _Parser(argparse.ArgumentParser):
    """A bad argument is one line, exit 2 (argparse prints the whole usage block first)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}; see {self.prog} --help\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="lstmkit", description="The LSTM lecture as a toolkit.")
    parser.add_argument("--version", action=_Version, help="the versions of lstmkit, torch and Python, and CUDA")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    show = commands.add_parser("summary", help="print a lecture model's Keras-style summary")
    show.add_argument("preset", choices=sorted(PRESETS), metavar="PRESET",
                      help="one of: " + ", ".join(sorted(PRESETS)))
    show.set_defaults(handler=_summary)

    demo = commands.add_parser("demo", help="train the lecture's char model for ~2 minutes and sample from it")
    demo.add_argument("--minutes", type=flag_type("minutes"), default=2.0, help="training time (default 2)")
    demo.add_argument("--text", help="a UTF-8 text file (default: the shipped Nietzsche text)")
    demo.add_argument("--length", type=flag_type("length"), default=300, help="characters per sample")
    demo.add_argument("--out", metavar="RUN", help="keep the run here (default: a temporary folder)")
    demo.add_argument("--quiet", action="store_true")
    demo.set_defaults(handler=_demo)
    _add_sentiment(commands)
    _add_textgen(commands)
    _add_translate(commands)
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
        from .training.launch import run_processes

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
        code = args.handler(args)  # None, or an exit code (the launcher of several processes)
    except (DataError, RunError, SettingsError, ValueError) as error:  # bad input or arguments
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
