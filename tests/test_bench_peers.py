"""bench/peers: the driver runs the PyTorch and lstmkit variants of the smallest model for a fraction of a
second each and writes RESULT lines of the expected shape; the table and its markers. (Keras is not in
the project's virtualenv, so its variants run only under `make bench-peers`.)"""

import json
import sys
from pathlib import Path

import pytest

PEERS = Path(__file__).resolve().parents[1] / "bench" / "peers"
sys.path.insert(0, str(PEERS))
import run  # noqa: E402
import table  # noqa: E402


def test_the_torch_and_lstmkit_variants_write_one_result_each(tmp_path):
    results = tmp_path / "results.md"
    results.write_text("before\n<!-- peers:start -->\nold\n<!-- peers:end -->\nafter\n")
    code = run.main(["--quick", "--threads", "1", "--models", "char_lstm", "--batches", "4",
                     "--variants", "torch,lstmkit", "--torch-python", sys.executable,
                     "--out", str(tmp_path), "--results", str(results)])
    assert code == 0
    rows = [json.loads(line) for line in (tmp_path / "raw.jsonl").read_text().splitlines()]
    ceiling = rows.pop(0)  # measured once, first
    assert ceiling["variant"] == "ceiling" and ceiling["gflops"] > 0 and ceiling["threads"] == 1
    assert sorted(row["variant"] for row in rows) == ["lstmkit", "torch"]
    for row in rows:
        assert row["model"] == "char_lstm" and row["batch"] == 4 and row["rep"] == 0 and row["threads"] == 1
        assert row["train_sps"] > 0 and row["infer_sps"] > 0 and row["train_batches"] >= 4
        for phase in ("train_loadavg", "infer_loadavg", "process_loadavg"):
            assert len(row[phase]["before"]) == 3 and len(row[phase]["after"]) == 3
    lstmkit = next(row for row in rows if row["variant"] == "lstmkit")
    assert lstmkit["params"] == 102_585  # the lecture's count (one bias per gate)
    text = (tmp_path / "table.md").read_text()
    assert "| char LSTM(128) | 4 | training |" in text and "share of the matmul ceiling" in text
    assert "old" in results.read_text()  # --quick leaves the results document alone


def test_a_failed_measurement_keeps_its_table_out_of_the_results(tmp_path, capsys):
    results = tmp_path / "results.md"
    results.write_text("<!-- peers:start -->\nold\n<!-- peers:end -->\n")
    common = ["--models", "char_lstm", "--batches", "4", "--out", str(tmp_path), "--results", str(results)]
    assert run.main([*common, "--variants", "torch", "--torch-python", "/bin/false"]) == 1  # exits 1, no RESULT
    assert "FAILED torch char_lstm batch 4" in capsys.readouterr().err and "old" in results.read_text()
    with pytest.raises(SystemExit):  # an interpreter that is not there: one line saying what builds it
        run.main([*common, "--variants", "keras", "--keras-python", str(tmp_path / "missing")])
    assert "make bench-peers" in capsys.readouterr().err


def fake(variant, rep, train, infer=None):
    row = dict(model="imdb_lstm", batch=32, variant=variant, rep=rep, train_sps=train,
               train_loadavg=dict(before=[1.0, 1, 1], after=[2.5, 1, 1]))
    if infer:
        row.update(infer_sps=infer, infer_loadavg=dict(before=[1.0, 1, 1], after=[1.0, 1, 1]))
    return row


def test_the_table_takes_ratios_against_the_best_peer_of_each_rep():
    rows = [fake("keras", 0, 100, 1000), fake("torch", 0, 200), fake("lstmkit", 0, 300, 500),
            fake("keras", 1, 400, 1000), fake("torch", 1, 100), fake("lstmkit", 1, 200, 2000)]
    text = table.render(rows, "header")
    training = next(line for line in text.splitlines() if "training" in line)
    assert training == "| IMDB LSTM(32) | 32 | training | 250 | 150 | 250 | 1.00× (1.50, 0.50) | 1.0–2.5 |"
    inference = next(line for line in text.splitlines() if "inference" in line)
    assert inference == "| IMDB LSTM(32) | 32 | inference | 1,000 | — | 1,250 | 1.25× (0.50, 2.00) | 1.0–1.0 |"


def test_the_table_replaces_only_what_lies_between_the_markers():
    document = "# Results\n<!-- peers:start -->\nold\n<!-- peers:end -->\nrest\n"
    assert table.replace_between_markers(document, "new\n") == \
        "# Results\n<!-- peers:start -->\nnew\n<!-- peers:end -->\nrest\n"
    with pytest.raises(ValueError, match="peers:start"):
        table.replace_between_markers("no markers", "new")


def test_with_a_before_run_the_table_adds_the_ratio_after_over_before_per_rep():
    rows = [fake("torch", 0, 100), fake("lstmkit_before", 0, 100), fake("lstmkit", 0, 150),
            fake("torch", 1, 100), fake("lstmkit_before", 1, 200), fake("lstmkit", 1, 100)]
    training = next(line for line in table.render(rows, "header").splitlines() if "training" in line)
    assert training == ("| IMDB LSTM(32) | 32 | training | 100 | 125 | 150 | 1.25× (1.50, 1.00) "
                        "| 1.00× (1.50, 0.50) | 1.0–2.5 |")


def test_before_runs_lstmkit_from_the_commits_source_with_its_compiled_loops(tmp_path):
    code = run.main(["--quick", "--threads", "1", "--models", "char_lstm", "--batches", "4", "--variants", "lstmkit",
                     "--before", "HEAD", "--out", str(tmp_path), "--results", str(tmp_path / "unused.md")])
    assert code == 0
    rows = [json.loads(line) for line in (tmp_path / "raw.jsonl").read_text().splitlines()]
    assert sorted(row["variant"] for row in rows) == ["ceiling", "lstmkit", "lstmkit_before"]
    layers = run.before_tree("HEAD", tmp_path, sys.executable) / "src" / "lstmkit" / "nn"
    assert (layers / "lstm.py").is_file()
    assert list(layers.glob("_steploops*.so"))  # built as the install builds it: else "before" ran the fallbacks
    assert "lstmkit / before" in (tmp_path / "table.md").read_text()


def test_with_a_ceiling_row_the_table_gives_lstmkits_share_of_the_matmul_rate():
    import specs
    rows = [fake("torch", 0, 100, 1000), fake("lstmkit", 0, 1000, 1000), dict(variant="ceiling", gflops=100.0)]
    lines = table.render(rows, "header").splitlines()
    assert "lstmkit: share of the matmul ceiling" in lines[2]
    flops = specs.forward_flops("imdb_lstm")  # 8.19 MFLOP: 500 steps of 4 gates × 32 × (32 + 32) multiply-adds
    assert flops == 2 * 500 * 4 * 32 * 64 + 2 * 32
    training = next(line for line in lines if "training" in line)
    assert f"| {100 * 1000 * 3 * flops / 100e9:.1f}% |" in training  # 3x the forward's products per training step
    inference = next(line for line in lines if "inference" in line)
    assert f"| {100 * 1000 * flops / 100e9:.1f}% |" in inference
