"""Every script in examples/ runs top to bottom on small data and gives what its docstring promises."""

import importlib.util
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def example(name: str):
    path = EXAMPLES / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_example_is_tested():
    tested = {"01_lstm_equations", "02_imdb_lstm_vs_simplernn", "03_imdb_dropout_stacking_bidirectional",
              "04_imdb_pretrained_embedding", "05_nietzsche_text_generation", "06_translate_english_german"}
    assert {path.stem for path in EXAMPLES.glob("*.py")} == tested


def test_lstm_equations_match_the_layer_and_the_lectures_counts(capsys):
    result = example("01_lstm_equations").main([])
    assert result["lstm_parameters"] == 8_320
    assert result["difference"] < 1e-5
    assert 0.70 < result["forget_gate"] < 0.76
    assert result["models"] == {"IMDB LSTM": 328_353, "stacked 3×LSTM(32)": 344_993, "Bi-LSTM(32)": 336_705,
                                "SimpleRNN(32)": 322_113, "char model": 102_585}
    assert "Total params: 328,353" in capsys.readouterr().out


def test_imdb_lstm_vs_simplernn(tiny_aclimdb, tmp_path, capsys):
    results = example("02_imdb_lstm_vs_simplernn").main(["--data", str(tiny_aclimdb), "--out", str(tmp_path),
                                                         "--epochs", "2"])
    assert set(results) == {"lstm", "simplernn"}
    for rnn, row in results.items():
        assert 0 <= row["test_accuracy"] <= 1 and row["best_epoch"] in (1, 2)
        assert (tmp_path / rnn / "model.safetensors").is_file()
    out = capsys.readouterr().out
    assert "its words: [" in out and "as ids (0 padding, 1 unknown word)" in out
    assert "A wonderful film, the best I have seen this year." in out  # predicted by the trained LSTM


def test_imdb_tricks_rows(tiny_aclimdb, tmp_path, capsys):
    results = example("03_imdb_dropout_stacking_bidirectional").main(
        ["--data", str(tiny_aclimdb), "--out", str(tmp_path), "--rows", "bilstm", "stacked", "--epochs", "1"])
    assert set(results) == {"bilstm", "stacked"}
    out = capsys.readouterr().out
    assert "Total params: 336,705" in out and "Total params: 344,993" in out  # the lecture's counts


def test_imdb_pretrained_embedding_in_three_steps(tiny_aclimdb, tmp_path, capsys):
    result = example("04_imdb_pretrained_embedding").main(["--data", str(tiny_aclimdb), "--out", str(tmp_path),
                                                           "--epochs", "1"])
    header = Path(result["vectors_file"]).read_text(encoding="utf-8").splitlines()[0].split()
    assert header[1] == "32"  # step 2 kept the lecture-sized vectors, in word2vec's text format
    assert "nearest to 'great'" in capsys.readouterr().out
    from lstmkit.tasks.sentiment import load
    model, _, config = load(result["run"])
    assert config.freeze_embedding and not model.embedding.weight.requires_grad  # step 3 kept them frozen


def test_nietzsche_generation_samples_at_three_temperatures(tmp_path):
    text = tmp_path / "nietzsche-start.txt"
    text.write_text((SHARED / "nietzsche" / "nietzsche.txt").read_text(encoding="utf-8")[:20_000], encoding="utf-8")
    result = example("05_nietzsche_text_generation").main(["--text", str(text), "--out", str(tmp_path / "run"),
                                                           "--epochs", "1", "--preset", "fast"])
    assert len(result["history"]) == 1
    assert set(result["samples"]) == {0.2, 0.5, 1.0}
    assert all(len(sample) == 400 for sample in result["samples"].values())


def test_translate_trains_translates_and_scores(tmp_path, capsys):
    pairs = tmp_path / "deu-eng.tsv"
    lines = (SHARED / "anki" / "deu-eng.tsv").read_text(encoding="utf-8").splitlines()[:2000]
    pairs.write_text("\n".join(lines) + "\n", encoding="utf-8")
    scores = example("06_translate_english_german").main(["--pairs", str(pairs), "--out", str(tmp_path / "run"),
                                                          "--minutes", "0.05", "--test-pairs", "100"])
    assert 0 <= scores["bleu"] <= 100 and scores["sentences"] > 0
    out = capsys.readouterr().out
    assert "greedy:" in out and "beam 5:" in out and "Go to sleep. -> " in out


@pytest.mark.parametrize("name", ["02_imdb_lstm_vs_simplernn", "04_imdb_pretrained_embedding",
                                  "06_translate_english_german"])
def test_data_is_required(name, capsys):
    with pytest.raises(SystemExit):
        example(name).main([])
    assert "required" in capsys.readouterr().err
