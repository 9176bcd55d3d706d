"""Text generation through its command line, on a small piece of the real text."""

import json
import warnings
from pathlib import Path

import pytest
import torch

import lstmkit
from lstmkit.cli import main
from lstmkit.tasks.textgen import PRESETS, CharModel, TextgenConfig, load
from lstmkit.training.run import RunDirectory

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "nietzsche" / "nietzsche.txt"


@pytest.fixture(scope="module")
def text(tmp_path_factory):
    path = tmp_path_factory.mktemp("text") / "nietzsche-start.txt"
    path.write_text(SHARED.read_text(encoding="utf-8")[:30_000], encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def trained(text, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "run"
    assert main(["textgen", "train", "--text", str(text), "--out", str(out), "--epochs", "4", "--hidden", "64",
                 "--layers", "1", "--quiet"]) == 0
    return out


def test_training_lowers_the_held_out_loss(trained):
    history = RunDirectory(trained).load_history()
    assert [row["epoch"] for row in history] == [1, 2, 3, 4]
    assert history[-1]["val_nats_per_char"] < history[0]["val_nats_per_char"] < 4.0
    assert abs(history[-1]["val_bits_per_char"] * 0.6931471805599453 - history[-1]["val_nats_per_char"]) < 1e-9


def test_lecture_mode_is_the_lectures_model(text, tmp_path, run_cli):
    code, _, err = run_cli("textgen", "train", "--mode", "lecture", "--text", text, "--out", tmp_path / "r",
                           "--epochs", 1, "--quiet")
    assert code == 0, err
    model, vocabulary, config = load(tmp_path / "r")
    assert (config.mode, config.hidden, config.optimizer, config.lr, config.batch_size) == \
        ("lecture", 128, "rmsprop", 0.01, 128)
    assert config.embedding_dim == 0 and model.embedding is None  # one-hot, as the lecture
    lecture_sized = CharModel(PRESETS["lecture"], 57)
    assert sum(p.numel() for p in lecture_sized.parameters()) == 102_585


def test_awd_regularisers_drop_recurrent_weights_and_output_features_per_sequence():
    config = TextgenConfig(embedding_dim=8, hidden=16, layers=2, weight_drop=0.3, output_dropout=0.5)
    model = CharModel(config, 20)
    assert [layer.weight_drop for layer in model.recurrent] == [0.3, 0.3]
    seen = []
    model.output.register_forward_hook(lambda module, inputs, output: seen.append(inputs[0]))
    ids = torch.randint(0, 20, (6, 30), generator=torch.Generator().manual_seed(0))
    model.train()
    model(ids)
    dropped = seen[-1] == 0  # (batch, time, hidden)
    assert (dropped.all(1) | ~dropped.any(1)).all(), "a feature was dropped at some steps and kept at others"
    assert 0.3 < dropped.all(1).float().mean() < 0.7
    model.eval()
    assert torch.equal(model(ids), model(ids)) and not (seen[-1] == 0).all(1).any()


def test_sample_is_reproducible_and_streams(trained, run_cli):
    args = ["textgen", "sample", trained, "--seed-text", "the will to ", "--length", 80, "--temperature", 0.5,
            "--seed", 3]
    code, first, _ = run_cli(*args)
    _, second, _ = run_cli(*args)
    assert code == 0 and first == second
    assert first.startswith("the will to ") and len(first.rstrip("\n")) == len("the will to ") + 80


def test_several_samples_and_every_strategy(trained, run_cli):
    for options in (["--strategy", "greedy"], ["--strategy", "multinomial"], ["--top-k", 5], ["--top-p", 0.8]):
        code, out, err = run_cli("textgen", "sample", trained, "--num", 3, "--length", 30, "--json",
                                 "--seed", 0, *options)
        assert code == 0, err
        samples = json.loads(out)
        assert len(samples) == 3 and all(len(item["sample"]) == 30 for item in samples)


def test_seed_texts_of_any_length_and_unseen_characters(trained, run_cli):
    for seed_text in ("", "a", "x" * 500, "Ünïcode 🙂 and ∑ never seen"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            code, out, err = run_cli("textgen", "sample", trained, "--seed-text", seed_text, "--length", 20,
                                     "--json")
        assert code == 0, err
        assert len(json.loads(out)[0]["sample"]) == 20
        unseen = [str(warning.message) for warning in caught]
        if seed_text.startswith("Ü"):  # a piece of Nietzsche never shows these
            assert len(unseen) == 1 and "never saw" in unseen[0] and "🙂" in unseen[0] and "∑" in unseen[0]
        else:
            assert unseen == []


def test_evaluate_gives_the_guides_keys(trained, text, run_cli):
    code, out, _ = run_cli("textgen", "evaluate", trained, "--text", text, "--json")
    report = json.loads(out)
    assert code == 0 and 0 < report["nats_per_char"] < 4 and report["bits_per_char"] > report["nats_per_char"]


@pytest.fixture(scope="module")
def another(text, tmp_path_factory):
    """A second, smaller run on the same text, for ensembles."""
    out = tmp_path_factory.mktemp("runs") / "another"
    assert main(["textgen", "train", "--text", str(text), "--out", str(out), "--epochs", "1", "--hidden", "32",
                 "--layers", "1", "--seed", "1", "--quiet"]) == 0
    return out


def test_an_ensemble_averages_its_runs_next_character_probabilities(trained, another, text, run_cli):
    from lstmkit.tasks.textgen.generator import load_runs

    ensemble, _, _ = load_runs([trained, another])
    members = [load(trained)[0], load(another)[0]]
    ids = torch.randint(0, members[0].vocab, (3, 40), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        averaged = sum(member(ids).softmax(-1) for member in members) / 2
        assert torch.allclose(ensemble(ids).softmax(-1), averaged, atol=1e-6)
        # its sampler's steps: the same averaged probabilities as the ensemble's forward pass
        (first, states, _), context = ensemble.sampler().start(ids)
        assert torch.allclose(first.softmax(-1), averaged[:, -1], atol=1e-5)
        step = ensemble.sampler().step(ids[:, 0], states, context)
        assert torch.allclose(step.logits.softmax(-1), ensemble(torch.cat([ids, ids[:, :1]], 1))[:, -1].softmax(-1),
                              atol=1e-5)
    alone = [json.loads(run_cli("textgen", "evaluate", run, "--text", text, "--json")[1])["nats_per_char"]
             for run in (trained, another)]
    code, out, err = run_cli("textgen", "evaluate", trained, "--ensemble", another, "--text", text, "--json")
    report = json.loads(out)
    # -ln of an average of probabilities is at most the average of their -ln (Jensen), position by position
    assert code == 0 and report["runs"] == 2 and report["nats_per_char"] <= sum(alone) / 2 + 1e-6, err
    assert "(2 runs averaged)" in run_cli("textgen", "evaluate", trained, "--ensemble", another, "--text", text)[1]
    sample = ["textgen", "sample", trained, "--ensemble", another, "--length", 50, "--seed", 2, "--json"]
    code, out, err = run_cli(*sample)
    assert code == 0 and len(json.loads(out)[0]["sample"]) == 50 and run_cli(*sample)[1] == out, err
    generator = lstmkit.load(trained, ensemble=[another])
    assert generator.parameter_count() == sum(p.numel() for member in members for p in member.parameters())
    assert len(generator.inspect("the will").layers) == 1  # the first run's layer


def test_an_ensemble_of_runs_on_other_characters_is_a_clear_error(trained, tmp_path, run_cli):
    def train(name, text, *options):
        (tmp_path / f"{name}.txt").write_text(text, encoding="utf-8")
        assert run_cli("textgen", "train", "--text", tmp_path / f"{name}.txt", "--out", tmp_path / name, "--epochs", 1,
                       "--hidden", 8, "--layers", 1, "--quiet", *options)[0] == 0
        return tmp_path / name

    digits = train("digits", "0123456789 " * 300)
    code, _, err = run_cli("textgen", "sample", trained, "--ensemble", digits, "--length", 5)
    assert code == 2 and f"{digits} was trained on other characters (11)" in err and "the same characters" in err, err
    as_written = train("as-written", "0123456789 " * 300, "--no-lowercase")  # the same characters, read otherwise
    code, _, err = run_cli("textgen", "evaluate", digits, "--ensemble", as_written, "--text", tmp_path / "digits.txt")
    assert code == 2 and "reads text as written" in err and "the same way" in err, err


def test_resume_continues(text, tmp_path, run_cli):
    args = ["textgen", "train", "--text", text, "--out", tmp_path / "r", "--hidden", 32, "--layers", 1, "--quiet"]
    assert run_cli(*args, "--epochs", 1)[0] == 0
    assert run_cli(*args, "--epochs", 2, "--resume")[0] == 0
    assert [row["epoch"] for row in RunDirectory(tmp_path / "r").load_history()] == [1, 2]


def bad_cases(tmp_path, trained):
    empty, binary, short = tmp_path / "empty.txt", tmp_path / "binary.bin", tmp_path / "short.txt"
    empty.write_bytes(b"")
    binary.write_bytes(b"\x00\x01\x02PNG" * 100)
    short.write_text("only a few words here", encoding="utf-8")
    train = ["textgen", "train", "--out", tmp_path / "r", "--text"]
    return [
        (train + [tmp_path / "missing.txt"], "not found"),
        (train + [empty], "characters"),
        (train + [binary], "binary"),
        (train + [short], "characters"),
        (["textgen", "sample", trained, "--temperature", 0], "--temperature: must be a number in [1e-06, 100]"),
        (["textgen", "sample", trained, "--temperature", "1e-300"], "--temperature: must be a number in [1e-06, 100]"),
        (["textgen", "sample", trained, "--temperature", "warm"], "lower overflows float32), got 'warm'"),
        (["textgen", "sample", trained, "--top-p", 1.5], "--top-p: must be a number in (0, 1]"),
        (["textgen", "sample", trained, "--length", -1], "--length: must be a whole number from 0"),
        (["textgen", "sample", trained, "--num", 0], "--num: must be a whole number from 1"),
        (["textgen", "sample", trained, "--top-k", 0], "--top-k: must be a whole number from 1"),
        (["textgen", "train", "--out", tmp_path / "r", "--lr", 0], "--lr: must be a number in (0, 10], got 0"),
        (["textgen", "train", "--out", tmp_path / "r", "--clip-norm", -1], "(0: no clipping), got -1"),
    ]


def test_a_top_p_too_small_for_float32_samples_the_likeliest_characters(trained, run_cli):
    greedy = lstmkit.load(trained).sample("the ", 30, strategy="greedy")
    assert lstmkit.load(trained).sample("the ", 30, top_p=5e-324, seed=1) == greedy  # keeps one: the likeliest
    code, out, err = run_cli("textgen", "sample", trained, "--seed-text", "the ", "--length", 30, "--top-p", "5e-324",
                             "--json", "--seed", 1)
    assert code == 0 and [item["sample"] for item in json.loads(out)] == greedy, err


def test_bad_input_is_one_clear_line_and_a_nonzero_exit(tmp_path, trained, run_cli):
    for args, expected in bad_cases(tmp_path, trained):
        code, _, err = run_cli(*args)
        assert code == 2, (args, err)
        assert expected in err and "Traceback" not in err, err
    assert not (tmp_path / "r").exists()  # rejected before any file is written


def test_demo_trains_and_samples_at_three_temperatures(text, run_cli):
    code, out, err = run_cli("demo", "--text", text, "--minutes", 0.01, "--length", 40, "--quiet")
    assert code == 0, err
    assert out.count("--- temperature") == 3 and "held-out loss" in out
    assert "immediately disclose what it really is--namely, a will to the" in out


def test_demo_keeps_its_model_and_uses_it_the_next_time(text, run_cli, tmp_path):
    demo = ["demo", "--text", text, "--minutes", 0.01, "--length", 20, "--quiet", "--out", tmp_path / "demo"]
    code, first, err = run_cli(*demo)
    assert code == 0 and "Training the char model" in first, err
    assert first.endswith(f"lstmkit serve {tmp_path / 'demo'}\nthen open http://127.0.0.1:8000/\n")
    code, again, _ = run_cli(*demo)
    assert code == 0 and "Training" not in again and again.startswith(f"Using the demo model in {tmp_path / 'demo'}")
    same_from = "held-out loss"  # the same model: the same loss and samples
    assert again[again.index(same_from):] == first[first.index(same_from):]
    code, retrained, _ = run_cli(*demo, "--retrain")
    assert code == 0 and "Training the char model" in retrained


def test_sample_from_a_missing_run_prints_nothing_but_the_error(tmp_path, run_cli):
    code, out, err = run_cli("textgen", "sample", tmp_path / "nothing", "--seed-text", "the seed ")
    assert code == 2 and out == "" and "is not a run directory" in err


def test_sample_prints_the_seed_then_the_sample(trained, run_cli):
    code, out, _ = run_cli("textgen", "sample", trained, "--seed-text", "the seed ", "--length", 0)
    assert code == 0 and out == "the seed \n"
    code, out, _ = run_cli("textgen", "sample", trained, "--seed-text", "the seed ", "--length", 5)
    assert code == 0 and out.startswith("the seed ") and len(out) == len("the seed ") + 5 + 1


def test_a_run_of_another_task_is_a_clear_error(trained, run_cli):
    code, _, err = run_cli("sentiment", "predict", trained, "some text")
    assert code == 2 and "holds a 'textgen' run, not a sentiment one" in err
