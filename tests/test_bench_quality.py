"""bench/time_to_quality.py, its pure parts on tiny inline samples: the Keras scripts' EPOCH lines and
lstmkit's history.jsonl into (seconds, metric) records, time to target, the table, the commands, and
bad input as one line with exit 2. Nothing here trains."""

import json
import sys
from argparse import Namespace
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import time_to_quality as ttq  # noqa: E402

KERAS_IMDB_LOG = """read tar in 12.3s: train 25000, test 25000
Epoch 1/10
EPOCH {"epoch": 1, "wall_s": 21.5, "acc": 0.61, "loss": 0.65, "val_acc": 0.8, "val_loss": 0.45}
157/157 - 22s - 137ms/step - acc: 0.6100 - loss: 0.6500 - val_acc: 0.8000 - val_loss: 0.4500
EPOCH {"epoch": 2, "wall_s": 19.5, "acc": 0.86, "loss": 0.33, "val_acc": 0.8612, "val_loss": 0.34}
EPOCH {"epoch": 3, "wall_s": 19"""  # the last line is still being written

KERAS_CHAR_ROWS = [  # char_lecture.py's rows (bits left out)
    {"epoch": 1, "epoch_wall_s": 65.2, "train_loss_epoch_mean": 2.06, "val_nats_stride1": 1.79,
     "val_eval_wall_s_stride1": 12.0, "val_nats_stride3": 1.795, "val_eval_wall_s_stride3": 4.1},
    {"epoch": 2, "epoch_wall_s": 61.0, "train_loss_epoch_mean": 1.67, "val_nats_stride1": 1.65,
     "val_eval_wall_s_stride1": 11.8, "val_nats_stride3": 1.656, "val_eval_wall_s_stride3": 4.0},
]

LSTMKIT_HISTORY = """\
{"epoch": 1, "loss": 0.6, "seconds": 7.1, "val_loss": 0.4, "val_accuracy": 0.84, "val_seconds": 1.5, "best_epoch": 1}
{"epoch": 2, "loss": 0.3, "seconds": 6.9, "val_loss": 0.31, "val_accuracy": 0.8712, "val_seconds": 1.4, "best_epoch": 2}
"""


def test_keras_imdb_epoch_lines_give_cumulative_seconds_with_validation():
    rows = ttq.keras_rows(KERAS_IMDB_LOG)
    assert [row["epoch"] for row in rows] == [1, 2]
    assert ttq.keras_records(rows, "sentiment") == [
        {"epoch": 1, "seconds": 21.5, "train_seconds": None, "metric": 0.8},
        {"epoch": 2, "seconds": 41.0, "train_seconds": None, "metric": 0.8612}]


def test_keras_char_rows_count_the_stride3_scoring_and_keep_training_apart():
    log = "".join(f"EPOCH {json.dumps(row)}\n" for row in KERAS_CHAR_ROWS) + "RESULT {}\n"
    records = ttq.keras_records(ttq.keras_rows(log), "textgen")
    assert records == ttq.keras_records(KERAS_CHAR_ROWS, "textgen")  # the result JSON's "epochs" parse alike
    assert records == [{"epoch": 1, "seconds": 69.3, "train_seconds": 65.2, "metric": 1.795},
                       {"epoch": 2, "seconds": 134.3, "train_seconds": 126.2, "metric": 1.656}]


def test_lstmkit_history_gives_training_plus_validation_seconds():
    assert ttq.lstmkit_records(LSTMKIT_HISTORY + "\n", "val_accuracy") == [
        {"epoch": 1, "seconds": 8.6, "train_seconds": 7.1, "metric": 0.84},
        {"epoch": 2, "seconds": 16.9, "train_seconds": 14.0, "metric": 0.8712}]
    assert ttq.lstmkit_records(LSTMKIT_HISTORY, "val_nats_per_char") == []


def test_time_to_target_is_the_first_epoch_meeting_it_either_way():
    records = ttq.lstmkit_records(LSTMKIT_HISTORY, "val_accuracy")
    assert ttq.time_to_target(records, 0.85, higher=True) == {
        "reached": True, "epoch": 2, "seconds": 16.9, "train_seconds": 14.0, "best": 0.8712}
    assert ttq.time_to_target(records, 0.84, higher=True)["epoch"] == 1  # a tie meets it
    missed = ttq.time_to_target(records, 0.9, higher=True)
    assert not missed["reached"] and missed["seconds"] is None and missed["best"] == 0.8712
    char = ttq.keras_records(KERAS_CHAR_ROWS, "textgen")
    assert ttq.time_to_target(char, 1.67, higher=False)["seconds"] == 134.3
    assert ttq.time_to_target(char, 1.6, higher=False)["best"] == 1.656
    assert ttq.time_to_target([], 1.67, higher=False) == {
        "reached": False, "epoch": None, "seconds": None, "train_seconds": None, "best": None}


def _result(contender, records, target=0.85, error=None):
    return {"task": "sentiment", "contender": contender, "command": f"run {contender} --x a|b", "records": records,
            "outcome": ttq.time_to_target(records, target, True), "error": error,
            "loadavg_before": [0.5, 0.4, 0.3], "loadavg_after": [1.9, 1.0, 0.5]}


def test_the_table_gives_times_ratios_misses_and_failures():
    keras = ttq.keras_records(ttq.keras_rows(KERAS_IMDB_LOG), "sentiment")
    fast = ttq.lstmkit_records(LSTMKIT_HISTORY, "val_accuracy")
    results = [_result("keras", keras), _result("lstmkit-fast", fast), _result("lstmkit-lecture", fast[:1]),
               _result("lstmkit-lecture", [], error="exit 1: boom")]
    table = ttq.render_table(results, "Header.\n")
    lines = table.splitlines()
    assert lines[:2] == ["Header.", ""] and lines[2].startswith("| task | contender | command | epochs run |")
    keras_row, fast_row, missed_row, failed_row = lines[4:]
    assert "| keras | `run keras --x a\\|b` | 2 | **41.0 s** (epoch 2) | — | 0.8612 | — |" in keras_row
    assert keras_row.endswith("| 0.50 → 1.90 |")  # the 1-minute load average before and after
    assert "| 2 | **16.9 s** (epoch 2) | 14.0 s | 0.8712 | 0.41× |" in fast_row  # 16.9 / 41.0
    assert "| 1 | not reached (best 0.8400) | — | 0.8400 | — |" in missed_row
    assert "failed: exit 1: boom" in failed_row and "| 0 |" in failed_row
    assert "validation accuracy ≥ 0.85" in keras_row


def test_the_commands_are_the_documented_recipes(tmp_path):
    args = Namespace(seed=0, cap_minutes=15.0, quick=False, keras_python=ttq.ROOT / ttq.KERAS_VENV,
                     lstmkit_python=ttq.ROOT / ".venv" / "bin" / "python", shared=ttq.ROOT.parent / "shared")
    runs = ttq.ROOT / "bench" / "out" / "quality" / "runs"

    def command(task, contender):
        return " ".join(ttq.command_for(task, contender, args, runs)[0])

    assert command("sentiment", "keras") == (
        "bench/out/peers/venv-keras/bin/python ../shared/bench/lecture-keras/imdb_lecture.py --cell lstm --epochs 10 "
        "--seed 0 --out bench/out/quality/runs/sentiment-keras/result.json")
    assert command("sentiment", "lstmkit-lecture").startswith(
        ".venv/bin/python -m lstmkit sentiment train --data ../shared/data/imdb/aclImdb.tar.gz --preset lecture "
        "--batching padded --out")
    assert "--batching" not in command("sentiment", "lstmkit-fast")
    assert "char_lecture.py --epochs 3" in command("textgen", "keras")
    assert "textgen train --mode lecture --epochs 3 --out" in command("textgen", "lstmkit-lecture")
    assert command("textgen", "lstmkit-fast").endswith(
        "textgen train --preset fast --out bench/out/quality/runs/textgen-lstmkit-fast --seed 0 --minutes 15 --quiet")
    argv, source = ttq.command_for("textgen", "lstmkit-fast", Namespace(**{**vars(args), "quick": True}), runs)
    assert argv[argv.index("--epochs") + 1] == "1" and source.name == "history.jsonl"


def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    out = ["--out", str(tmp_path / "out")]
    assert ttq.main(["--tasks", "textgen", "--keras-python", str(tmp_path / "none" / "python")] + out) == 2
    message = capsys.readouterr().err.strip()
    assert "\n" not in message and "Keras virtualenv is missing" in message and "venv-keras/.installed" in message
    assert ttq.main(["--tasks", "sentiment", "--contenders", "lstmkit-fast", "--shared", str(tmp_path)] + out) == 2
    message = capsys.readouterr().err.strip()
    assert "\n" not in message and "aclImdb.tar.gz" in message and "--shared" in message
    with pytest.raises(SystemExit) as stop:
        ttq.main(["--tasks", "sentiment,poetry"])
    assert stop.value.code == 2 and "--tasks must be" in capsys.readouterr().err


def test_a_contender_stops_at_the_target_the_cap_or_the_wall_limit():
    args = Namespace(run_full=False, cap_minutes=2.0, prep_minutes=1.0)  # 120 s of training, 180 s in all
    char = ttq.keras_records(KERAS_CHAR_ROWS, "textgen")
    assert ttq.stop_reason(char[:1], "textgen", args, 100.0) is None
    assert ttq.stop_reason(char, "textgen", args, 100.0) == "target reached"
    assert ttq.stop_reason(char, "textgen", Namespace(**{**vars(args), "run_full": True}), 100.0) == "cap reached"
    assert ttq.stop_reason([], "textgen", args, 181.0) == "wall limit (3 min)"


def test_a_contender_is_stopped_once_it_meets_the_target(tmp_path):
    """A stand-in for imdb_lecture.py (prints two EPOCH lines, then would run on for a minute)."""
    scripts = tmp_path / "bench" / "lecture-keras"
    scripts.mkdir(parents=True)
    rows = [{"epoch": 1, "wall_s": 2.0, "val_acc": 0.8}, {"epoch": 2, "wall_s": 2.5, "val_acc": 0.9}]
    (scripts / "imdb_lecture.py").write_text(
        "import time\n" + "".join(f"print('EPOCH {json.dumps(row)}', flush=True)\n" for row in rows)
        + "time.sleep(60)\n")
    args = Namespace(seed=0, cap_minutes=15.0, prep_minutes=1.0, quick=False, run_full=False, poll=0.05,
                     keras_python=Path(sys.executable), shared=tmp_path)
    logs = tmp_path / "logs"
    logs.mkdir()
    result = ttq.run_contender("sentiment", "keras", args, tmp_path / "runs", logs)
    assert result["stopped"] == "target reached" and result["error"] is None
    assert result["process_wall_s"] < 30 and len(result["loadavg_before"]) == 3 == len(result["loadavg_after"])
    assert result["outcome"] == {"reached": True, "epoch": 2, "seconds": 4.5, "train_seconds": None, "best": 0.9}
