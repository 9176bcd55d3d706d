"""Sequence-to-sequence translation, English -> German, from the lecture's character model to
word level with a Bi-LSTM encoder and attention.

    python examples/06_translate_english_german.py --pairs deu-eng.txt [--preset best] [--minutes 10]

--pairs is a manythings.org/anki file (https://www.manythings.org/anki/deu-eng.zip, the .zip or
its deu-eng.txt). The lecture's model: characters one-hot, an encoder LSTM whose final (h, c)
starts a decoder LSTM, '\\t' starts and '\\n' ends a translation, teacher forcing while training.
The held-out test split holds whole English sentences (5,000 pairs); it is scored with sacrebleu.
Expected on this 2-core CPU (docs/RESULTS.md):
    --preset lecture --minutes 10   test BLEU 0.4-0.7, chrF ~20 (as many batches as fit): it translates badly
    --preset lecture --minutes 25   BLEU ~1.5 ("go to sleep" -> "geh nicht mehr")
    --preset best    --minutes 80   BLEU 29.8 greedy, 33.2 with beam 5 ("go to sleep" -> "Gehen Sie schlafen!")
(word level keeping case and punctuation, Bi-LSTM encoder, Luong attention, 12.4 M parameters).
"""

import argparse
import dataclasses
import warnings

from lstmkit.tasks import translate
from lstmkit.tasks.translate import PRESETS

SENTENCES = ["Go to sleep.", "Do you agree?", "We will fight.", "I love this book."]


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", required=True, help="a manythings.org/anki file: English<TAB>German lines")
    parser.add_argument("--out", default="runs/examples/translate", help="the run directory")
    parser.add_argument("--preset", choices=list(PRESETS), default="lecture")
    parser.add_argument("--minutes", type=float, default=10.0, help="training time")
    parser.add_argument("--beam", type=int, default=1, help="beam width for the test split (1: greedy)")
    parser.add_argument("--test-pairs", type=int, default=5_000, help="pairs held out for the test split")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    # Prepare the data and train: the split by English sentence, the vocabularies, teacher forcing.
    config = dataclasses.replace(PRESETS[args.preset], minutes=args.minutes, seed=args.seed,
                                 test_pairs=args.test_pairs, validation_pairs=min(2_000, args.test_pairs))
    translate.train(config, args.pairs, args.out, progress=False)

    # Translate: a batch of sentences at once, greedy and with a beam.
    translator = translate.load(args.out)
    for beam in (1, 5):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # inputs longer than any training sentence are cut, with a warning
            translations = translator.translate(SENTENCES, beam=beam)
        print(f"\n{'greedy' if beam == 1 else f'beam {beam}'}:")
        for sentence, translation in zip(SENTENCES, translations):
            print(f"  {sentence} -> {translation}")

    # Evaluate on the held-out test split: BLEU and chrF (sacrebleu), exact match.
    scores = translate.evaluate(args.out, beam=args.beam, examples=0)
    print(f"\ntest split, {scores['sentences']:,} English sentences: BLEU {scores['bleu']:.2f}, "
          f"chrF {scores['chrf']:.2f}, exact match {scores['exact_match']:.3f}")
    return scores


if __name__ == "__main__":
    main()
