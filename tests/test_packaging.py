"""The package as users get it: one declared list of dependencies that matches the imports, the
wheel built, installed by pip's resolver into a new venv and run from another folder, and what a
command needs checked before it trains."""

import ast
import importlib.metadata
import json
import os
import re
import subprocess
import sys
import tarfile
import time
import tomllib
import urllib.request
import zipfile
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from lstmkit.training import recipe  # every task's train() calls fit() from here
from lstmkit import dependencies
from lstmkit.cli import main
from lstmkit.training.run import LAST, RunDirectory


ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src" / "lstmkit"


def declared(pyproject: dict) -> dict[str | None, set[str]]:
    """{None: base distribution names, extra: names} from pyproject.toml's tables."""
    def names(lines):
        return {canonical(line.split(";")[0].split("[")[0].split("=")[0].split("<")[0].split(">")[0])
                for line in lines}

    project = pyproject["project"]
    return {None: names(project["dependencies"]),
            **{extra: names(lines) for extra, lines in project.get("optional-dependencies", {}).items()}}


def canonical(name: str) -> str:
    """A distribution's name as pip compares them: fastapi_offline and FastAPI-Offline are one."""
    return re.sub(r"[-_.]+", "-", name.strip()).lower()


def undeclared_imports(pyproject: dict) -> list[str]:
    """Each third-party module imported under src/lstmkit that pyproject.toml does not declare:
    an `import` statement must name a base dependency; need("module", ...) a base or extra one."""
    declared_names = declared(pyproject)
    base, anywhere = declared_names[None], set().union(*declared_names.values())
    owners = importlib.metadata.packages_distributions()
    problems = []
    for path in sorted(SOURCE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules, allowed = [alias.name for alias in node.names], base
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                modules, allowed = [node.module], base
            elif (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "need" and node.args
                  and isinstance(node.args[0], ast.Constant)):
                modules, allowed = [node.args[0].value], anywhere
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top in sys.stdlib_module_names or top == "lstmkit":
                    continue
                distributions = {canonical(name) for name in owners.get(top, [top])}
                if not distributions & allowed:
                    where = "base dependencies" if allowed is base else "dependencies or extras"
                    problems.append(f"{path.relative_to(ROOT)} imports {module} ({', '.join(sorted(distributions))}), "
                                    f"which pyproject.toml's {where} do not declare")
    return problems


def test_every_third_party_import_is_a_declared_dependency():
    assert undeclared_imports(tomllib.loads((ROOT / "pyproject.toml").read_text())) == []


@pytest.mark.parametrize("removed", ["tqdm", "gensim"])
def test_the_import_check_fails_when_a_dependency_is_left_out(removed):
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    project = pyproject["project"]
    project["dependencies"] = [line for line in project["dependencies"] if not line.startswith(removed)]
    for extra, lines in project["optional-dependencies"].items():
        project["optional-dependencies"][extra] = [line for line in lines if not line.startswith(removed)]
    problems = undeclared_imports(pyproject)
    assert problems and all(removed in problem for problem in problems)


def test_the_installed_metadata_is_pyproject_toml():
    # the venv was installed from pyproject.toml by pip (make): its metadata and the file agree
    installed = {extra: set(names) for extra, names in dependencies.requirements().items()}
    assert installed == declared(tomllib.loads((ROOT / "pyproject.toml").read_text()))


def test_a_missing_optional_module_is_one_line_naming_the_extra_before_training(tmp_path, monkeypatch, train_cli,
                                                                                make_aclimdb):
    for module in ("gensim", "gensim.models"):
        monkeypatch.setitem(sys.modules, module, None)  # import gensim now fails as if it were not installed
    data = make_aclimdb(tmp_path / "data", per_class=20)
    code, _, errors = train_cli(["sentiment", "train", "--data", data, "--pretrained", "word2vec"], tmp_path / "run")
    assert code == 1
    assert errors == "lstmkit: loading or training word vectors needs gensim; pip install 'lstmkit[vectors]'\n"
    assert not (tmp_path / "run" / LAST).exists()


def test_a_missing_base_module_is_named_before_training(tmp_path, monkeypatch, train_cli, number_pairs):
    monkeypatch.setitem(sys.modules, "sacrebleu", None)
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("\n".join(number_pairs(120, 0)) + "\n", encoding="utf-8")
    code, _, errors = train_cli(["translate", "train", "--pairs", pairs, "--test-pairs", 20,
                                    "--validation-pairs", 20], tmp_path / "run")
    assert code == 1
    assert errors == "lstmkit: scoring translations (BLEU, chrF) needs sacrebleu; pip install 'sacrebleu==2.6.0'\n"
    assert not (tmp_path / "run" / LAST).exists()


def test_an_out_folder_that_cannot_be_written_is_refused_before_training(tmp_path, train_cli, make_aclimdb):
    data = make_aclimdb(tmp_path / "data", per_class=20)
    code, _, errors = train_cli(["sentiment", "train", "--data", data], "/proc/lstmkit-run")
    assert code == 2 and errors.startswith("lstmkit: error: --out /proc/lstmkit-run: cannot write in /proc")
    assert errors.count("\n") == 1


@pytest.mark.parametrize("task", ["sentiment", "textgen", "translate"])
def test_a_failure_in_validation_keeps_the_trained_epoch_and_resume_goes_on(task, commands, tmp_path, monkeypatch,
                                                                            train_cli):
    command = [*commands[task], "--epochs", 2]
    assert train_cli(command, tmp_path / "whole")[0] == 0
    original_fit = recipe.fit

    def fit_whose_validation_fails(model, optimizer, **kwargs):
        def validate(model):
            raise RuntimeError("the scorer broke")

        return original_fit(model, optimizer, **{**kwargs, "validate": validate})

    monkeypatch.setattr(recipe, "fit", fit_whose_validation_fails)
    run = tmp_path / "run"
    code, _, errors = train_cli(command, run)
    assert code == 1
    assert errors.startswith(f"lstmkit: error: RuntimeError: the scorer broke; the last completed epoch (1) is saved "
                             f"in {run}; continue with: lstmkit {task} train ") and errors.endswith(" --resume\n")
    assert RunDirectory(run).trained_epochs() == 1 and RunDirectory(run).load_history() == []
    mine, theirs = load_file(run / LAST), load_file(tmp_path / "whole" / LAST)  # the trained epoch loads
    assert {key: value.shape for key, value in mine.items()} == {key: value.shape for key, value in theirs.items()}
    monkeypatch.undo()
    assert train_cli(command, run, "--resume")[0] == 0  # validates epoch 1, then trains epoch 2
    assert [row["epoch"] for row in RunDirectory(run).load_history()] == [1, 2]
    mine = load_file(run / LAST)
    assert all(torch.equal(mine[key], theirs[key]) for key in theirs)


def test_version_names_lstmkit_torch_python_and_cuda(capsys):
    assert main(["--version"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("lstmkit 0.1.0, torch 2.13.0") and f"Python {sys.version_info.major}.{sys.version_info.minor}" in out
    assert "CUDA" in out


def test_the_wheel_installs_in_a_new_venv_and_every_task_runs_from_another_folder(tmp_path, number_pairs, make_aclimdb):
    """Builds the sdist and the wheel, installs the wheel with pip's resolver into a venv without
    system packages, runs pip check, then trains, evaluates and uses each task outside the checkout."""
    dist, venv, work = tmp_path / "dist", tmp_path / "venv", tmp_path / "elsewhere"
    work.mkdir()

    def run(*command, cwd=work):
        # bytecode written on first import: the venv's modules are compiled once, not by every command
        done = subprocess.run([str(part) for part in command], cwd=cwd, capture_output=True, text=True, timeout=600,
                              env={key: value for key, value in os.environ.items()
                                   if key not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE")})
        assert done.returncode == 0, f"{command}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
        return done.stdout

    run(sys.executable, "-m", "build", "--no-isolation", "--outdir", dist, ROOT, cwd=ROOT)
    run(sys.executable, "-m", "build", "--no-isolation", "--wheel", "--outdir", dist, ROOT / "models", cwd=ROOT)
    wheel, sdist = next(dist.glob("lstmkit-*.whl")), next(dist.glob("lstmkit-*.tar.gz"))
    models_wheel = next(dist.glob("lstmkit_models-*.whl"))
    assert "lstmkit-0.1.0.dist-info/licenses/LICENSE" in zipfile.ZipFile(wheel).namelist()
    assert "lstmkit/data/nietzsche.txt" in zipfile.ZipFile(wheel).namelist()
    assert {"lstmkit-0.1.0/LICENSE", "lstmkit-0.1.0/src/lstmkit/data/nietzsche.txt",
            "lstmkit-0.1.0/src/lstmkit/nn/steploops.c"} <= set(tarfile.open(sdist).getnames())
    assert any(name.startswith("lstmkit/nn/_steploops.") for name in zipfile.ZipFile(wheel).namelist())
    run(sys.executable, "-m", "venv", venv)
    python, lstmkit = venv / "bin" / "python", venv / "bin" / "lstmkit"
    run(python, "-m", "pip", "install", "--quiet", "--no-compile", wheel, models_wheel)  # no .pyc: half the time
    run(python, "-m", "pip", "check")
    where = run(python, "-c", "import lstmkit, lstmkit.data; print(lstmkit.__file__); print(lstmkit.data.nietzsche_path())")
    assert all(line.startswith(str(venv)) for line in where.split())  # the installed package and its data
    assert run(python, "-c", "from lstmkit.nn import steploops; print(steploops.available())").strip() == "True"
    assert run(lstmkit, "--version").startswith("lstmkit 0.1.0, torch 2.13.0")

    text = work / "text.txt"  # a piece of the shipped text, read from the installed package
    text.write_text(run(python, "-c", "import lstmkit.data as d; print(d.nietzsche_path().read_text()[:6000])"))
    data = make_aclimdb(work / "imdb", per_class=30)
    pairs = work / "pairs.tsv"
    pairs.write_text("\n".join(number_pairs(150, 0)) + "\n", encoding="utf-8")
    commands = [  # run by the installed package's main() in one process: torch loads once
        ["textgen", "train", "--text", text, "--out", "textgen", "--hidden", 16, "--epochs", 1, "--quiet"],
        ["textgen", "evaluate", "textgen", "--text", text],
        ["sentiment", "train", "--data", data, "--out", "sentiment", "--epochs", 1, "--embedding-dim", 8, "--units", 8,
         "--quiet"],
        ["sentiment", "evaluate", "sentiment", "--data", data, "--json"],
        ["sentiment", "predict", "sentiment", "a wonderful film"],
        ["translate", "train", "--pairs", pairs, "--out", "translate", "--epochs", 1, "--hidden", 16, "--level", "word",
         "--embedding-dim", 8, "--test-pairs", 20, "--validation-pairs", 20, "--quiet"],
        ["translate", "evaluate", "translate", "--json"],
        ["translate", "run", "translate", "one two three."],
        ["inspect", "textgen", "the will", "--out", "gates.png"],
    ]
    program = ("import json, sys\nfrom lstmkit.cli import main\n"
               "for command in json.loads(sys.argv[1]):\n    assert main(command) == 0, command\n    print('--- done')")
    outputs = run(python, "-c", program, json.dumps([[str(part) for part in command] for command in commands]))
    outputs = outputs.split("--- done\n")
    assert "nats" in outputs[1] and "accuracy" in outputs[3] and outputs[4].strip()
    assert "bleu" in outputs[6] and outputs[7].strip()
    assert outputs[8].startswith("gates and cell state of units") and (work / "gates.png").stat().st_size > 10_000
    # the web page's files are in the wheel
    sizes = run(python, "-c", "from lstmkit.serve.app import _static as s; from lstmkit.tasks import registry; "
                "print(len(s('index.html')), len(s('app.js')), len(s('style.css')), "
                "*(len(t.panel_html() + t.panel_script()) for t in registry().values()))")
    assert all(int(size) > 500 for size in sizes.split()), sizes
    # and the installed command itself, on a run it made
    assert run(lstmkit, "textgen", "sample", "textgen", "--length", 20, "--seed", 0).strip()
    _the_installed_models_answer(python, lstmkit, run, venv)


def _the_installed_models_answer(python, lstmkit, run, venv):
    """The models wheel: its models are listed from the venv, the default sentiment model is sure of
    plain reviews, and `lstmkit serve` with no RUN answers every task it serves within 15 s."""
    listed = json.loads(run(lstmkit, "models", "--json"))
    assert listed and all(model["path"].startswith(str(venv)) for model in listed)
    default = next(model["name"] for model in listed if model["default"] and model["task"] == "sentiment")
    probabilities = run(python, "-c", f"import lstmkit; c = lstmkit.load({default!r}); print(*[r['probability'] for r in "
                                      "c.predict(['A wonderful film, superb acting and a moving story', "
                                      "'Dull, boring and a waste of two hours'])])")
    assert all(float(p) >= 0.9 for p in probabilities.split()), probabilities
    server = subprocess.Popen([lstmkit, "serve", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    try:
        started = time.monotonic()
        line = server.stdout.readline()
        assert "serving" in line, server.stderr.read()
        url = "http://" + line.split("http://", 1)[1].split()[0].rstrip("/")
        requests = {"sentiment": ("/v1/sentiment", {"texts": ["a fine film"]}),
                    "textgen": ("/v1/generate", {"seed_text": "the ", "length": 10}),
                    "translate": ("/v1/translate", {"sentences": ["I love you."]})}
        served = {model["task"] for model in listed if model["default"]}
        for task in sorted(served):
            path, body = requests[task]
            request = urllib.request.Request(url + path, json.dumps(body).encode(), {"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=15) as response:
                assert response.status == 200 and json.loads(response.read())
        assert time.monotonic() - started < 15
    finally:
        server.terminate()
        assert server.wait(60) == 0
