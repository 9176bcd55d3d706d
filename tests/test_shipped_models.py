"""The models lstmkit-models ships (models/, installed by `make`): every recipe is shipped, and each
model matches its sha256, has a card made from its own files, loads and answers."""

import importlib.util
import json
from pathlib import Path

import pytest

import lstmkit
from lstmkit import catalogue

BUILD = Path(__file__).parents[1] / "models" / "build.py"
_spec = importlib.util.spec_from_file_location("models_build", BUILD)
build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build)
RECIPES = build.recipes()


def test_every_recipe_is_shipped_and_installed_from_this_checkout():
    shipped = json.loads((build.PACKAGE / "catalogue.json").read_text(encoding="utf-8"))["models"]
    assert [entry["name"] for entry in shipped] == list(RECIPES)
    for name in RECIPES:
        assert catalogue.named(name).path == build.PACKAGE / name


@pytest.mark.parametrize("name", list(RECIPES))
def test_its_files_match_their_sha256_and_its_card_comes_from_them(name):
    model = catalogue.named(name)
    folder = catalogue.verified(model)
    assert set(model.files) == {path.name for path in folder.iterdir()}  # nothing unchecked beside them
    assert (folder / catalogue.CARD).read_text(encoding="utf-8") == build.render_card(RECIPES[name], folder)
    measured = json.loads((folder / "measured.json").read_text(encoding="utf-8"))
    assert model.metric == {"name": measured["name"], "value": measured["value"]}
    # every further metric its recipe asks for was measured on these very files
    assert [other["name"] for other in measured.get("more", [])] == \
        [other["name"] for other in RECIPES[name].get("also_measured", [])]
    assert (build.DOCS / f"{name}.md").read_text(encoding="utf-8") == catalogue.card(name)


def _answers(name: str):
    predictor, task = lstmkit.load(name), catalogue.named(name).task
    if task == "sentiment":
        good, bad = predictor.predict(["A wonderful film, superb acting and a moving story",
                                       "Dull, boring and a waste of two hours"])
        assert good["label"] == "pos" and bad["label"] == "neg"
        return good["probabilities"]["pos"], bad["probabilities"]["neg"]
    if task == "textgen":
        text = "".join(predictor.generate("the ", 50, seed=0))
        assert len(text) == 50
        return text
    translation = predictor.translate(["I love you."])[0]
    assert "liebe" in translation.lower(), translation  # "Ich liebe dich." / "Ich liebe Sie."
    return translation


@pytest.mark.parametrize("name", list(RECIPES))
def test_it_loads_and_answers(name):
    _answers(name)


def test_the_default_sentiment_model_is_sure_of_plain_reviews():
    name = next(model.name for model in catalogue.defaults() if model.task == "sentiment")
    positive, negative = _answers(name)
    assert positive >= 0.9 and negative >= 0.9


@pytest.mark.filterwarnings("ignore:.*validation texts")  # 40 validation sentences, on purpose
def test_the_small_preset_fine_tunes_the_installed_imdb_best(tmp_path, run_cli):
    """`--preset small` starts from imdb-best's shape, vocabulary and weights (SST-2 sentences here)."""
    sentences = Path(__file__).parents[1] / "bench" / "data" / "sst2" / "train.csv"
    code, out, err = run_cli("sentiment", "train", "--preset", "small", "--data", sentences, "--out", tmp_path / "run",
                             "--train-texts", 200, "--epochs", 1)
    assert code == 0, err
    assert "starting from imdb-best: its vocabulary (30,000)" in out
    saved = json.loads((tmp_path / "run" / "config.json").read_text(encoding="utf-8"))
    assert saved["config"]["units"] == 64 and saved["config"]["bidirectional"] is True
