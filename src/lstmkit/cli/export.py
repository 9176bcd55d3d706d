"""`lstmkit export RUN --format onnx --out PATH`: a trained run as ONNX graphs (lstmkit/export)."""

from __future__ import annotations

import sys

from ..errors import MissingDependency
from .options import examples

MISSING = "lstmkit export needs the onnx extra: pip install 'lstmkit[onnx]'"


def _export(args) -> int:
    from ..export import export_onnx

    try:
        written = export_onnx(args.run, args.out)
    except MissingDependency:  # a missing extra is a bad setup of this command, said as one line: exit 2
        print(f"lstmkit: error: {MISSING}", file=sys.stderr)
        return 2
    for path in written:
        print(path)
    return 0


def add(commands) -> None:
    export = commands.add_parser("export", help="write a trained run as ONNX graphs, for onnxruntime and other "
                                                "programs (vocabulary and settings in their metadata)",
                                 epilog=examples(("lstmkit export imdb-lstm --out imdb-lstm.onnx", "one graph"),
                                                 ("lstmkit export runs/de --out onnx-de",
                                                  "a translator: onnx-de/encoder.onnx, onnx-de/decoder-deu.onnx")))
    export.add_argument("run", metavar="RUN", help="a run directory of any task")
    export.add_argument("--format", choices=["onnx"], default="onnx", help="the file format (default onnx)")
    export.add_argument("--out", required=True, metavar="PATH",
                        help="the .onnx file to write; for a translate run a folder, which gets encoder.onnx and "
                             "decoder-LANG.onnx for each target language")
    export.set_defaults(handler=_export)
