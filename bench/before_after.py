"""Speed of the sampler and the translation decoders before and after a change, in one process.

    .venv/bin/python bench/before_after.py [--before 2ea2419] [--reps 7] [--threads 2]

The code "before" is read from git (`git show REF:src/lstmkit/...`) and loaded beside today's, so
both run on the same weights, interleaved rep by rep (A B A B ...); it prints each variant's median
rate and the median of the per-rep ratios after/before. Variants: the lecture's char model
(LSTM(128), 57 chars) sampling 400 characters at temperature 0.5 for 1 and 64 streams, and 64
streams of two stacked LSTM(128) layers; a lecture char seq2seq with random weights (decodes to its
80-step guard) translating 256 sentences greedy, beam 5, and one at a time.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from lstmkit.nn import LSTM
from lstmkit.lecture_models import LECTURE_MODELS
from lstmkit.generation import search as decoding
from lstmkit.generation.language_model import LanguageModelSteps
from lstmkit.generation.sampling import SamplingOptions, sample
from lstmkit.tasks import translate
from lstmkit.tasks.translate.model import Seq2SeqSteps
from lstmkit.text.batching import pad_right
from lstmkit.text.tokens import PAIR_SPECIALS
from lstmkit.text.vocabulary import Vocabulary

ROOT = Path(__file__).parents[1]


def module_before(ref: str, path: str, name: str):
    """The module at `path` as it was at git `ref`, loaded as lstmkit's module `name` (so that
    its relative imports find today's package)."""
    source = subprocess.run(["git", "show", f"{ref}:{path}"], cwd=ROOT, capture_output=True, text=True, check=True)
    file = Path(tempfile.mkdtemp()) / Path(path).name
    file.write_text(source.stdout)
    spec = importlib.util.spec_from_file_location(name, file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def timer(work, units: int):
    def timed():
        started = time.perf_counter()
        work()
        return units / (time.perf_counter() - started)
    return timed


def exists_at(ref: str, path: str) -> bool:
    return subprocess.run(["git", "cat-file", "-e", f"{ref}:{path}"], cwd=ROOT, capture_output=True).returncode == 0


def decoders_before(ref: str, seq2seq, config, vocab_size: int):
    """(greedy, beam) decoding functions (ids, lengths, max_steps[, beam]) of the code at `ref`, on
    the weights of `seq2seq`: before the translate package (2ea2419 and older) or after it."""
    if exists_at(ref, "src/lstmkit/tasks/decoding.py"):
        decoding = module_before(ref, "src/lstmkit/tasks/decoding.py", "lstmkit.tasks._decoding_before")
        return (lambda *batch: decoding.greedy_decode(seq2seq, "deu", *batch),
                lambda *batch: decoding.beam_decode(seq2seq, "deu", *batch))
    model = module_before(ref, "src/lstmkit/tasks/translate/model.py", "lstmkit.tasks.translate._model_before")
    decoding = module_before(ref, "src/lstmkit/tasks/translate/decoding.py", "lstmkit.tasks.translate._decoding_before")
    old = model.Seq2Seq(config, vocab_size, {"deu": vocab_size}).eval()
    old.load_state_dict(seq2seq.state_dict())
    return (lambda *batch: decoding.greedy_decode(model.Seq2SeqSteps(old, "deu"), *batch),
            lambda *batch: decoding.beam_decode(model.Seq2SeqSteps(old, "deu"), *batch))


def variants(ref: str) -> dict[str, tuple]:
    """name -> (before, after): two timers returning units per second."""
    sampling_before = module_before(ref, "src/lstmkit/sampling.py", "lstmkit._sampling_before")
    torch.manual_seed(0)
    model = LECTURE_MODELS["char-lstm"].build().eval()
    lstm, dense, identity = model[0], model[1], torch.eye(57)
    stacked = [LSTM(57, 128).eval(), LSTM(128, 128).eval()]
    options = SamplingOptions(strategy="temperature", temperature=0.5)
    seed, chars = torch.randint(0, 57, (1, 60)), 400
    runs = {}
    for streams, layers in ((1, [lstm]), (64, [lstm]), (64, stacked)):
        after = LanguageModelSteps(identity, layers, dense)
        before = sampling_before.StatefulSampler(identity, layers, dense)
        seeds = seed.repeat(streams, 1)
        name = f"sample {streams} stream(s){', 2 layers' if len(layers) == 2 else ''}, chars/s"
        runs[name] = (timer(lambda s=seeds, b=before: b.generate(s, chars, options), chars * streams),
                      timer(lambda s=seeds, a=after: sample(a, s, chars, options), chars * streams))
    config = translate.PRESETS["lecture"]
    vocab = Vocabulary.fit(["abcdefghijklmnopqrstuvwxyz ?!.,'"], "char", specials=PAIR_SPECIALS["char"])
    seq2seq = translate.Seq2Seq(config, vocab.size, {"deu": vocab.size}).eval()
    greedy_before, beam_before = decoders_before(ref, seq2seq, config, vocab.size)
    sentences = [vocab.encode(f"sentence number {i} is here") for i in range(256)]
    batch = pad_right(sentences)
    runs["translate greedy, sentences/s"] = (
        timer(lambda: greedy_before(*batch, 80), len(sentences)),
        timer(lambda: decoding.greedy_decode(Seq2SeqSteps(seq2seq, "deu"), *batch, 80), len(sentences)))
    runs["translate beam 5, sentences/s"] = (
        timer(lambda: beam_before(*batch, 80, 5), len(sentences)),
        timer(lambda: decoding.beam_decode(Seq2SeqSteps(seq2seq, "deu"), *batch, 80, 5), len(sentences)))
    few = [pad_right([ids]) for ids in sentences[:32]]
    runs["translate one at a time, sentences/s"] = (
        timer(lambda: [greedy_before(*one, 80) for one in few], len(few)),
        timer(lambda: [decoding.greedy_decode(Seq2SeqSteps(seq2seq, "deu"), *one, 80) for one in few], len(few)))
    return runs


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", default="2ea2419", help="git commit of the code before the change")
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    runs = variants(args.before)
    rates = {name: ([], []) for name in runs}
    with torch.inference_mode():
        for name, (before, after) in runs.items():
            before(), after()  # warm-up
        for _ in range(args.reps):
            for name, (before, after) in runs.items():
                rates[name][0].append(before())
                rates[name][1].append(after())
    print(f"torch {torch.__version__}, {args.threads} threads, {args.reps} interleaved reps, before = {args.before}")
    print("| variant | before | after | after / before |")
    print("|---|---|---|---|")
    for name, (before, after) in rates.items():
        ratio = statistics.median(a / b for a, b in zip(after, before))
        print(f"| {name} | {statistics.median(before):,.0f} | {statistics.median(after):,.0f} | {ratio:.3f} |")


if __name__ == "__main__":
    main()
