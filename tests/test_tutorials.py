"""The tutorials (tutorials/NN_slug.py) run top to bottom at the small size and teach what they say:
the lecture's counts, trained runs, the shipped models' outputs, the figures; and tutorials/render.py
turns a percent-format script into a page with its output and figures."""

from __future__ import annotations

import os
import re
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RESULTS = (ROOT / "docs" / "RESULTS.md").read_text(encoding="utf-8")
TESTED = {"01_lstm_cell", "02_imdb_simplernn_vs_lstm", "03_dropout_stacking_bidirectional", "04_pretrained_embeddings",
          "05_text_generation", "06_seq2seq_translation", "07_inside_the_lstm"}


def page(rendered) -> str:
    return rendered.markdown.read_text(encoding="utf-8")


# ---- every tutorial -----------------------------------------------------------------------------------

def test_every_tutorial_is_tested(tutorial_renderer):
    assert {path.stem for path in tutorial_renderer.tutorials()} == TESTED


def test_every_tutorial_renders_as_a_page_with_its_figures(rendered_tutorials):
    assert set(rendered_tutorials) == TESTED
    for stem, rendered in rendered_tutorials.items():
        markdown = page(rendered)
        assert markdown.startswith("# "), f"{stem}: the first cell is not its title"
        assert "```python\n" in markdown and "\n```\n" in markdown
        assert rendered.figures, f"{stem} draws no figure"
        for number, figure in enumerate(rendered.figures, 1):
            assert figure.name == f"{stem}-{number}.png" and figure.read_bytes().startswith(b"\x89PNG")
            assert f"![]({figure.name})" in markdown
        assert not re.search(r"\b(session|issue) \d", markdown, re.IGNORECASE)


# ---- the renderer -------------------------------------------------------------------------------------

def write_tutorial(folder: Path, body: str) -> Path:
    path = folder / "99_example.py"
    path.write_text(textwrap.dedent(body).lstrip(), encoding="utf-8")
    return path


def test_render_writes_prose_code_output_and_figures_in_order(tutorial_renderer, tmp_path, monkeypatch):
    monkeypatch.delenv("LSTMKIT_TUTORIAL_OUT", raising=False)
    path = write_tutorial(tmp_path, """
        # %% [markdown]
        # # An example
        #
        # Some prose.

        # %%
        import os
        import matplotlib.pyplot as plt
        print("size", os.environ["LSTMKIT_TUTORIAL_SIZE"])
        value, runs = 41, os.environ["LSTMKIT_TUTORIAL_OUT"]

        # %%
        value += 1
        plt.plot([1, 2])
        plt.figure()
        plt.show()

        # %% [markdown]
        # The end.
        """)
    size_before = os.environ.get("LSTMKIT_TUTORIAL_SIZE")
    rendered = tutorial_renderer.render(path, tmp_path / "out", size="full")
    assert os.environ.get("LSTMKIT_TUTORIAL_SIZE") == size_before  # set while it runs, then put back
    assert rendered.namespace["value"] == 42  # one namespace for every cell
    assert not Path(rendered.namespace["runs"]).exists()  # its runs went to a temporary folder, removed
    assert [figure.name for figure in rendered.figures] == ["99_example-1.png", "99_example-2.png"]
    assert page(rendered) == textwrap.dedent("""\
        # An example

        Some prose.

        ```python
        import os
        import matplotlib.pyplot as plt
        print("size", os.environ["LSTMKIT_TUTORIAL_SIZE"])
        value, runs = 41, os.environ["LSTMKIT_TUTORIAL_OUT"]
        ```

        ```
        size full
        ```

        ```python
        value += 1
        plt.plot([1, 2])
        plt.figure()
        plt.show()
        ```

        ![](99_example-1.png)

        ![](99_example-2.png)

        The end.
        """)


def test_a_failing_cell_names_the_tutorial_and_the_cell(tutorial_renderer, tmp_path):
    path = write_tutorial(tmp_path, """
        # %% [markdown]
        # # Broken

        # %%
        x = 1

        # %%
        1 / 0
        """)
    with pytest.raises(tutorial_renderer.TutorialError, match=r"99_example\.py, cell 3: ZeroDivisionError"):
        tutorial_renderer.render(path, tmp_path / "out")
    with pytest.raises(ValueError, match="size"):
        tutorial_renderer.render(path, tmp_path / "out", size="medium")


# ---- what each tutorial teaches -----------------------------------------------------------------------

def test_01_the_equations_match_the_layer_and_the_lectures_counts(rendered_tutorials):
    rendered = rendered_tutorials["01_lstm_cell"]
    names = rendered.namespace
    assert names["parameters"] == names["formula"] == 8_320
    assert names["torch_parameters"] == 8_448
    assert names["difference"] < 1e-5
    assert 0.70 < names["forget"] < 0.76  # σ(1): the forget gate's bias starts at 1
    assert names["counts"] == {"IMDB LSTM": 328_353, "stacked 3×LSTM(32)": 344_993, "Bi-LSTM(32)": 336_705,
                               "SimpleRNN(32)": 322_113, "char model": 102_585}
    assert "Total params: 328,353" in page(rendered) and len(rendered.figures) == 2


def test_02_trains_both_models_on_a_slice_of_imdb(rendered_tutorials):
    rendered = rendered_tutorials["02_imdb_simplernn_vs_lstm"]
    results, markdown = rendered.namespace["results"], page(rendered)
    assert set(results) == {"lstm", "simplernn"}
    for rnn, row in results.items():
        assert 0 <= row["test_accuracy"] <= 1 and row["best_epoch"] in (1, 2)
        assert (rendered.namespace["OUT"] / "02-imdb" / rnn / "model.safetensors").is_file()
    assert "800 training and 400 test reviews" in markdown  # the small slice of the real archive
    assert "its words: [" in markdown and "as ids (0 padding, 1 unknown word)" in markdown
    assert "Total params: 328,353" in markdown and "Total params: 322,113" in markdown
    # the shipped lecture model gets both reviews right
    assert re.search(r"imdb-lstm:\n  pos \(\d\.\d\d\): A wonderful film.*\n  neg \(\d\.\d\d\): Dull", markdown)


def test_03_each_trick_changes_the_shapes_and_counts_as_the_lecture_says(rendered_tutorials):
    rendered = rendered_tutorials["03_dropout_stacking_bidirectional"]
    names, markdown = rendered.namespace, page(rendered)
    assert names["parameter_counts"] == {"lstm": 328_353, "dropout": 328_353, "stacked": 344_993,
                                         "bilstm": 336_705}
    assert set(names["results"]) == {"dropout", "stacked", "bilstm"}
    assert "(4, 500, 32) every step's output" in markdown and "(4, 64) forward and backward" in markdown
    assert "training twice  False" in markdown and "eval mode, twice     True" in markdown
    for accuracy in names["RECORDED"].values():  # the full-size numbers it draws are RESULTS's
        assert f"{accuracy * 100:.2f}" in RESULTS


def test_04_pretrains_saves_and_freezes_the_embedding(rendered_tutorials):
    rendered = rendered_tutorials["04_pretrained_embeddings"]
    names, markdown = rendered.namespace, page(rendered)
    header = names["vectors_file"].read_text(encoding="utf-8").splitlines()[0].split()
    assert header[1] == "32"  # step 2: the lecture-sized vectors, in word2vec's text format
    assert names["frozen"] and names["trained_config"].freeze_embedding  # step 3
    assert "Non-trainable params: 320,000" in markdown and "nearest to 'great'" in markdown
    assert names["best_config"].pretrained == "word2vec" and names["best_config"].freeze_embedding


def test_05_counts_the_lectures_text_and_samples_at_each_temperature(rendered_tutorials):
    rendered = rendered_tutorials["05_text_generation"]
    names, markdown = rendered.namespace, page(rendered)
    assert "600,893 characters, 57 distinct, 200,278 segments of 60" in markdown
    assert len(names["result"]["history"]) == 1
    assert names["models"]["nietzsche-lstm"].parameter_count() == 102_585
    assert set(names["samples"]) == {0.2, 0.5, 1.0} and all(len(s) == 400 for s in names["samples"].values())
    for rows in names["shares"].values():  # colder: more real words, fewer distinct ones
        assert rows[0][0] > rows[-1][0] and rows[0][1] < rows[-1][1]
    temperature = names["SWEEP"].index(1.0)  # the better model keeps closer to real words, as it says
    assert names["shares"]["nietzsche-fast"][temperature][0] > names["shares"]["nietzsche-lstm"][temperature][0]


def test_06_trains_the_lecture_model_and_attention_and_scores_them(rendered_tutorials):
    rendered = rendered_tutorials["06_seq2seq_translation"]
    names, markdown = rendered.namespace, page(rendered)
    assert set(names["scores"]) == {"char (the lecture)", "word + attention"}
    for score in names["scores"].values():
        assert 0 <= score["bleu"] <= 100 and score["sentences"] > 0
    assert "teacher forcing: the decoder reads '\\tich mag dich' and predicts 'ich mag dich\\n'" in markdown
    assert markdown.count("  greedy: Go to sleep. -> ") == 2 and markdown.count("  beam 5: ") == 2
    for bleu in names["LADDER"].values():  # the ladder it draws is RESULTS's
        assert re.search(rf"\| (\*\*)?{bleu:.2f}(\*\*)? \|", RESULTS)


def test_07_inspects_the_shipped_models(rendered_tutorials):
    rendered = rendered_tutorials["07_inside_the_lstm"]
    names = rendered.namespace
    assert names["belt_error"] < 1e-4 and names["output_error"] < 1e-5  # the lecture's equations, every step
    correlations = {name: abs(correlation) for name, (_, correlation) in names["followers"].items()}
    quotes = correlations.pop("inside quotes")
    assert min(correlations.values()) > 0.5 and quotes < min(correlations.values()) - 0.2  # as it says
    assert names["review_inspection"].names == ["layer 1 forward", "layer 1 backward"]
    assert names["verdict"]["label"] == "pos" and len(rendered.figures) == 3
