"""lstmkit export: every task's graphs under onnxruntime give PyTorch's outputs within 1e-5, the files
carry what another program needs, and the docs' onnxruntime-only example gives what lstmkit gives."""

import dataclasses
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

onnxruntime = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

import lstmkit  # noqa: E402
from lstmkit.export import models  # noqa: E402
from lstmkit.tasks.sentiment import SentimentConfig  # noqa: E402
from lstmkit.tasks.sentiment.model import SentimentModel, probabilities  # noqa: E402
from lstmkit.tasks.textgen import CharModel, TextgenConfig  # noqa: E402
from lstmkit.tasks.translate import Seq2Seq, TranslateConfig  # noqa: E402
from lstmkit.tasks.translate.model import Seq2SeqSteps  # noqa: E402
from lstmkit.text.tokens import START  # noqa: E402

TOLERANCE = 1e-5
DOCS = Path(__file__).parents[1] / "docs" / "API.md"


def session(graph_or_path):
    """An onnxruntime session of a Graph (built with empty metadata) or of a file."""
    source = str(graph_or_path) if isinstance(graph_or_path, Path) else graph_or_path.model({}).SerializeToString()
    return onnxruntime.InferenceSession(source, providers=["CPUExecutionProvider"])


def shaken(model):
    """The model in eval mode, every weight moved by noise so that no bias is a plain 0 or 1."""
    torch.manual_seed(1)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.3)
    return model.eval()


def padded(batch, time, vocab, lengths):
    ids = torch.randint(4, vocab, (batch, time))
    lengths = torch.tensor(lengths)
    ids[torch.arange(time)[None] >= lengths[:, None]] = 0
    return ids, lengths


def assert_close(got, want):
    want = want.numpy() if isinstance(want, torch.Tensor) else want
    finite = np.isfinite(want)
    assert (np.isfinite(got) == finite).all()  # the decoder's -inf logits (padding, start) stay -inf
    assert np.abs(got[finite] - want[finite]).max(initial=0.0) <= TOLERANCE


@pytest.mark.parametrize("rnn, bidirectional, layers, pooling, classes", [
    ("lstm", False, 1, "last", 2), ("lstm", True, 2, "max", 2), ("gru", True, 1, "mean", 3),
    ("simplernn", False, 2, "last", 3), ("lstm", False, 1, "mean", 2)])
def test_sentiment_graph_gives_pytorchs_probabilities(rnn, bidirectional, layers, pooling, classes):
    config = SentimentConfig(rnn=rnn, bidirectional=bidirectional, layers=layers, pooling=pooling, embedding_dim=6,
                             units=5, classes=tuple("abc"[:classes]))
    model = shaken(SentimentModel(config, 30, classes))
    ids, lengths = padded(5, 9, 30, [9, 3, 1, 7, 5])
    with torch.no_grad():
        want = probabilities(model(ids, lengths))
    [got] = session(models.sentiment(model, list(config.classes))).run(None, {"ids": ids.numpy(),
                                                                                "lengths": lengths.numpy()})
    assert got.shape == (5, classes)
    assert_close(got, want)


@pytest.mark.parametrize("embedding_dim, layers", [(0, 1), (4, 2)])
def test_textgen_graph_primes_and_steps_as_the_sampler(embedding_dim, layers):
    model = shaken(CharModel(TextgenConfig(embedding_dim=embedding_dim, hidden=8, layers=layers), 12))
    sampler, graph = model.sampler(), session(models.textgen(model))
    seeds = torch.randint(0, 12, (3, 7))
    with torch.no_grad():
        (logits, states, _), _ = sampler.start(seeds)
    zeros = np.zeros((layers, 3, 8), dtype=np.float32)
    got_logits, state_h, state_c = graph.run(None, {"ids": seeds.numpy(), "state_h": zeros, "state_c": zeros})
    assert_close(got_logits, logits)
    assert_close(state_c, torch.stack([c for _, c in states]))
    for _ in range(3):
        token = logits.argmax(-1)
        with torch.no_grad():
            logits, states, _ = sampler.step(token, states)
        got_logits, state_h, state_c = graph.run(None, {"ids": token[:, None].numpy(), "state_h": state_h,
                                                        "state_c": state_c})
        assert_close(got_logits, logits)
        assert_close(state_h, torch.stack([h for h, _ in states]))
        assert_close(state_c, torch.stack([c for _, c in states]))


@pytest.mark.parametrize("settings", [dict(), dict(encoder="bilstm", attention=True, layers=2),
                                      dict(level="word", embedding_dim=5, attention=True, scaled_attention=True)])
def test_translate_graphs_encode_and_step_as_the_decoder(settings):
    config = dataclasses.replace(TranslateConfig(hidden=8), **settings)
    model = shaken(Seq2Seq(config, 15, {"deu": 11}))
    steps = Seq2SeqSteps(model, "deu")
    source, lengths = padded(4, 6, 15, [6, 2, 4, 1])
    with torch.no_grad():
        memory, mask, states = model.encode(source, lengths)
    got_memory, state_h, state_c = session(models.translate_encoder(model)).run(
        None, {"ids": source.numpy(), "lengths": lengths.numpy()})
    assert_close(got_memory, memory)
    assert_close(state_h, torch.stack([h for h, _ in states]))
    assert_close(state_c, torch.stack([c for _, c in states]))
    decoder = session(models.translate_decoder(model, "deu"))
    tokens = torch.full((4,), START)
    for _ in range(3):
        with torch.no_grad():
            logits, states, attention = steps.step(tokens, states, (memory, mask))
        feed = {"token": tokens.numpy(), "state_h": state_h, "state_c": state_c}
        if config.attention:
            feed |= {"memory": got_memory, "lengths": lengths.numpy()}
        got = decoder.run(None, feed)
        assert_close(got[0], logits)
        assert_close(got[1], torch.stack([h for h, _ in states]))
        if config.attention:
            assert_close(got[3], attention)
        state_h, state_c, tokens = got[1], got[2], logits.argmax(-1)


def docs_example() -> dict:
    """The functions of docs/API.md's onnxruntime example, run from the docs' own text."""
    section = DOCS.read_text(encoding="utf-8").split("## Exported models (ONNX)")[1].split("\n## ")[0]
    [code] = re.findall(r"```python\n(.*?)```", section, re.S)
    assert "lstmkit" not in code and "torch" not in code  # onnxruntime and numpy only
    namespace = {}
    exec(compile(code, str(DOCS), "exec"), namespace)
    return namespace


def test_export_command_writes_each_task_and_the_docs_example_uses_it(trained_runs, run_cli, tmp_path):
    example = docs_example()
    code, out, err = run_cli("export", trained_runs["sentiment"], "--format", "onnx", "--out", tmp_path / "s.onnx")
    assert (code, err, out) == (0, "", f"{tmp_path / 's.onnx'}\n")
    texts = ["good great wonderful film<br />", "dull and awful, a weak plot!", "the movie was a story zyzzyva"]
    classifier = lstmkit.load(trained_runs["sentiment"])
    got = example["classify"](str(tmp_path / "s.onnx"), texts)
    want = classifier.predict(texts)
    assert [label for label, _ in got] == [item["label"] for item in want]
    assert np.abs(np.array([p for _, p in got]) - [item["probability"] for item in want]).max() <= TOLERANCE

    padded = tmp_path / "padded"  # the same weights, predicting as the lecture pads: to maxlen, 0s first
    shutil.copytree(trained_runs["sentiment"], padded)
    saved = json.loads((padded / "config.json").read_text(encoding="utf-8"))
    saved["config"]["batching"] = "padded"
    (padded / "config.json").write_text(json.dumps(saved), encoding="utf-8")
    assert run_cli("export", padded, "--out", tmp_path / "p.onnx")[0] == 0
    got = example["classify"](str(tmp_path / "p.onnx"), texts)
    want = lstmkit.load(padded).predict(texts)
    assert np.abs(np.array([p for _, p in got]) - [item["probability"] for item in want]).max() <= TOLERANCE

    assert run_cli("export", trained_runs["textgen"], "--out", tmp_path / "t.onnx")[0] == 0
    generator = lstmkit.load(trained_runs["textgen"])
    seed = "the will to power"
    assert example["generate"](str(tmp_path / "t.onnx"), seed, 40) == generator.sample(seed, 40, strategy="greedy")[0]

    code, out, _ = run_cli("export", trained_runs["translate"], "--out", tmp_path / "translate")
    files = sorted(path.name for path in (tmp_path / "translate").iterdir())
    language = lstmkit.load(trained_runs["translate"]).model.languages[0]
    assert code == 0 and files == ["decoder-" + language + ".onnx", "encoder.onnx"]
    assert out.split() == [str(tmp_path / "translate" / name) for name in ("encoder.onnx", files[0])]


def test_exported_files_carry_their_vocabulary_settings_and_io(trained_runs, run_cli, tmp_path):
    assert run_cli("export", trained_runs["translate"], "--out", tmp_path)[0] == 0
    translator = lstmkit.load(trained_runs["translate"])
    for path in sorted(tmp_path.glob("*.onnx")):
        graph = session(path)
        meta = graph.get_modelmeta().custom_metadata_map
        assert meta["lstmkit_version"] == lstmkit.__version__ and meta["task"] == "translate"
        assert json.loads(meta["config"])["config"]["hidden"] == translator.config.hidden
        assert set(json.loads(meta["vocab"])) == {"source", "targets"}
        settings = json.loads(meta["preprocessing"])
        assert settings["max_source"] == translator.max_source and settings["start_id"] == START
        io = json.loads(meta["io"])
        assert [item["name"] for item in io["inputs"]] == [item.name for item in graph.get_inputs()]
        assert [item["name"] for item in io["outputs"]] == [item.name for item in graph.get_outputs()]
        assert all(item["meaning"] and item["dtype"] and item["shape"] for item in io["inputs"] + io["outputs"])
        expected = translator.source if meta["graph"] == "encoder" else translator.targets[meta["language"]]
        assert json.loads(meta["tokens"]) == expected.tokens


def test_a_bad_run_or_a_missing_extra_is_one_line_and_exit_2(trained_runs, run_cli, tmp_path, monkeypatch):
    code, out, err = run_cli("export", tmp_path / "nothing", "--out", tmp_path / "model.onnx")
    assert code == 2 and out == "" and len(err.splitlines()) == 1 and str(tmp_path / "nothing") in err
    code, _, err = run_cli("export", trained_runs["translate"], "--out", trained_runs["translate"] / "config.json")
    assert code == 2 and "give a folder" in err
    monkeypatch.setitem(sys.modules, "onnx", None)  # as if onnx were not installed
    code, out, err = run_cli("export", trained_runs["sentiment"], "--out", tmp_path / "model.onnx")
    assert (code, out, err) == (2, "", "lstmkit: error: lstmkit export needs the onnx extra: "
                                       "pip install 'lstmkit[onnx]'\n")
    assert not (tmp_path / "model.onnx").exists()


def test_the_benchmark_runs_with_tiny_settings():
    script = Path(__file__).parents[1] / "bench" / "onnx_export.py"
    done = subprocess.run([sys.executable, script, "--reps", "1", "--seconds", "0.01", "--threads", "1",
                           "--words", "5"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ") and "x |" in line]
    assert [row.split(" | ")[0] for row in rows] == ["| sentiment predict", "| textgen step", "| translate step"]
