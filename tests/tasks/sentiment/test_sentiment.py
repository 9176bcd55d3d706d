"""The sentiment task through its command line, on small made-up reviews, and its model."""

import io
import json
import warnings
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import lstmkit
from lstmkit.cli import main
from lstmkit.tasks.sentiment import PRESETS, SentimentConfig, SentimentModel, load
from lstmkit.text.batching import pad_left, pad_right
from lstmkit.training.run import RunDirectory


@pytest.fixture(scope="module")
def data(tiny_aclimdb):
    return tiny_aclimdb


def train(run_cli, data, out, *extra):
    return run_cli("sentiment", "train", "--data", data, "--out", out, "--epochs", 4, "--quiet",
                   "--embedding-dim", 16, "--units", 16, "--batch-size", 32, "--lr", 0.01, *extra)


def test_train_evaluate_predict(tmp_path, data, run_cli):
    code, out, err = train(run_cli, data, tmp_path / "run")
    assert code == 0, err
    assert "test accuracy" in out
    code, out, _ = run_cli("sentiment", "evaluate", tmp_path / "run", "--data", data, "--json")
    report = json.loads(out)
    assert report["split"] == "test" and report["count"] == 240
    assert report["accuracy"] > 0.85
    assert sum(map(sum, report["confusion_matrix"])) == 240
    code, out, _ = run_cli("sentiment", "predict", tmp_path / "run", "--json",
                           "a wonderful superb film, loved it", "awful boring terrible and dull")
    labels = [item["label"] for item in json.loads(out)]
    assert code == 0 and labels == ["pos", "neg"]
    history = RunDirectory(tmp_path / "run").load_history()
    assert [row["epoch"] for row in history] == [1, 2, 3, 4]


def test_predict_reads_a_file_and_prints_label_and_probability(tmp_path, data, run_cli):
    train(run_cli, data, tmp_path / "run", "--epochs", 2)
    texts = tmp_path / "texts.txt"
    texts.write_text("superb brilliant\n\nterrible awful\n", encoding="utf-8")
    code, out, _ = run_cli("sentiment", "predict", tmp_path / "run", "--file", texts)
    lines = out.strip().splitlines()
    assert code == 0 and len(lines) == 2
    label, probability, text = lines[0].split("\t")
    assert label in ("pos", "neg") and 0.5 <= float(probability) <= 1 and text == "superb brilliant"


@pytest.mark.parametrize("stdin_arguments", [["--file", "-"], ["-"], []])
def test_predict_reads_standard_input(tmp_path, data, run_cli, monkeypatch, stdin_arguments):
    train(run_cli, data, tmp_path / "run", "--epochs", 1)
    monkeypatch.setattr("sys.stdin", io.StringIO("superb brilliant\n\nterrible awful\n"))  # not a terminal
    code, out, err = run_cli("sentiment", "predict", tmp_path / "run", *stdin_arguments, "--json")
    assert code == 0, err
    assert [item["text"] for item in json.loads(out)] == ["superb brilliant", "terrible awful"]


def test_resume_continues_from_the_last_epoch(tmp_path, data, run_cli):
    train(run_cli, data, tmp_path / "run", "--epochs", 2)
    code, _, err = train(run_cli, data, tmp_path / "run", "--epochs", 3, "--resume")
    assert code == 0, err
    assert [row["epoch"] for row in RunDirectory(tmp_path / "run").load_history()] == [1, 2, 3]
    code, _, err = train(run_cli, data, tmp_path / "run")
    assert code == 2 and "already holds a run" in err


@pytest.mark.parametrize("options", [
    ["--rnn", "simplernn"], ["--rnn", "gru", "--layers", 2, "--dropout", 0.2], ["--bidirectional", "--pooling", "max"],
    ["--batching", "padded", "--maxlen", 40], ["--pooling", "mean", "--micro-batch", 0, "--optimizer", "adam"],
])
def test_the_lectures_variants_train(tmp_path, data, run_cli, options):
    code, out, err = train(run_cli, data, tmp_path / "run", "--epochs", 2, *options)
    assert code == 0, err
    assert float(out.split("test accuracy ")[1].split()[0]) > 0.6


def test_pretraining_word2vec_then_frozen_embedding(tmp_path, data, run_cli):
    code, _, err = train(run_cli, data, tmp_path / "run", "--epochs", 2, "--pretrained", "word2vec",
                         "--freeze-embedding")
    assert code == 0, err
    from lstmkit.tasks.sentiment import load

    model, vocabulary, config = load(tmp_path / "run")
    assert config.freeze_embedding and not model.embedding.trainable
    good, great, bad = (model.embedding.weight[vocabulary.index[word]] for word in ("good", "great", "bad"))
    similarity = torch.nn.functional.cosine_similarity
    assert similarity(good, great, 0) > similarity(good, bad, 0)  # word2vec put like words together


def test_vectors_command_writes_vectors_that_train_loads(tmp_path, data, run_cli):
    code, out, err = run_cli("sentiment", "vectors", "--data", data, "--dim", 8, "--out", tmp_path / "v.txt")
    assert code == 0, err
    count, dim = (tmp_path / "v.txt").read_text(encoding="utf-8").splitlines()[0].split()
    assert int(dim) == 8 and int(count) > 20
    assert [path.name for path in tmp_path.iterdir()] == ["v.txt"]  # written beside, renamed, nothing left over
    code, _, err = train(run_cli, data, tmp_path / "run", "--epochs", 1, "--pretrained", tmp_path / "v.txt")
    assert code == 0, err
    from lstmkit.tasks.sentiment import load

    assert load(tmp_path / "run")[2].embedding_dim == 8


def test_vectors_into_a_missing_folder_is_one_line_and_writes_nothing(tmp_path, data, run_cli):
    code, out, err = run_cli("sentiment", "vectors", "--data", data, "--dim", 8, "--out", tmp_path / "no" / "v.txt")
    assert code == 2 and f"--out {tmp_path / 'no' / 'v.txt'}: the folder {tmp_path / 'no'} does not exist" in err
    assert len(err.strip().splitlines()) == 1 and "word2vec" not in out + err  # said before any training
    assert list(tmp_path.iterdir()) == []


def test_a_vectors_save_that_fails_leaves_the_file_at_out_as_it_was(tmp_path, data, run_cli, monkeypatch):
    from gensim.models import KeyedVectors

    def half_a_save(vectors, path, binary):  # the disk fails halfway through the file
        Path(path).write_text("3 8\ngood 0.1", encoding="utf-8")
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(KeyedVectors, "save_word2vec_format", half_a_save)
    (tmp_path / "v.txt").write_text("earlier vectors", encoding="utf-8")
    code, _, err = run_cli("sentiment", "vectors", "--data", data, "--dim", 8, "--out", tmp_path / "v.txt")
    assert code == 1 and "Input/output error" in err
    assert [path.name for path in tmp_path.iterdir()] == ["v.txt"]
    assert (tmp_path / "v.txt").read_text(encoding="utf-8") == "earlier vectors"


def test_glove_file_loads_into_the_embedding(tmp_path, data, run_cli):
    vectors = tmp_path / "glove.txt"
    vectors.write_text("good 0.5 0.25 -1\nbad -0.5 1 2\n", encoding="utf-8")
    code, _, err = train(run_cli, data, tmp_path / "run", "--epochs", 1, "--pretrained", vectors,
                         "--freeze-embedding")
    assert code == 0, err
    from lstmkit.tasks.sentiment import load

    model, vocabulary, config = load(tmp_path / "run")
    assert config.embedding_dim == 3
    assert model.embedding.weight[vocabulary.index["good"]].tolist() == [0.5, 0.25, -1]


def test_lecture_model_has_the_lectures_parameters():
    model = SentimentModel(PRESETS["lecture"], 10_000, 2)
    assert sum(p.numel() for p in model.parameters()) == 328_353
    stacked = SentimentModel(SentimentConfig(layers=3), 10_000, 2)
    assert sum(p.numel() for p in stacked.parameters()) == 344_993
    bidirectional = SentimentModel(SentimentConfig(bidirectional=True), 10_000, 2)
    assert sum(p.numel() for p in bidirectional.parameters()) == 336_705


def test_pooling_ignores_padding():
    model = SentimentModel(SentimentConfig(pooling="max", embedding_dim=4, units=3), 20, 3).eval()
    ids = torch.tensor([[5, 6, 7, 0, 0], [5, 6, 7, 9, 9]])
    lengths = torch.tensor([3, 3])
    padded = model(ids, lengths)
    assert padded.shape == (2, 3)
    assert torch.allclose(padded[0], padded[1])  # what lies past the length never counts


def bad_inputs(tmp_path, data):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    no_classes = tmp_path / "flat"
    no_classes.mkdir()
    (no_classes / "a.txt").write_text("hello", encoding="utf-8")
    columns = tmp_path / "columns.csv"
    columns.write_text("body,stars\nnice,5\n", encoding="utf-8")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"text,label\n\xff\xfe\x00bad,1\n")
    return [
        (["sentiment", "train", "--data", tmp_path / "missing.csv", "--out", tmp_path / "r"], "not found"),
        (["sentiment", "train", "--data", empty, "--out", tmp_path / "r"], "empty"),
        (["sentiment", "train", "--data", no_classes, "--out", tmp_path / "r"], "class"),
        (["sentiment", "train", "--data", columns, "--out", tmp_path / "r"], "column"),
        (["sentiment", "train", "--data", binary, "--out", tmp_path / "r"], "UTF-8"),
        (["sentiment", "train", "--data", data, "--out", tmp_path / "r", "--val-split", 1.5], "--val-split"),
        (["sentiment", "train", "--data", data, "--out", tmp_path / "r", "--lr", -1], "--lr: must be a number in (0, 10]"),
        (["sentiment", "train", "--data", data, "--out", tmp_path / "r", "--micro-batch", -1], "--micro-batch"),
        (["sentiment", "train", "--data", data, "--out", tmp_path / "r", "--unfreeze-after", -2],
         "--unfreeze-after: must be a whole number from 0"),
        (["sentiment", "evaluate", tmp_path / "nowhere", "--data", data], "not a run directory"),
    ]


def test_bad_input_is_one_clear_line_and_exit_code_2(tmp_path, data, run_cli):
    for args, expected in bad_inputs(tmp_path, data):
        code, _, err = run_cli(*args)
        assert code == 2, (args, err)
        assert expected in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err


def test_prediction_errors(tmp_path, data, run_cli):
    train(run_cli, data, tmp_path / "run", "--epochs", 1)
    code, _, err = run_cli("sentiment", "predict", tmp_path / "run", "...")
    assert code == 2 and "empty" in err
    other = tmp_path / "other.csv"
    other.write_text("text,label\ngood film,pos\nodd film,meh\n", encoding="utf-8")
    code, _, err = run_cli("sentiment", "evaluate", tmp_path / "run", "--data", other)
    assert code == 2 and "'meh' was never seen in training" in err


def test_unknown_words_map_to_the_unknown_id(tmp_path, data, run_cli):
    train(run_cli, data, tmp_path / "run", "--epochs", 1)
    _, vocabulary, _ = load(tmp_path / "run")
    assert vocabulary.encode("zyzzyva good") == [1, vocabulary.index["good"]]  # 1: the unknown id, as Keras's
    code, out, _ = run_cli("sentiment", "predict", tmp_path / "run", "zyzzyva quux")
    assert code == 0 and out.count("\t") == 2


@pytest.mark.filterwarnings("ignore:.*only 2 validation texts")  # its 4-review CSV, on purpose
def test_validation_by_movie_never_shares_a_movie_with_training(tmp_path, data, run_cli):
    from lstmkit.tasks.sentiment import split_validation
    from lstmkit.tasks.sentiment.readers import read_labelled

    texts = read_labelled(data)["train"]
    training_part, validation = split_validation(texts, 0.2, seed=0, by_group=True)
    assert set(training_part.groups).isdisjoint(validation.groups)
    assert len(training_part) + len(validation) == len(texts) and 0.15 < len(validation) / len(texts) < 0.25
    _, mixed_validation = split_validation(texts, 0.2, seed=0)  # the lecture's: reviews, not movies
    assert len(mixed_validation) == round(0.2 * len(texts))
    code, _, err = train(run_cli, data, tmp_path / "run", "--val-by-group", "--epochs", 1)
    assert code == 0, err
    assert RunDirectory(tmp_path / "run").load_history()[0]["val_accuracy"] is not None
    csv_file = tmp_path / "reviews.csv"
    csv_file.write_text("text,label,product\ngood film,pos,p1\nbad film,neg,p1\nfine,pos,p2\nawful,neg,p2\n",
                        encoding="utf-8")
    code, _, err = train(run_cli, csv_file, tmp_path / "csv-run", "--val-by-group")
    assert code == 2 and "--val-by-group" in err and str(csv_file) in err and "Traceback" not in err
    code, _, err = train(run_cli, csv_file, tmp_path / "csv-run", "--val-by-group", "--group-column", "product",
                         "--val-split", 0.5)
    assert code == 0, err


def test_ctrl_c_keeps_the_last_completed_epoch_and_resume_finishes(tmp_path, data):
    import signal
    import subprocess
    import sys
    import time

    run = tmp_path / "run"
    command = [sys.executable, "-m", "lstmkit", "sentiment", "train", "--data", str(data), "--out", str(run),
               "--epochs", "200", "--quiet", "--embedding-dim", "8", "--units", "8", "--batch-size", "16"]
    # SIGINT back to its default: a shell starting the suite in the background ignores it, and children inherit that
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    history = run / "history.jsonl"
    deadline = time.time() + 120
    while not (history.is_file() and history.read_text().count("\n") >= 2) and time.time() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "interrupted" in err and "--resume" in err and "Traceback" not in err
    done = len(RunDirectory(run).load_history())
    assert done >= 2 and RunDirectory(run).load_trainer()["epoch"] == done
    code = main(["sentiment", "train", "--data", str(data), "--out", str(run), "--resume", "--epochs", str(done + 1),
                 "--quiet"])
    assert code == 0
    assert [row["epoch"] for row in RunDirectory(run).load_history()] == list(range(1, done + 2))


def test_unfreeze_after_makes_the_embedding_train(tmp_path, data, run_cli):
    code, _, err = train(run_cli, data, tmp_path / "run", "--epochs", 2, "--freeze-embedding", "--unfreeze-after", 1)
    assert code == 0, err
    from lstmkit.tasks.sentiment import SentimentModel, load

    from lstmkit.training.run import LAST

    model, vocabulary, config = load(tmp_path / "run")
    RunDirectory(tmp_path / "run").load_weights(model, LAST)  # after epoch 2, whichever epoch was best
    torch.manual_seed(config.seed)
    initial = SentimentModel(config, vocabulary.size, 2).embedding.weight
    assert not torch.equal(initial, model.embedding.weight)


def test_embedding_lr_sets_the_rate_of_the_embedding_alone(tmp_path, data, run_cli):
    code, _, err = train(run_cli, data, tmp_path / "run", "--epochs", 2, "--freeze-embedding", "--unfreeze-after", 1,
                         "--lr", 0.01, "--embedding-lr", 0.001)
    assert code == 0, err
    groups = torch.load(tmp_path / "run" / "trainer.pt")["optimizer"]["param_groups"]
    assert [group["lr"] for group in groups] == pytest.approx([0.01, 0.01, 0.001])  # output, LSTM, embedding
    code, _, err = train(run_cli, data, tmp_path / "frozen", "--freeze-embedding", "--embedding-lr", 0.001)
    assert code == 2 and "Traceback" not in err
    assert "--embedding-lr sets the rate of an embedding that trains, and this one is frozen throughout" in err


def test_trainable_words_keeps_the_rarer_words_vectors(tmp_path, data, run_cli):
    frozen = ("--freeze-embedding", "--unfreeze-after", 1)
    code, _, err = train(run_cli, data, tmp_path / "start", "--epochs", 1, *frozen)  # epoch 1: the embedding as made
    assert code == 0, err
    code, _, err = train(run_cli, data, tmp_path / "run", "--epochs", 3, *frozen, "--trainable-words", 20)
    assert code == 0, err
    start, trained = (load_file(tmp_path / run / "last.safetensors")["embedding.weight"] for run in ("start", "run"))
    moved = (trained != start).any(dim=1)
    assert moved[2:20].all() and not moved[20:].any()  # ids 2..19: the 18 most frequent words
    code, _, err = train(run_cli, data, tmp_path / "frozen", "--freeze-embedding", "--trainable-words", 20)
    assert code == 2 and "Traceback" not in err
    assert "--trainable-words picks the words of an embedding that trains, and this one is frozen throughout" in err


def test_monitor_val_loss_keeps_the_epoch_with_the_lowest_validation_loss(tmp_path, data, run_cli):
    code, out, err = train(run_cli, data, tmp_path / "run", "--monitor", "val_loss", "--lr", 0.05)
    history = RunDirectory(tmp_path / "run").load_history()
    lowest = min(history, key=lambda row: row["val_loss"])
    assert code == 0 and history[-1]["best_epoch"] == lowest["epoch"]
    assert f"best epoch {lowest['epoch']}:" in out


def test_a_small_validation_part_warns(tmp_path, data, run_cli):
    reviews = tmp_path / "reviews.csv"
    rows = [f"a good film number {i},pos\na bad film number {i},neg" for i in range(20)]
    reviews.write_text("text,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    with pytest.warns(UserWarning, match=r"only 8 validation texts.*`val_split`"):
        code, _, err = train(run_cli, reviews, tmp_path / "run", "--epochs", 1)
    assert code == 0, err
    with pytest.warns(UserWarning, match="only 20 validation texts"):
        train(run_cli, reviews, tmp_path / "run2", "--epochs", 1, "--val-split", 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the tiny aclImdb's 48 validation texts are enough
        code, _, err = train(run_cli, data, tmp_path / "run3", "--epochs", 1)
    assert code == 0, err


def test_an_ensemble_averages_its_runs_probabilities(tmp_path, data, run_cli):
    train(run_cli, data, tmp_path / "a", "--epochs", 2)
    train(run_cli, data, tmp_path / "b", "--epochs", 2, "--seed", 1, "--maxlen", 20)  # its own maxlen too
    texts = ["a wonderful superb film", "awful boring and dull", "a film"]
    alone = [json.loads(run_cli("sentiment", "predict", tmp_path / run, "--json", *texts)[1])
             for run in ("a", "b")]
    code, out, err = run_cli("sentiment", "predict", tmp_path / "a", "--ensemble", tmp_path / "b", "--json",
                             *texts)
    assert code == 0, err
    for together, first, second in zip(json.loads(out), *alone):
        for name, p in together["probabilities"].items():
            assert p == pytest.approx((first["probabilities"][name] + second["probabilities"][name]) / 2, abs=1e-6)
    code, out, err = run_cli("sentiment", "evaluate", tmp_path / "a", "--ensemble", tmp_path / "b",
                             "--data", data, "--json")
    report = json.loads(out)
    assert code == 0 and report["runs"] == 2 and report["count"] == 240 and report["accuracy"] > 0.7, err
    code, out, _ = run_cli("sentiment", "evaluate", tmp_path / "a", "--ensemble", tmp_path / "b",
                           "--data", data)
    assert "2 runs averaged" in out


def test_an_ensemble_of_runs_with_other_classes_is_a_clear_error(tmp_path, data, run_cli):
    train(run_cli, data, tmp_path / "a", "--epochs", 1)
    other = tmp_path / "other.csv"
    other.write_text("text,label\n" + "".join(f"text number {i},{'xyz'[i % 3]}\n" for i in range(150)),
                     encoding="utf-8")
    train(run_cli, other, tmp_path / "b", "--epochs", 1)
    code, _, err = run_cli("sentiment", "predict", tmp_path / "a", "--ensemble", tmp_path / "b", "fine")
    assert code == 2 and "predicts the classes x, y, z" in err and "same classes" in err


def test_predict_feeds_a_padded_run_as_it_trained(tmp_path, data, run_cli):
    train(run_cli, data, tmp_path / "run", "--epochs", 1, "--batching", "padded", "--maxlen", 30)
    model, vocabulary, _ = load(tmp_path / "run")
    text = "a wonderful superb film"
    with torch.no_grad():
        expected = torch.sigmoid(model(pad_left([vocabulary.encode(text)], 30), None))[0, 0].item()
        reading_real_words_only = torch.sigmoid(model(*pad_right([vocabulary.encode(text)])))[0, 0].item()
    assert abs(expected - reading_real_words_only) > 1e-4  # so the test can tell the two apart
    result = lstmkit.load(tmp_path / "run").predict([text])[0]
    assert result["probabilities"]["pos"] == pytest.approx(expected, abs=1e-6)


def test_evaluating_on_the_training_texts_warns(tmp_path, data, run_cli):
    reviews = tmp_path / "reviews.csv"
    rows = [f"a good film number {i},pos\na bad film number {i},neg" for i in range(80)]
    reviews.write_text("text,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    train(run_cli, reviews, tmp_path / "run", "--epochs", 1)
    copy = tmp_path / "copy.csv"  # the same texts under another name: still the training texts
    copy.write_bytes(reviews.read_bytes())
    with pytest.warns(UserWarning, match=r"copy\.csv has no test split and holds the texts .*run trained on"):
        code, _, err = run_cli("sentiment", "evaluate", tmp_path / "run", "--data", copy)
    assert code == 0, err
    other = tmp_path / "other.csv"
    other.write_text("text,label\na good film indeed,pos\na bad film indeed,neg\n", encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        code, _, err = run_cli("sentiment", "evaluate", tmp_path / "run", "--data", other)
        assert code == 0, err
        code, _, err = run_cli("sentiment", "evaluate", tmp_path / "run", "--data", data)  # its test split
    assert code == 0, err


def test_a_reader_that_stops_early_ends_the_output_quietly(tmp_path, data, run_cli):
    import subprocess
    import sys

    train(run_cli, data, tmp_path / "run", "--epochs", 1)
    texts = tmp_path / "texts.txt"
    texts.write_text("a good film\n" * 20_000, encoding="utf-8")  # more output than a pipe holds
    command = [sys.executable, "-m", "lstmkit", "sentiment", "predict", str(tmp_path / "run"), "--file", str(texts)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout.readline().endswith("a good film\n")
    process.stdout.close()  # as `| head -1` does
    err = process.stderr.read()
    assert process.wait(timeout=60) == 141 and err == ""


@pytest.mark.filterwarnings("ignore:.*only 20 validation texts")  # 100 texts, on purpose
def test_train_texts_trains_on_a_seeded_sample_and_keeps_the_whole_vocabulary(tmp_path, data, run_cli):
    from lstmkit.tasks.sentiment.data import sample_texts
    from lstmkit.tasks.sentiment.readers import read_labelled
    from lstmkit.text.vocabulary import Vocabulary
    from lstmkit.text.words import IMDB_SPECIALS

    texts = read_labelled(data)["train"]
    sample = sample_texts(texts, 100, seed=1)
    assert len(sample) == 100 and set(sample.texts) <= set(texts.texts)
    assert sample.texts == sample_texts(texts, 100, seed=1).texts != sample_texts(texts, 100, seed=2).texts
    assert sample_texts(texts, len(texts) + 5, seed=1) is texts
    code, out, err = run_cli("sentiment", "train", "--data", data, "--out", tmp_path / "run", "--epochs", 1,
                             "--train-texts", 100, "--seed", 1, "--embedding-dim", 8, "--units", 8)
    assert code == 0, err
    assert "80 training / 20 validation texts" in out
    every_text = Vocabulary.fit(texts.texts, "imdb", specials=IMDB_SPECIALS, max_size=10_000)
    assert RunDirectory(tmp_path / "run").load_vocab(lambda saved: saved["tokens"]) == every_text.kept
    code, _, err = run_cli("sentiment", "train", "--data", data, "--out", tmp_path / "bad", "--train-texts", 1)
    assert code == 2 and "--train-texts" in err


@pytest.mark.filterwarnings("ignore:.*only 24 validation texts")  # the 120-text table, on purpose
def test_init_from_starts_from_a_runs_weights_vocabulary_and_shape(tmp_path, data, run_cli):
    from safetensors.torch import load_file

    assert train(run_cli, data, tmp_path / "source", "--epochs", 1)[0] == 0
    # the same classes: every tensor is taken; a learning rate of ~0 keeps them
    code, out, err = run_cli("sentiment", "train", "--data", data, "--out", tmp_path / "tuned", "--epochs", 1,
                             "--init-from", tmp_path / "source", "--units", 8, "--lr", 1e-12, "--quiet")
    assert code == 0, err
    assert f"starting from {tmp_path / 'source'}: its vocabulary" in out and "`units` 16" in out
    source, tuned = (load_file(tmp_path / name / "model.safetensors") for name in ("source", "tuned"))
    assert source.keys() == tuned.keys()
    assert all(torch.allclose(source[name], tuned[name], atol=1e-6) for name in source)
    assert (tmp_path / "source" / "vocab.json").read_text() == (tmp_path / "tuned" / "vocab.json").read_text()
    # three classes: the output layer is new, the rest starts from the source
    table = tmp_path / "three.csv"
    rows = ["text,label"] + [f"{word} film {word},{label}" for word, label in
                             [("wonderful", "good"), ("awful", "bad"), ("fine", "okay")] * 40]
    table.write_text("\n".join(rows) + "\n", encoding="utf-8")
    code, _, err = run_cli("sentiment", "train", "--data", table, "--out", tmp_path / "three", "--epochs", 1,
                           "--init-from", tmp_path / "source", "--freeze-embedding", "--quiet")
    assert code == 0, err
    three = load_file(tmp_path / "three" / "model.safetensors")
    assert three["output.weight"].shape[0] == 3
    assert torch.equal(three["embedding.weight"], source["embedding.weight"])  # frozen: as the source left it
    code, _, err = run_cli("sentiment", "train", "--data", data, "--out", tmp_path / "none", "--init-from",
                           tmp_path / "nowhere")
    assert code == 2 and "nowhere is not a run directory" in err
