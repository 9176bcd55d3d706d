"""`lstmkit inspect RUN TEXT`: the LSTM's gates and cell state over a text (the web page's "inside
the LSTM"), as a picture or JSON."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import SettingsError
from ..limits import flag_type
from .options import add_common, examples


def _inspect(args) -> None:
    from ..api import load
    from ..inspection import plot_inspection

    predictor = load(args.run, args.device)
    inspection = predictor.inspect(args.text)
    if args.layer > len(inspection.names):
        raise SettingsError("layer", f"{args.layer}: {args.run} has {len(inspection.names)} LSTM layer(s)")
    units = plot_inspection(inspection, args.out, units=_units(args.units), layer=args.layer - 1,
                            title=f"{Path(args.run).name}: {_shortened(args.text)}") if args.out else None
    if args.json or not args.out:
        print(json.dumps(inspection.to_json()))
    elif args.out:
        print(f"gates and cell state of units {', '.join(map(str, units))} ({inspection.names[args.layer - 1]}) "
              f"over {len(inspection.tokens)} steps saved in {args.out}")


def _shortened(text: str, most: int = 50) -> str:
    return repr(text if len(text) <= most else text[: most - 1] + "…")


def _units(text: str | None) -> list[int] | None:
    """--units "3, 17" -> [3, 17]; None when not given."""
    if text is None:
        return None
    try:
        return [int(unit) for unit in text.split(",") if unit.strip()]
    except ValueError:
        raise ValueError(f"--units: must be unit numbers separated by commas, got {text!r}") from None


def add(commands) -> None:
    inspect = commands.add_parser("inspect", help="the LSTM's gates and cell state over a text, as a picture or JSON",
                                  epilog=examples(('lstmkit inspect nietzsche-fast "the will to power" --out gates.png',
                                                   "heat maps of the 8 most active units"),
                                                  ('lstmkit inspect imdb-lstm "A moving film." --units 0,5',
                                                   "two units' gate values, as JSON")))
    inspect.add_argument("run", metavar="RUN", help="a run directory of any task")
    inspect.add_argument("text", metavar="TEXT", help="the text to read (translate runs: English)")
    inspect.add_argument("--out", metavar="PNG", help="save heat maps of the forget, input and output gates and the "
                                                      "cell state here (without it: the values as JSON)")
    inspect.add_argument("--units", metavar="N,N,...",
                         help="units to draw (default: the 8 whose cell state varies most)")
    inspect.add_argument("--layer", type=flag_type("layer"), default=1, help="which LSTM layer (default 1)")
    add_common(inspect, as_json=True)
    inspect.set_defaults(handler=_inspect)
