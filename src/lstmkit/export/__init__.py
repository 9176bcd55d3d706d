"""`lstmkit export`: a trained run as ONNX graphs that onnxruntime (or any ONNX runtime) runs without
lstmkit or PyTorch.

    sentiment  one file: ids (batch, time), lengths (batch,) -> probabilities (batch, classes)
    textgen    one file: ids (batch, time), state_h, state_c (layers, batch, hidden) -> logits (batch,
               vocab) after the last id, new_state_h, new_state_c (time 1: a step; a seed: its prime)
    translate  a folder: encoder.onnx (ids, lengths -> memory, state_h, state_c) and decoder-LANG.onnx
               per target language (token, state_h, state_c [, memory, lengths] -> logits, new states
               [, attention])

Each file's metadata_props (strings, JSON where structured) say what another program needs:
`task`, `graph`, `tokens` (the vocabulary in id order), sentiment's `classes`, `preprocessing`, `io`
(every input and output: name, dtype, shape, meaning), `config` (the run's config.json), `vocab`
(its vocab.json) and `lstmkit_version`.
"""

from __future__ import annotations

from pathlib import Path

from ..api import load
from ..catalogue import located
from ..errors import DataError
from ..text.tokens import PAD, START, STOP, UNKNOWN
from ..training.run import RunDirectory, atomic_write
from . import models
from .graph import OPSET, Graph, onnx_module

FORMATS = ("onnx",)
__all__ = ["FORMATS", "OPSET", "export_onnx", "graphs"]


def graphs(run_path) -> dict[str, tuple[Graph, dict]]:
    """The run's graphs: {file name: (graph, its task-specific metadata)}; sentiment and textgen
    runs give one, named "model.onnx"."""
    run_path = located(run_path)
    run = RunDirectory(run_path)
    task = run.load_config()["task"]
    predictor = load(run_path, "cpu")
    if task == "sentiment":
        model, vocabulary, config = predictor.members[0]
        # "left": the lecture's pad_sequences, 0s first and every row maxlen long (lengths = maxlen)
        preprocessing = {"tokenizer": vocabulary.tokenizer, "maxlen": config.maxlen, "keep": "the last maxlen words",
                         "padding": "right" if config.batching == "length" else "left",
                         "pad_id": vocabulary.ids["pad"], "unknown_id": vocabulary.ids["unknown"]}
        return {"model.onnx": (models.sentiment(model, list(config.classes)),
                               {"graph": "sentiment", "classes": list(config.classes), "tokens": vocabulary.tokens,
                                "preprocessing": preprocessing})}
    if task == "textgen":
        preprocessing = {"tokenizer": "char", "lowercase": predictor.config.lowercase,
                         "unknown": "characters outside the vocabulary are left out"}
        return {"model.onnx": (models.textgen(predictor.model),
                               {"graph": "textgen", "tokens": predictor.vocabulary.tokens,
                                "preprocessing": preprocessing})}
    config = predictor.config
    preprocessing = {"tokenizer": predictor.source.tokenizer, "lowercase": config.lowercase,
                     "strip_punctuation": config.strip_punctuation, "max_source": predictor.max_source,
                     "max_output": predictor.max_output, "pad_id": PAD, "unknown_id": UNKNOWN, "start_id": START,
                     "stop_id": STOP}
    found = {"encoder.onnx": (models.translate_encoder(predictor.model),
                              {"graph": "encoder", "tokens": predictor.source.tokens, "preprocessing": preprocessing})}
    for language, vocabulary in predictor.targets.items():
        found[f"decoder-{language}.onnx"] = (models.translate_decoder(predictor.model, language),
                                             {"graph": "decoder", "language": language, "tokens": vocabulary.tokens,
                                              "preprocessing": preprocessing})
    return found


def export_onnx(run_path, out) -> list[Path]:
    """Writes the run's graphs -> their paths. Sentiment and textgen: the file `out`; translate: the
    folder `out` (made if missing) with encoder.onnx and decoder-LANG.onnx for each target language."""
    onnx_module()  # a missing extra is said before the run is read
    run_path = located(run_path)
    run = RunDirectory(run_path)
    saved, vocab = run.load_config(), run.load_vocab()
    found, out = graphs(run_path), Path(out)
    if len(found) > 1 and out.exists() and not out.is_dir():
        raise DataError(f"--out {out}: a {saved['task']} run exports several files; give a folder, not a file")
    written = []
    for name, (graph, metadata) in found.items():
        path = out / name if len(found) > 1 else out
        model = graph.model({"task": saved["task"], **metadata, "config": saved, "vocab": vocab})
        atomic_write(path, model.SerializeToString())
        written.append(path)
    return written
