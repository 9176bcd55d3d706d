"""Small made-up data the tests of several modules share, and the tutorials rendered once."""

import importlib.util
import os
import random
import sys
from pathlib import Path

import pytest

# `make test` runs the suite in pytest-xdist workers: each on one torch thread, and so are the processes its
# tests start (unless a test says otherwise), since OpenMP threads spin and two workers of two would stall each other
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ["OMP_NUM_THREADS"] = "1"
    import torch
    torch.set_num_threads(1)

from lstmkit.cli import main
from lstmkit.data import nietzsche_path

POSITIVE = "good great wonderful superb loved brilliant moving".split()
NEGATIVE = "bad awful boring terrible hated dull weak".split()
NEUTRAL = "the movie film plot actor scene it was and a of story".split()


def review(rng, words, length):
    return " ".join(rng.choice(words if rng.random() < 0.3 else NEUTRAL) for _ in range(length)) + ".<br />"


def make_aclimdb(root, per_class=120, seed=0):
    """A tiny aclImdb layout: train/test x pos/neg plus train/unsup."""
    rng = random.Random(seed)
    for split in ("train", "test"):
        for label, words in (("pos", POSITIVE), ("neg", NEGATIVE)):
            folder = root / "aclImdb" / split / label
            folder.mkdir(parents=True)
            for number in range(per_class):
                (folder / f"{number}_7.txt").write_text(review(rng, words, rng.randint(5, 60)), encoding="utf-8")
            # aclImdb's urls_<class>.txt: line i is review i's movie; here three reviews per movie
            (folder.parent / f"urls_{label}.txt").write_text(
                "".join(f"http://www.imdb.com/title/tt{number // 3:07d}/usercomments\n" for number in range(per_class)))
    unsup = root / "aclImdb" / "train" / "unsup"
    unsup.mkdir()
    for number in range(200):
        (unsup / f"{number}_0.txt").write_text(review(rng, rng.choice([POSITIVE, NEGATIVE]), 40), encoding="utf-8")
    return root / "aclImdb"


ENGLISH = "zero one two three four five six seven eight nine".split()
GERMAN = "null eins zwei drei vier fünf sechs sieben acht neun".split()
SMALL = ["--test-pairs", "40", "--validation-pairs", "40", "--bleu-sentences", "40"]


def number_pairs(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    lines = set()
    while len(lines) < count:
        digits = [rng.randrange(10) for _ in range(rng.randint(1, 4))]
        lines.add(" ".join(ENGLISH[d] for d in digits) + ".\t" + " ".join(GERMAN[d] for d in digits).capitalize() + ".")
    return sorted(lines)


@pytest.fixture(scope="session")
def tiny_aclimdb(tmp_path_factory):
    return make_aclimdb(tmp_path_factory.mktemp("aclimdb"))


@pytest.fixture(scope="session")
def commands(tiny_aclimdb, tmp_path_factory):
    """A small `train` command line for each task, without --out."""
    folder = tmp_path_factory.mktemp("inputs")
    (folder / "text.txt").write_text(nietzsche_path().read_text(encoding="utf-8")[:8000], encoding="utf-8")
    (folder / "pairs.tsv").write_text("\n".join(number_pairs(300, 1)) + "\n", encoding="utf-8")
    return {
        "sentiment": ["sentiment", "train", "--data", tiny_aclimdb, "--epochs", 2, "--embedding-dim", 16,
                      "--units", 16, "--batch-size", 30],
        "textgen": ["textgen", "train", "--text", folder / "text.txt", "--epochs", 1, "--hidden", 32],
        "translate": ["translate", "train", "--pairs", folder / "pairs.tsv", "--epochs", 2, "--hidden", 16,
                      "--level", "word", "--embedding-dim", 8, *SMALL],
    }


@pytest.fixture(scope="session")
def trained_runs(commands, tmp_path_factory):
    """One small run per task, trained for one epoch by the command line: task -> its folder. Shared:
    copy one before changing it."""
    folder, runs = tmp_path_factory.mktemp("trained"), {}
    for task, command in commands.items():
        runs[task] = folder / task
        assert main([str(arg) for arg in [*command, "--epochs", 1, "--out", runs[task], "--quiet"]]) == 0
    return runs


@pytest.fixture
def run_cli(capsys):
    """run_cli(*args) -> (exit code, stdout, stderr) of `lstmkit *args`, run in this process."""
    def run(*args):
        code = main([str(arg) for arg in args])
        out, err = capsys.readouterr()
        return code, out, err

    return run



@pytest.fixture
def train_cli(capfd):
    """train_cli(command, out, *extra): runs `lstmkit *command --out OUT --quiet *extra` in this
    process -> (exit code, stdout, stderr)."""
    def train(command, out, *extra):
        code = main([str(arg) for arg in [*command, "--out", out, "--quiet", *extra]])
        output, errors = capfd.readouterr()
        return code, output, errors

    return train


@pytest.fixture(scope="session", name="make_aclimdb")
def make_aclimdb_fixture():
    """make_aclimdb(root, per_class=120, seed=0) -> a small aclImdb folder written under root."""
    return make_aclimdb


@pytest.fixture(scope="session", name="number_pairs")
def number_pairs_fixture():
    """number_pairs(count, seed) -> Anki-style lines: numbers in English and German."""
    return number_pairs


@pytest.fixture(scope="session")
def small_split():
    """translate train's options for a small pairs file: 40 pairs held out for test and validation."""
    return SMALL


@pytest.fixture(scope="session")
def tutorial_renderer():
    """tutorials/render.py as a module (the tutorials folder is not a package)."""
    path = Path(__file__).resolve().parents[1] / "tutorials" / "render.py"
    spec = importlib.util.spec_from_file_location("lstmkit_tutorials_render", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up while it is made
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def rendered_tutorials(tutorial_renderer, tmp_path_factory):
    """Every tutorial rendered once at the small size into one folder: {stem: render.Rendered}.
    Their runs go to a folder of their own (LSTMKIT_TUTORIAL_OUT), not among the pages."""
    before = os.environ.get("LSTMKIT_TUTORIAL_OUT")
    os.environ["LSTMKIT_TUTORIAL_OUT"] = str(tmp_path_factory.mktemp("tutorial-runs"))
    try:
        rendered = tutorial_renderer.render_all(tmp_path_factory.mktemp("tutorials"))
    finally:
        if before is None:
            del os.environ["LSTMKIT_TUTORIAL_OUT"]
        else:
            os.environ["LSTMKIT_TUTORIAL_OUT"] = before
    return {page.path.stem: page for page in rendered}
