"""Translation: the model's pieces, decoding, and the command line on a small task it learns in seconds
(English number words -> German number words), plus the lecture's model on real pairs."""

import dataclasses
import itertools
import json
from pathlib import Path

import pytest
import torch

from lstmkit.cli import main
from lstmkit.tasks.translate import PRESETS, Seq2Seq, TranslateConfig, load, read_corpus, split_key
from lstmkit.generation.search import beam_decode, greedy_decode
from lstmkit.tasks.translate.model import Seq2SeqSteps
from lstmkit.text.batching import pad_right
from lstmkit.text.tokens import PAD, STOP, UNKNOWN
from lstmkit.tasks.translate.pairs import read_pairs
from lstmkit.training.run import RunDirectory


ANKI = Path(__file__).resolve().parents[4] / "shared" / "data" / "anki"


@pytest.fixture(scope="module")
def numbers(tmp_path_factory, number_pairs):
    path = tmp_path_factory.mktemp("pairs") / "deu-eng.txt"
    path.write_text("\n".join(number_pairs(600, 0)) + "\nno tab on this line\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def trained(numbers, tmp_path_factory, small_split):
    out = tmp_path_factory.mktemp("runs") / "numbers"
    assert main(["translate", "train", "--pairs", str(numbers), "--out", str(out), "--level", "word",
                 "--embedding-dim", "16", "--hidden", "48", "--attention", "--encoder", "bilstm", "--optimizer",
                 "adam", "--lr", "0.01", "--epochs", "25", "--batch-size", "32", "--no-lowercase",
                 "--no-strip-punctuation", "--quiet", *small_split]) == 0
    return out


def tiny(**options) -> TranslateConfig:
    return dataclasses.replace(TranslateConfig(hidden=8, layers=1), **options)


@pytest.mark.parametrize("options", [dict(), dict(encoder="bilstm"), dict(attention=True),
                                     dict(level="word", embedding_dim=4, encoder="bilstm", attention=True, layers=2)])
def test_every_combination_gives_logits_per_target_step(options):
    torch.manual_seed(0)
    model = Seq2Seq(tiny(**options), 11, {"deu": 13, "fra": 7})
    source, lengths = pad_right([[4, 5, 6], [7]])
    target_in = torch.tensor([[2, 4, 5], [2, 6, 0]])
    assert model(source, lengths, target_in, "deu").shape == (2, 3, 13)
    assert model(source, lengths, target_in[:, :2], "fra").shape == (2, 2, 7)


def test_label_smoothing_spreads_the_training_targets_only():
    from lstmkit.tasks.translate.training import batch_loss_on

    torch.manual_seed(0)
    model = Seq2Seq(tiny(), 11, {"deu": 13})
    source, lengths = pad_right([[4, 5, 6], [7]])
    target_out = torch.tensor([[4, 5, STOP], [6, STOP, PAD]])
    target_in = torch.tensor([[2, 4, 5], [2, 6, PAD]])
    batch = (source, lengths, target_in, target_out, torch.zeros(2, dtype=torch.long))
    logits = model(source, lengths, target_in, "deu").flatten(0, 1)[target_out.flatten() != PAD]
    targets = target_out.flatten()[target_out.flatten() != PAD]
    log_p = torch.log_softmax(logits, -1)
    plain, smoothed = (batch_loss_on(["deu"], "cpu", smoothing)(model, batch)[0] for smoothing in (0.0, 0.2))
    expected = (0.8 * -log_p.gather(1, targets[:, None]).mean() - 0.2 * log_p.mean(1).mean())
    assert plain.item() == pytest.approx(-log_p.gather(1, targets[:, None]).mean().item(), rel=1e-5)
    assert smoothed.item() == pytest.approx(expected.item(), rel=1e-5)


@pytest.mark.parametrize("cpu_has_bfloat16", [True, False])
def test_bf16_output_trains_in_bfloat16_only_where_that_is_faster(monkeypatch, cpu_has_bfloat16):
    """Without bfloat16 kernels (an AVX2 CPU) bfloat16 products are emulated, 17x slower: the output
    layer stays float32 there. Whether this CPU has them is set here, both ways."""
    from lstmkit.nn import lstm

    monkeypatch.setattr(lstm.torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: cpu_has_bfloat16)
    model = Seq2Seq(tiny(level="word", embedding_dim=4, bf16_output=True), 11, {"deu": 13})
    source, lengths = pad_right([[4, 5, 6], [7]])
    target_in = torch.tensor([[2, 4, 5], [2, 6, 0]])
    expected = torch.bfloat16 if cpu_has_bfloat16 else torch.float32
    assert model.train()(source, lengths, target_in, "deu").dtype == expected
    assert model.eval()(source, lengths, target_in, "deu").dtype == torch.float32


def test_lecture_model_is_an_encoder_lstm_and_a_decoder_lstm_on_one_hot_chars():
    model = Seq2Seq(PRESETS["lecture"], 70, {"deu": 90})
    lstm = lambda inputs, units: 4 * units * (units + inputs) + 4 * units  # noqa: E731  the lecture's count
    assert sum(p.numel() for p in model.parameters()) == lstm(70, 256) + lstm(90, 256) + 256 * 90 + 90


def test_padding_does_not_change_a_sentence_encoding():
    torch.manual_seed(0)
    model = Seq2Seq(tiny(encoder="bilstm", attention=True), 11, {"deu": 13}).eval()
    alone = model.encode(*pad_right([[4, 5]]))
    source, lengths = pad_right([[4, 5], [6, 7, 8, 9, 10]])
    batched = model.encode(source, lengths)
    torch.testing.assert_close(batched[0][:1, :2], alone[0])
    for (h, c), (h1, c1) in zip(batched[2], alone[2]):
        torch.testing.assert_close(h[:1], h1)
        torch.testing.assert_close(c[:1], c1)


def test_batched_greedy_equals_one_sentence_at_a_time():
    torch.manual_seed(1)
    model = Seq2Seq(tiny(attention=True, encoder="bilstm"), 12, {"deu": 9}).eval()
    sentences = [[4, 5, 6], [7], [8, 9, 10, 11, 4], [5, 5]]
    batched, _ = greedy_decode(Seq2SeqSteps(model, "deu"), *pad_right(sentences), max_steps=12)
    for row, sentence in enumerate(sentences):
        alone, _ = greedy_decode(Seq2SeqSteps(model, "deu"), *pad_right([sentence]), max_steps=12)
        assert batched[row].tolist() == alone[0].tolist()


def _sequence_score(model, sentence, ids, alpha):
    source, lengths = pad_right([sentence])
    target_in = torch.tensor([[2] + ids[:-1]])
    logits = model(source, lengths, target_in, "deu").log_softmax(-1)
    return logits[0, torch.arange(len(ids)), torch.tensor(ids)].sum().item() / len(ids) ** alpha


def test_a_beam_as_wide_as_the_search_space_finds_the_best_sequence():
    torch.manual_seed(2)
    model = Seq2Seq(tiny(attention=True), 8, {"deu": 6}).eval()  # tokens: unknown, 4, 5 and the stop token
    sentence, steps = [4, 5, 6], 3
    candidates = [list(body) + [STOP] for n in range(steps) for body in itertools.product([UNKNOWN, 4, 5], repeat=n)]
    with torch.no_grad():
        best = max(candidates, key=lambda ids: _sequence_score(model, sentence, ids, 1.0))
        found = beam_decode(Seq2SeqSteps(model, "deu"), *pad_right([sentence]), max_steps=steps, beam=36,
                            alpha=1.0)[0]
    assert [i for i in found.tolist() if i != PAD] == best


def test_training_learns_to_translate(trained, run_cli):
    history = RunDirectory(trained).load_history()
    assert history[-1]["val_loss"] < history[0]["val_loss"] / 3
    code, out, err = run_cli("translate", "evaluate", trained, "--json")
    report = json.loads(out)
    assert code == 0 and report["bleu"] > 80 and report["exact_match"] > 0.7
    assert set(report) >= {"bleu", "chrf", "exact_match", "examples"}
    code, out, _ = run_cli("translate", "run", trained, "three one four.", "nine two.")
    assert out.splitlines() == ["Drei eins vier.", "Neun zwei."]
    code, out, _ = run_cli("translate", "run", trained, "--beam", "4", "three one four.")
    assert out.strip() == "Drei eins vier."


def test_bfloat16_decoding_translates_as_float32_does(trained, run_cli):
    scores = {}
    for precision in ([], ["--bf16"]):
        code, out, _ = run_cli("translate", "evaluate", trained, "--json", *precision)
        scores[bool(precision)] = json.loads(out)
    assert code == 0 and scores[True]["bf16"] and not scores[False]["bf16"]
    assert abs(scores[True]["bleu"] - scores[False]["bleu"]) < 5
    for options in (["--bf16"], ["--bf16", "--beam", "3"]):
        code, out, _ = run_cli("translate", "run", trained, *options, "three one four.", "nine two.")
        assert code == 0 and out.splitlines() == ["Drei eins vier.", "Neun zwei."]
    # one sentence: no padding, so the encoder takes the fused kernel, which has no bfloat16 on most CPUs
    code, out, _ = run_cli("translate", "run", trained, "--bf16", "three one four.")
    assert code == 0 and out.splitlines() == ["Drei eins vier."]


def test_decoding_constants_follow_the_weights():
    torch.manual_seed(3)
    model = Seq2Seq(tiny(), 8, {"deu": 6}).eval()
    decoder, sentence = model.decoders["deu"], pad_right([[4, 5, 6]])
    before = greedy_decode(Seq2SeqSteps(model, "deu"), *sentence, max_steps=6)[0]
    assert decoder.step_constants() is decoder.step_constants()  # made once, not per call
    with torch.no_grad():  # as an optimizer step does: the weights change in place
        decoder.output.bias[STOP] += 100.0
    assert greedy_decode(Seq2SeqSteps(model, "deu"), *sentence, max_steps=6)[0][0, 0] == STOP
    with torch.no_grad():
        decoder.output.bias[STOP] -= 100.0
    assert torch.equal(greedy_decode(Seq2SeqSteps(model, "deu"), *sentence, max_steps=6)[0], before)


def test_the_split_is_saved_and_never_trained_on(trained, numbers):
    held = read_pairs(RunDirectory(trained).file("test.tsv")).pairs
    assert 40 <= len(held) < 45
    config = load(trained).config
    corpus = read_corpus(numbers, config, log=lambda _: None)
    trained_on = {split_key(english) for english, _ in corpus.part("deu", "train")}
    assert not trained_on & {split_key(english) for english, _ in held}


def test_unknown_words_and_overlong_input_translate(trained, run_cli):
    with pytest.warns(UserWarning, match="has 41 tokens; cut to the first"):
        code, out, err = run_cli("translate", "run", trained, "seven ✓ banana.",
                                 " ".join(["one"] * 40) + ".")
    assert code == 0 and len(out.splitlines()) == 2


def test_an_empty_sentence_to_translate_is_a_clear_error(trained, run_cli):
    code, out, err = run_cli("translate", "run", trained, "two three.", "  ")
    assert code == 2 and out == ""
    assert "sentence 2 to translate is empty" in err and "Traceback" not in err


def test_attention_heat_map(trained, tmp_path, run_cli):
    png = tmp_path / "attention.png"
    code, out, err = run_cli("translate", "run", trained, "two three.", "--show-attention", png)
    assert code == 0 and png.read_bytes().startswith(b"\x89PNG")
    source, target, weights = load(trained).translate(["two three."], keep_attention=True)[1][0]
    assert source == ["two", "three", "."] and weights.shape == (len(target), 3)
    torch.testing.assert_close(weights.sum(-1), torch.ones(len(target)))


def test_bad_input_is_one_clear_line(tmp_path, run_cli, numbers):
    empty = tmp_path / "empty.tsv"
    empty.write_text("")
    junk = tmp_path / "junk.tsv"
    junk.write_text("no tab\nnone here either\n")
    for path, message in ((empty, "is empty"), (junk, "no valid pair"), (tmp_path / "none.tsv", "not found")):
        code, _, err = run_cli("translate", "train", "--pairs", path, "--out", tmp_path / "run")
        assert code == 2 and message in err and "Traceback" not in err and len(err.splitlines()) == 1
    code, _, err = run_cli("translate", "run", tmp_path, "hello")
    assert code == 2 and "not a run directory" in err
    # the default 5,000 test + 2,000 validation pairs leave nothing to train on in 600 pairs: said before training
    code, _, err = run_cli("translate", "train", "--pairs", numbers, "--out", tmp_path / "small")
    assert code == 2 and "600 pairs are too few" in err and "--test-pairs" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "small").exists()


def test_malformed_lines_are_reported(numbers, tmp_path, run_cli, small_split):
    code, out, _ = run_cli("translate", "train", "--pairs", numbers, "--out", tmp_path / "run", "--epochs",
                           "1", "--hidden", "8", "--quiet", *small_split)
    assert code == 0 and "skipped 1 malformed lines" in out


def test_multi_task_trains_one_decoder_per_language_on_a_shared_encoder(numbers, tmp_path, run_cli, small_split,
                                                                        number_pairs):
    french = tmp_path / "fra-eng.txt"
    french.write_text("\n".join(line.split("\t")[0] + "\tun deux." for line in number_pairs(300, 1)) + "\n")
    out = tmp_path / "multi"
    code, _, _ = run_cli("translate", "train", "--pairs", numbers, "--also", french, "--out", out,
                         "--epochs", "1", "--hidden", "8", "--quiet", *small_split)
    translator = load(out)
    assert code == 0 and list(translator.model.decoders) == ["deu", "fra"]
    assert len(translator.translate(["one two"], language="fra")) == 1
    code, _, err = run_cli("translate", "run", out, "one", "--language", "spa")
    assert code == 2 and "translates into deu, fra" in err
    code, _, err = run_cli("translate", "evaluate", out, "--language", "fra")
    assert code == 2 and "give --pairs FILE with fra translations" in err
    code, out_text, _ = run_cli("translate", "evaluate", out, "--language", "fra", "--pairs", french, "--json")
    assert code == 0 and json.loads(out_text)["pairs"] == 300


def test_resume_continues_the_run(numbers, tmp_path, run_cli, small_split):
    out = tmp_path / "resumed"
    options = ["--pairs", numbers, "--out", out, "--hidden", "8", "--quiet", *small_split]
    assert run_cli("translate", "train", *options, "--epochs", "1")[0] == 0
    assert run_cli("translate", "train", *options, "--epochs", "2", "--resume")[0] == 0
    assert [row["epoch"] for row in RunDirectory(out).load_history()] == [1, 2]


def test_lecture_char_model_trains_on_real_pairs_and_translates(tmp_path, run_cli, small_split):
    pairs = tmp_path / "deu-eng.tsv"
    lines = (ANKI / "deu-eng.tsv").read_text(encoding="utf-8").splitlines()[:4000]
    pairs.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, _ = run_cli("translate", "train", "--pairs", pairs, "--out", tmp_path / "lecture",
                           "--preset", "lecture", "--epochs", "2", "--hidden", "64", "--quiet", *small_split)
    assert code == 0
    history = RunDirectory(tmp_path / "lecture").load_history()
    assert history[1]["val_loss"] < history[0]["val_loss"]
    for sentence in ("go to sleep", "do you agree", "we will fight"):
        assert f"{sentence} -> " in out


def test_a_model_that_never_stops_is_cut_at_its_length_guard():
    torch.manual_seed(3)
    model = Seq2Seq(tiny(), 9, {"deu": 7}).eval()
    with torch.no_grad():
        model.decoders["deu"].output.bias[STOP] = -100.0  # the stop token never wins
    source, lengths = pad_right([[4], [5, 6, 7]])
    greedy, _ = greedy_decode(Seq2SeqSteps(model, "deu"), source, lengths, max_steps=100)
    beam = beam_decode(Seq2SeqSteps(model, "deu"), source, lengths, max_steps=100, beam=3)
    for ids in (greedy, beam):
        assert (ids != PAD).sum(1).tolist() == [2 * 1 + 20, 2 * 3 + 20], ids


@pytest.mark.filterwarnings("ignore:input .* tokens; cut")  # the lecture's sentences, in number words' pieces
def test_subword_level_learns_its_pieces_trains_and_translates(numbers, tmp_path, run_cli, small_split):
    out = tmp_path / "subword"
    code, said, err = run_cli("translate", "train", "--pairs", numbers, "--out", out, "--level", "subword",
                              "--source-vocab", 40, "--target-vocab", 40, "--hidden", 16, "--epochs", 2, "--quiet",
                              *small_split)
    assert code == 0, err
    assert "subword level" in said
    translator = load(out)
    source = translator.source
    assert source.tokenizer == "subword" and source.size <= 40 and source.model
    assert len(source.split("twenty three")) >= 2  # a number word spelled from pieces
    code, said, err = run_cli("translate", "run", out, "one two three", "--beam", 3)
    assert code == 0 and "\u2581" not in said  # pieces joined back into words
    code, said, _ = run_cli("translate", "evaluate", out, "--json")
    assert code == 0 and 0 <= json.loads(said)["bleu"] <= 100
