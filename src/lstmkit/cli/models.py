"""`lstmkit models [NAME]`: the trained models installed with lstmkit (catalogue.py), or one's card."""

from __future__ import annotations

from .. import catalogue
from .options import examples, print_json


def _megabytes(count: int) -> str:
    return f"{count / 1e6:.1f} MB"


def _models(args) -> None:
    if args.name:
        model = catalogue.named(args.name)
        if args.json:
            print_json({**model.listing(), "card": catalogue.card(args.name)})
        else:
            print(catalogue.card(args.name), end="")
        return
    models = list(catalogue.catalogue().values())
    if args.json:
        print_json([model.listing() for model in models])
        return
    if not models:
        print("no trained models are installed: pip install lstmkit-models (or train your own: lstmkit TASK train)")
        return
    rows = [("name", "task", "size", "test metric", "data licence")]
    rows += [(model.name + (" *" if model.default else ""), model.task, _megabytes(model.size),
              f"{model.metric['name']} {model.metric['value']}", model.licence) for model in models]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1])
    print("* served by `lstmkit serve` with no RUN; `lstmkit models NAME` prints a model's card")


def add(commands) -> None:
    models = commands.add_parser("models", help="list the trained models installed with lstmkit, or print one's card",
                                 epilog=examples(("lstmkit models", "name, task, size, metric and licence of each"),
                                                 ("lstmkit models imdb-best", "its card: how it was trained and "
                                                                              "measured, what it is not good at")))
    models.add_argument("name", nargs="?", metavar="NAME", help="a model's name: print its card")
    models.add_argument("--json", action="store_true", help="print JSON")  # a list of models, or one with its card
    models.set_defaults(handler=_models)
