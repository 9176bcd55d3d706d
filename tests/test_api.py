"""lstmkit.load(): a run made by the command line, used from Python, gives what the command gives."""

import json
import threading

import numpy as np
import pytest

import lstmkit
from lstmkit.cli import main
from lstmkit.errors import RunError, SettingsError
from lstmkit.inspection import VALUES
from lstmkit.tasks.sentiment import SentimentClassifier
from lstmkit.tasks.textgen import TextGenerator
from lstmkit.tasks.translate import Translator

REVIEWS = ["good great wonderful film", "dull and awful, a weak plot", "the movie was a story"]


def cli_json(capsys, *args):
    assert main([str(arg) for arg in [*args, "--json"]]) == 0
    return json.loads(capsys.readouterr().out)


def test_load_gives_each_tasks_predictor(trained_runs):
    kinds = {"sentiment": SentimentClassifier, "textgen": TextGenerator, "translate": Translator}
    for task, kind in kinds.items():
        assert isinstance(lstmkit.load(trained_runs[task]), kind)


def test_load_refuses_what_is_not_a_run_of_the_task(trained_runs, tmp_path):
    with pytest.raises(RunError, match="config.json"):
        lstmkit.load(tmp_path)
    with pytest.raises(RunError, match="holds a 'textgen' run, not a sentiment one"):
        lstmkit.load(trained_runs["textgen"], task="sentiment")
    with pytest.raises(SettingsError, match="^ensemble averages sentiment or textgen runs; .* is a translate run"):
        lstmkit.load(trained_runs["translate"], ensemble=[trained_runs["translate"]])


def test_predict_is_what_the_command_prints(trained_runs, capsys):
    classifier = lstmkit.load(trained_runs["sentiment"])
    assert classifier.predict(REVIEWS) == cli_json(capsys, "sentiment", "predict", trained_runs["sentiment"], *REVIEWS)
    averaged = cli_json(capsys, "sentiment", "predict", trained_runs["sentiment"], "--ensemble",
                        trained_runs["sentiment"], *REVIEWS)  # a run averaged with itself
    assert [row["probability"] for row in averaged] == pytest.approx([row["probability"] for row in
                                                                      classifier.predict(REVIEWS)])


def test_explain_is_the_drop_when_a_word_is_unknown(trained_runs):
    classifier = lstmkit.load(trained_runs["sentiment"])
    explained = classifier.explain(REVIEWS[1])
    assert [word for word, _ in explained["words"]] == ["dull", "and", "awful", "a", "weak", "plot"]
    label = explained["label"]
    for position, (word, contribution) in enumerate(explained["words"]):
        words = REVIEWS[1].replace(",", "").split()
        words[position] = "qqqneverseen"
        [occluded] = classifier.predict([" ".join(words)])
        assert contribution == pytest.approx(explained["probability"] - occluded["probabilities"][label], abs=1e-6)


def lstm_equations_hold(inspection, steps):
    """The values are the lecture's equations, step by step, in (0, 1) for the gates."""
    for layer in inspection.layers:
        assert all(layer[name].shape[0] == steps for name in VALUES)
        f, i, o, candidate, c, h = (layer[name] for name in VALUES)
        assert ((f > 0) & (f < 1) & (i > 0) & (i < 1) & (o > 0) & (o < 1)).all()
        previous = np.vstack([np.zeros_like(c[:1]), c[:-1]])
        np.testing.assert_allclose(c, f * previous + i * candidate, atol=1e-5)
        np.testing.assert_allclose(h, o * np.tanh(c), atol=1e-5)


def test_inspect_gives_every_step_of_every_lstm_layer(trained_runs):
    inspection = lstmkit.load(trained_runs["sentiment"]).inspect(REVIEWS[0])
    assert inspection.tokens == REVIEWS[0].split() and inspection.names == ["layer 1"]
    lstm_equations_hold(inspection, 4)
    assert inspection.layers[0]["h"].shape == (4, 16)
    generator = lstmkit.load(trained_runs["textgen"])
    inspection = generator.inspect("the will")
    assert inspection.tokens == list("the will")
    lstm_equations_hold(inspection, 8)
    # the last step's h is the state sampling starts from
    (_, states, _), _ = generator.model.sampler().start(generator.seed_ids("the will")[None])
    np.testing.assert_allclose(inspection.layers[-1]["h"][-1], states[-1][0][0].numpy(), atol=1e-5)
    inspection = lstmkit.load(trained_runs["translate"]).inspect("one two three.")
    assert inspection.tokens == ["one", "two", "three"]
    lstm_equations_hold(inspection, 3)
    assert json.loads(json.dumps(inspection.to_json()))["layers"][0]["name"] == "layer 1"


def test_generate_streams_the_text_sample_and_the_command_give(trained_runs, capsys):
    generator = lstmkit.load(trained_runs["textgen"])
    pieces = list(generator.generate("the ", 40, temperature=0.7, seed=5))
    assert len(pieces) == 40 and all(isinstance(piece, str) and len(piece) == 1 for piece in pieces)
    streamed = "".join(pieces)
    assert streamed == generator.sample("the ", 40, temperature=0.7, seed=5)[0]
    printed = cli_json(capsys, "textgen", "sample", trained_runs["textgen"], "--seed-text", "the ", "--length", 40,
                       "--temperature", 0.7, "--seed", 5)
    assert printed == [{"seed_text": "the ", "sample": streamed}]
    two = list(generator.generate("the ", 30, top_p=0.9, num=2, seed=1))
    assert ["".join(parts) for parts in zip(*two)] == generator.sample("the ", 30, top_p=0.9, num=2, seed=1)
    one = list(generator.generate("the ", 30, top_p=0.9, num=1, seed=1))  # num given: tuples, as for several
    assert all(isinstance(step, tuple) and len(step) == 1 for step in one)


def test_translate_is_what_the_command_prints(trained_runs, capsys):
    sentences = ["one two three.", "nine.", "five four"]
    translator = lstmkit.load(trained_runs["translate"])
    printed = cli_json(capsys, "translate", "run", trained_runs["translate"], *sentences)
    assert [row["translation"] for row in printed] == translator.translate(sentences)


def test_threads_may_share_a_predictor(trained_runs):
    classifier, generator = lstmkit.load(trained_runs["sentiment"]), lstmkit.load(trained_runs["textgen"])
    translator = lstmkit.load(trained_runs["translate"])
    calls = [lambda: classifier.predict(REVIEWS), lambda: classifier.explain(REVIEWS[0]),
             lambda: list(generator.generate("the ", 30, seed=2)), lambda: translator.translate(["one two."]),
             lambda: translator.translate(["one two.", "three"], beam=3)]
    alone = [call() for call in calls]
    together = [None] * (4 * len(calls))

    def work(slot):
        together[slot] = calls[slot % len(calls)]()

    threads = [threading.Thread(target=work, args=(slot,)) for slot in range(len(together))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert together == alone * 4
