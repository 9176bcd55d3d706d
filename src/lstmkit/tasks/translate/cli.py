"""`lstmkit translate train|run|evaluate`."""

from __future__ import annotations

import sys

from ...cli.options import add_common, add_train_options, config_from, examples, print_json, read_inputs
from ...limits import flag_type
from . import LIMITS
from .pairs import ANKI_URL


def _train(args) -> None:
    from .. import translate

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


def _run(args) -> None:
    from ...api import load
    from .. import translate

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
        print_json([{"source": s, "translation": t} for s, t in zip(sentences, translations)])
    else:
        for translation in translations:
            print(translation)
    if keep:
        print(f"attention heat map saved in {args.show_attention}", file=sys.stderr)


def _evaluate(args) -> None:
    from .. import translate

    report = translate.evaluate(args.run, args.pairs, beam=args.beam, alpha=args.alpha, language=args.language,
                                device=args.device, examples=args.examples, bf16=args.bf16)
    if args.json:
        print_json(report)
        return
    where = args.pairs or f"{args.run}/test.tsv"
    decoding = (f"beam {args.beam}" if args.beam > 1 else "greedy") + (", bfloat16" if args.bf16 else "")
    print(f"{where}: {report['sentences']:,} English sentences ({report['pairs']:,} pairs), {decoding} decoding")
    print(f"BLEU {report['bleu']:.2f}   chrF {report['chrf']:.2f}   exact match {report['exact_match']:.3f}")
    for example in report.get("examples", []):
        print(f"  {example['source']}\n    -> {example['translation']}\n    reference: "
              + " | ".join(example["references"]))


def add_verbs(verbs) -> None:
    _add_train(verbs)

    run = verbs.add_parser("run", help="translate sentences",
                           epilog=examples(('lstmkit translate run en-de "I love you." "Where is the station?"',
                                            "the installed English-German model"),
                                           ("lstmkit translate run runs/de --file sentences.txt --beam 5",
                                            "your run, one sentence per line, beam search")))
    run.add_argument("run", metavar="RUN")
    run.add_argument("texts", nargs="*", metavar="SENTENCE", help="none or '-': one per line from --file or stdin")
    run.add_argument("--file", help="one sentence per line ('-': stdin)")
    run.add_argument("--show-attention", metavar="PNG", help="save the attention heat map (runs with --attention)")
    _decoding_options(run)
    run.set_defaults(handler=_run)

    evaluate = verbs.add_parser("evaluate", help="BLEU, chrF and exact match on the test split or a pairs file",
                                epilog=examples(("lstmkit translate evaluate en-de --beam 5",
                                                 "the installed model on its held-out test pairs"),
                                                ("lstmkit translate evaluate runs/de --pairs mine.tsv --json",
                                                 "your run on a pairs file of your own, as JSON")))
    evaluate.add_argument("run", metavar="RUN")
    evaluate.add_argument("--pairs", metavar="FILE",
                          help="score every pair of this file (default: the run's test split)")
    evaluate.add_argument("--examples", type=flag_type("examples", LIMITS), default=5, help="example translations to show")
    _decoding_options(evaluate)
    evaluate.set_defaults(handler=_evaluate)


def _add_train(verbs) -> None:
    from .config import PRESETS as TRANSLATE_PRESETS

    train = verbs.add_parser("train", help="train a translation model on sentence pairs",
                             epilog=examples(("lstmkit translate train --pairs deu-eng.zip --out runs/de",
                                              "the lecture's seq2seq on the Anki pairs"),
                                             ("lstmkit translate train --pairs deu-eng.zip --preset best --minutes 60 "
                                              "--out runs/de-best", "the best recipe, for an hour")))
    train.add_argument("--pairs", required=True, metavar="FILE",
                       help=f"English<TAB>translation lines (a manythings.org/anki file, .txt/.tsv or its .zip: "
                            f"{ANKI_URL})")
    train.add_argument("--bidirectional", action="store_true", help="the same as --encoder bilstm")
    add_train_options(train, TRANSLATE_PRESETS)
    train.set_defaults(handler=_train)


def _decoding_options(parser):
    parser.add_argument("--beam", type=flag_type("beam", LIMITS), default=1, help="beam width (1: greedy)")
    parser.add_argument("--alpha", type=flag_type("alpha", LIMITS),
                        default=1.0, help="beam length normalisation: score / length**alpha")
    parser.add_argument("--language", help="target language of a multi-task run (default: the main one)")
    parser.add_argument("--bf16", action="store_true",
                        help="matrix products in bfloat16: faster in batches on CPUs with AMX; translations "
                             "may differ where two tokens score almost alike")
    add_common(parser, as_json=True)
