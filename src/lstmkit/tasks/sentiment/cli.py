"""`lstmkit sentiment train|pretrain|vectors|evaluate|predict`."""

from __future__ import annotations

import os
from pathlib import Path

from ...cli.options import (add_common, add_ensemble, add_train_options, config_from, examples, print_json,
                            print_report, read_inputs)
from ...limits import flag_type
from . import LIMITS
from .readers import IMDB_URL

IMDB = "aclImdb_v1.tar.gz"  # the archive as IMDB_URL downloads it


def _train(args) -> None:
    from .. import sentiment

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


def _pretrain(args) -> None:
    from .. import sentiment

    config = config_from(args, sentiment.PRESETS)
    result = sentiment.pretrain(config, args.data, args.out, resume=args.resume, device=args.device,
                                text_column=args.text_column, label_column=args.label_column,
                                unlabelled=args.unlabelled, progress=not args.quiet)
    validation = result["validation"]
    if validation["loss"] is not None:
        print(f"best epoch {validation['epoch']}: held-out {validation['loss']:.4f} nats a word "
              f"(perplexity {validation['perplexity']:.1f})")
    print(f"language model saved in {args.out}; a classifier starts from it with "
          f"`lstmkit sentiment train --init-from {args.out}`")


def _evaluate(args) -> None:
    from .. import sentiment

    report = sentiment.evaluate([args.run, *args.ensemble], args.data, device=args.device,
                                text_column=args.text_column, label_column=args.label_column)
    if args.json:
        print_json(report)
    else:
        ensemble = f", {report['runs']} runs averaged" if report["runs"] > 1 else ""
        print(f"{report['source']} ({report['split']} split{ensemble})")
        print_report(report)


def _predict(args) -> None:
    from ...api import load

    classifier = load(args.run, args.device, ensemble=args.ensemble, task="sentiment")
    results = classifier.predict(read_inputs(args, "text"))
    if args.json:
        print_json(results)
        return
    for item in results:
        excerpt = item["text"] if len(item["text"]) <= 70 else item["text"][:67] + "..."
        print(f"{item['label']}\t{item['probability']:.3f}\t{excerpt}")


def _vectors(args) -> None:
    from .. import sentiment

    out = Path(args.out)
    if not out.parent.is_dir():  # said before the minutes of training, not after
        raise ValueError(f"--out {out}: the folder {out.parent} does not exist; expected a file in an existing folder")
    vectors = sentiment.pretrain_word_vectors(args.data, args.dim, unlabelled=args.unlabelled, seed=args.seed)
    # written beside and renamed: a stopped or failed save never leaves a truncated vectors file at --out
    partial = out.with_name(f".{out.name}.part")
    try:
        vectors.save_word2vec_format(str(partial), binary=False)
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    print(f"{len(vectors.key_to_index):,} word vectors of size {args.dim} saved in {args.out} "
          f"(use with train --pretrained {args.out})")


def add_verbs(verbs) -> None:
    _add_train(verbs)
    _add_pretrain(verbs)

    vectors = verbs.add_parser("vectors", help="pretrain word vectors (word2vec) on the unlabelled and training texts",
                               epilog=examples((f"lstmkit sentiment vectors --data {IMDB} --dim 100 --out imdb-w2v.txt",
                                                "word2vec on the unlabelled and training reviews")))
    vectors.add_argument("--data", required=True, metavar="PATH", help=f"aclImdb .tar.gz or folder ({IMDB_URL})")
    vectors.add_argument("--unlabelled", metavar="PATH", help="where train/unsup is, if not in --data")
    vectors.add_argument("--dim", type=flag_type("dim", LIMITS), default=32, help="vector size (default 32)")
    vectors.add_argument("--seed", type=flag_type("seed", LIMITS), default=0,
                         help="word2vec's seed (default 0); its two worker threads still make the vectors of two "
                              "runs differ a little")
    vectors.add_argument("--out", required=True, metavar="FILE", help="word2vec text file to write")
    vectors.set_defaults(handler=_vectors)

    evaluate = verbs.add_parser("evaluate", help="accuracy, precision/recall/F1 and confusion matrix",
                                epilog=examples((f"lstmkit sentiment evaluate imdb-best --data {IMDB}",
                                                 "the installed model on IMDB's 25,000 test reviews"),
                                                ("lstmkit sentiment evaluate runs/mine --data test.csv --json",
                                                 "your run on a labelled CSV, as JSON")))
    evaluate.add_argument("run", metavar="RUN")
    add_ensemble(evaluate, "of the same classes")
    _data_options(evaluate)
    add_common(evaluate, as_json=True)
    evaluate.set_defaults(handler=_evaluate)

    predict = verbs.add_parser("predict", help="label and probability for texts",
                               epilog=examples(('lstmkit sentiment predict imdb-best "A moving film." "Dull."',
                                                "the label and probability of each text"),
                                               ("lstmkit sentiment predict runs/mine --file reviews.txt --json",
                                                "one text per line, as JSON")))
    predict.add_argument("run", metavar="RUN")
    predict.add_argument("texts", nargs="*", metavar="TEXT",
                         help="texts to classify; none or '-': one per line from --file or stdin")
    predict.add_argument("--file", metavar="FILE", help="one text per line ('-': standard input)")
    add_ensemble(predict, "of the same classes")
    add_common(predict, as_json=True)
    predict.set_defaults(handler=_predict)


def _add_train(verbs) -> None:
    from .config import PRESETS

    train = verbs.add_parser("train", help="train a classifier",
                             epilog=examples((f"lstmkit sentiment train --data {IMDB} --out runs/imdb",
                                              "the lecture's Embedding -> LSTM(32) -> Dense(1)"),
                                             ("lstmkit sentiment train --data reviews.csv --preset best --out runs/mine",
                                              "your own labelled CSV (text, label), the best recipe")))
    _data_options(train)
    train.add_argument("--unlabelled", metavar="PATH", help="aclImdb with train/unsup for --pretrained word2vec "
                                                             "(default: --data)")
    train.add_argument("--group-column", help="CSV/TSV/JSONL column saying what a text is about, for --val-by-group")
    add_train_options(train, PRESETS)
    train.set_defaults(handler=_train)


def _add_pretrain(verbs) -> None:
    from .config import PRESETS

    pretrain = verbs.add_parser(
        "pretrain", help="pretrain a classifier's embedding and recurrent layers as a language model",
        description="A language model with the classifier's shape (the same settings as train) reads the training "
                    "and unlabelled texts, never the test texts; `train --init-from RUN` then starts from its "
                    "layers (Dai & Le's SA-LSTM; with --gradual-unfreezing, ULMFiT's fine-tuning).",
        epilog=examples((f"lstmkit sentiment pretrain --data {IMDB} --preset best --minutes 60 --out runs/imdb-lm",
                         "an hour of the best model's layers on the 75,000 training and unlabelled reviews"),
                        (f"lstmkit sentiment pretrain --data {IMDB} --preset best --minutes 60 --out runs/imdb-lm "
                         "--resume", "an hour more of it, from its last epoch")))
    _data_options(pretrain)
    pretrain.add_argument("--unlabelled", metavar="PATH", help="aclImdb with train/unsup (default: --data, if it "
                                                               "has them)")
    add_train_options(pretrain, PRESETS)
    pretrain.set_defaults(handler=_pretrain)


def _data_options(parser, required=True):
    parser.add_argument("--data", required=required, metavar="PATH",
                        help=f"aclImdb .tar.gz or folder ({IMDB_URL}), a folder of class "
                             "sub-folders, or CSV/TSV/JSONL")
    parser.add_argument("--text-column", help="CSV/TSV/JSONL column with the text (default: text, or review)")
    parser.add_argument("--label-column", help="column with the label (default: label, or sentiment)")

