"""Where the translator's attention looks, and whether scaled scores or Luong's input feeding change it.

    OMP_NUM_THREADS=1 .venv/bin/python bench/translate_attention.py look [--run en-de]
    OMP_NUM_THREADS=1 .venv/bin/python bench/translate_attention.py train {general,scaled,feeding} --out RUN
        [--minutes 14 | --epochs N]

`look` runs a trained model teacher-forced over the first 300 pairs of its test split and prints the
share of decoder steps whose strongest attention weight is on the source's last token (a model that
aligns spreads its steps over the sentence; one that collapsed uses attention as a fixed pointer to
the forward encoder's summary there).

`train` trains the best recipe made small (word level, 64-d embeddings, Bi-LSTM encoder 2 × 64,
LSTM(128) decoder with attention, 4,000-token vocabularies) on 40,000 seeded Anki deu-eng pairs
for --minutes (or --epochs, which no other job on the machine changes), then prints that share, the
Anki test BLEU and the BLEU on bench/data/en-de-heldout:
  general   the decoder as lstmkit has it (attention reads the decoder LSTM's output, no feedback);
  scaled    the same with the scores divided by √hidden (--scaled-attention);
  feeding   Luong et al.'s input feeding: each step's attentional vector joins the next step's input,
            so the decoder knows where it looked (a step-by-step decoder loop, as an experiment here).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
from pathlib import Path

import torch

from lstmkit import load
from lstmkit.catalogue import located
from lstmkit.nn import LSTM
from lstmkit.nn.lstm import linear_t, stacked_step
from lstmkit.nn.seq2seq import Decoder
from lstmkit.tasks.translate import model as seq2seq
from lstmkit.tasks.translate.config import PRESETS
from lstmkit.tasks.translate.data import preprocess
from lstmkit.tasks.translate.training import train
from lstmkit.tasks.translate.translator import score
from lstmkit.text.tokens import START

ROOT = Path(__file__).resolve().parents[1]
PAIRS = ROOT.parent / "shared" / "data" / "anki" / "deu-eng.tsv"
HELDOUT = ROOT / "bench" / "data" / "en-de-heldout" / "en-de.tsv"
# the best preset made small, at word level without label smoothing (as the preset was when this was designed)
SMALL = dict(hidden=128, embedding_dim=64, source_vocab=4000, target_vocab=4000, level="word", label_smoothing=0.0)


class FeedingDecoder(Decoder):
    """Decoder with input feeding: the first layer reads [token embedding, previous attentional vector].
    States for step() are the layers' [(h, c)] and one more (feed, feed) entry."""

    def __init__(self, vocab: int, dim: int, hidden: int, layers: int, dropout: float = 0.0, **options):
        super().__init__(vocab, dim, hidden, layers, dropout, **options)
        self.layers[0] = LSTM(self.input.size + hidden, hidden, return_sequences=True, return_state=True,
                              dropout=dropout)

    def forward(self, ids, states, memory, memory_mask, keep_weights: bool = False):
        x, states = self.input(ids), list(states)
        feed = x.new_zeros(ids.shape[0], self.layers[0].hidden_size)
        mask = None
        if self.training and self.layers[0].dropout:  # one input mask per sequence, as the fused layer's
            size = x.shape[-1] + feed.shape[-1]
            mask = torch.nn.functional.dropout(x.new_ones(ids.shape[0], size), self.layers[0].dropout)
        outputs, weights = [], []
        for t in range(ids.shape[1]):
            step_input = torch.cat([x[:, t], feed], -1)
            step_input = step_input * mask if mask is not None else step_input
            for index, layer in enumerate(self.layers):
                states[index] = layer.cell(step_input, states[index])
                step_input = states[index][0]
            attended, weight = self.attend(step_input[:, None], memory, memory_mask)
            feed = attended[:, 0]
            outputs.append(feed)
            weights.append(weight[:, 0])
        logits = self.output(torch.stack(outputs, 1))
        return (logits, torch.stack(weights, 1)) if keep_weights else logits

    def step(self, tokens, states, memory, memory_mask, constants):
        layer_weights, output_t, output_bias = constants
        if len(states) == len(self.layers):  # the first step: the encoder's states, nothing fed yet
            feed = memory.new_zeros(tokens.shape[0], self.layers[0].hidden_size)
        else:
            feed, states = states[-1][0], states[:-1]
        new_states = stacked_step(self.layers, layer_weights, torch.cat([self.input(tokens), feed], -1), states)
        attended, weights = self.attend(new_states[-1][0][:, None], memory, memory_mask)
        feed = attended[:, 0]
        return linear_t(feed, output_t, output_bias), [*new_states, (feed, feed)], weights[:, 0]


def last_token_share(translator, pairs) -> float:
    """Share of teacher-forced decoder steps whose largest attention weight is on the last source token."""
    model = translator.model.eval()
    language = model.languages[0]
    decoder, vocabulary = model.decoders[language], translator.targets[language]
    on_last = steps = 0
    for english, german in pairs:
        source = translator.source.encode(preprocess(english, translator.config))
        target = torch.tensor([[START] + vocabulary.encode(preprocess(german, translator.config))])
        with torch.no_grad():
            memory, mask, states = model.encode(torch.tensor([source]), torch.tensor([len(source)]))
            if isinstance(decoder, FeedingDecoder):
                weights = decoder(target, states, memory, mask, keep_weights=True)[1]
            else:
                x = decoder.input(target)
                for layer, state in zip(decoder.layers, states):
                    x, _ = layer(x, initial_state=state)
                weights = decoder.attend(x, memory, mask)[1]
        on_last += int((weights[0].argmax(-1) == len(source) - 1).sum())
        steps += weights.shape[1]
    return on_last / steps


def pairs_of(path: Path) -> list[list[str]]:
    """A pairs file's [English, German] lines."""
    return [line.split("\t")[:2] for line in Path(path).read_text(encoding="utf-8").splitlines()]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    look = commands.add_parser("look")
    look.add_argument("--run", default="en-de")
    trained = commands.add_parser("train")
    trained.add_argument("decoder", choices=("general", "scaled", "feeding"))
    trained.add_argument("--out", type=Path, required=True)
    trained.add_argument("--minutes", type=float, default=14)
    trained.add_argument("--epochs", type=int, help="train this many epochs instead of --minutes")
    args = parser.parse_args(argv)
    if args.command == "look":
        share = last_token_share(load(args.run), pairs_of(Path(located(args.run)) / "test.tsv")[:300])
        print(json.dumps({"run": args.run, "last_token_share": round(share, 4)}))
        return
    subset = args.out.with_name(args.out.name + "-pairs") / "deu-eng.tsv"  # the file's name names the language
    subset.parent.mkdir(parents=True, exist_ok=True)
    lines = PAIRS.read_text(encoding="utf-8").splitlines(keepends=True)
    random.Random(0).shuffle(lines)
    subset.write_text("".join(lines[:40_000]), encoding="utf-8")
    if args.decoder == "feeding":
        seq2seq.Decoder = FeedingDecoder  # what Seq2Seq builds its decoders from
    config = dataclasses.replace(PRESETS["best"], **SMALL, minutes=None if args.epochs else args.minutes,
                                 epochs=args.epochs or 100, patience=None, scaled_attention=args.decoder == "scaled",
                                 test_pairs=1000, validation_pairs=1000, bleu_sentences=500)
    result = train(config, subset, args.out, progress=False)
    translator, test = result["translator"], pairs_of(args.out / "test.tsv")
    print(json.dumps({"decoder": args.decoder, "epochs": len(result["history"]),
                      "val_bleu": [round(row["val_bleu"], 2) for row in result["history"]],
                      "last_token_share": round(last_token_share(translator, test[:300]), 4),
                      "test_bleu": round(score(translator, test)["bleu"], 2),
                      "heldout_bleu": round(score(translator, pairs_of(HELDOUT))["bleu"], 2)}))


if __name__ == "__main__":
    main()
