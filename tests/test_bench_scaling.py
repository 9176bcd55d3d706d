"""bench/scaling.py: a tiny sweep in-process (the ceiling given, not measured) writes the table, the raw rows
and the plot; the FLOP count; bad arguments exit 2."""

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "scaling.py"
spec = importlib.util.spec_from_file_location("bench_scaling", SCRIPT)
scaling = importlib.util.module_from_spec(spec)
spec.loader.exec_module(scaling)


def test_flops_per_sample_of_one_lstm_layer():
    # 2·T·4H·(F+H): T=100, H=F=128 -> 2·100·512·256
    assert scaling.flops_per_sample(100, 128, 128, "infer") == 26_214_400
    assert scaling.flops_per_sample(100, 128, 128, "train") == 3 * 26_214_400
    assert scaling.flops_per_sample(10, 3, 5, "infer") == 2 * 10 * 20 * 8


def test_a_tiny_sweep_writes_the_table_the_raw_rows_and_the_plot(tmp_path, capsys):
    code = scaling.main(["--quick", "--threads", "1", "--ceiling", "20", "--seconds", "0.01",
                         "--lengths", "3,6", "--batches", "1,2,4", "--hiddens", "4,8", "--base", "3,2,4",
                         "--out", str(tmp_path)])
    assert code == 0
    raw = json.loads((tmp_path / "raw.json").read_text())
    rows = raw["rows"]
    assert raw["meta"]["ceiling"]["gflops"] == 20 and raw["meta"]["threads"] == 1
    shapes = [(row["sweep"], row["T"], row["B"], row["H"]) for row in rows if row["phase"] == "train"]
    assert shapes == [("T", 3, 2, 4), ("T", 6, 2, 4), ("B", 3, 1, 4), ("B", 3, 2, 4), ("B", 3, 4, 4),
                      ("H", 3, 2, 4), ("H", 3, 2, 8)]
    assert len(rows) == 2 * len(shapes) and {row["phase"] for row in rows} == {"train", "infer"}
    for row in rows:
        assert row["torch_sps"] > 0 and row["lstmkit_sps"] > 0 and len(row["torch_sps_reps"]) == 1
        assert row["ratio"] == pytest.approx(row["lstmkit_sps"] / row["torch_sps"])
        assert row["flops_per_sample"] == scaling.flops_per_sample(row["T"], row["H"], row["H"], row["phase"])
        assert row["lstmkit_share"] == pytest.approx(row["lstmkit_sps"] * row["flops_per_sample"] / 1e9 / 20)
        assert len(row["loadavg"]["before"]) == 3 and len(row["loadavg"]["after"]) == 3
    table = (tmp_path / "table.md").read_text()
    assert table.count("| training |") == 7 and table.count("| inference |") == 7
    assert "| B | 3 | 4 | 4 | training |" in table
    assert table.count("share of the ceiling:") == 6  # a note per sweep and phase
    assert table in capsys.readouterr().out
    assert (tmp_path / "scaling.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("arguments", [["--lengths", "10,x"], ["--batches", "0"], ["--base", "1,2"],
                                       ["--seconds", "-1"], ["--hiddens", ""]])
def test_bad_arguments_exit_2(arguments, capsys):
    with pytest.raises(SystemExit) as stop:
        scaling.main(arguments)
    assert stop.value.code == 2
    assert "error:" in capsys.readouterr().err
