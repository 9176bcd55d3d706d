"""IMDB sentiment, the lecture's way: Embedding(10000, 32) -> LSTM(32) -> Dense(1, sigmoid), and
SimpleRNN(32) in the LSTM's place under the same recipe ("always use LSTM"?).

    python examples/02_imdb_lstm_vs_simplernn.py --data aclImdb_v1.tar.gz

--data is the original archive (https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz,
read in place) or its extracted aclImdb/ folder. The recipe: the 10,000 most frequent words, the
last 500 words of each review, RMSprop 1e-3, batch 128, 20% of the training reviews validate, 10
epochs, the best-validation epoch kept. Expected on the full 25,000-review test set (seed 0; 2-core
CPU, 3-6 minutes in all):
    LSTM       test accuracy 87.56% (seeds 0-2: 87.1-88.0; the lecture 88.6%)   ~6-9 s/epoch
    SimpleRNN  test accuracy 87.16% (seeds 0-2: 85.5-87.2; the lecture 84%)      ~10-19 s/epoch
(docs/RESULTS.md has the table over seeds and the command-line equivalent,
`lstmkit sentiment train --data PATH --out RUN --preset lecture [--rnn simplernn]`.)
"""

import argparse
from pathlib import Path

import lstmkit
from lstmkit.tasks import sentiment
from lstmkit.tasks.sentiment import SentimentConfig
from lstmkit.tasks.sentiment.readers import read_labelled
from lstmkit.text.vocabulary import Vocabulary
from lstmkit.text.words import IMDB_SPECIALS, words

NUM_WORDS = 10_000  # the vocabulary: most frequent words in the training reviews
MAXLEN = 500  # words per review; longer ones keep their last 500


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="aclImdb_v1.tar.gz or the aclImdb/ folder")
    parser.add_argument("--out", default="runs/examples/imdb", help="where the two runs go")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    # Prepare the data: what the tokenizer makes of a review.
    splits = read_labelled(args.data)
    train_texts = splits["train"]
    print(f"{len(train_texts):,} training and {len(splits['test']):,} test reviews, classes {train_texts.classes}")
    review, label = train_texts.texts[0], train_texts.labels[0]
    print(f"a {label} review: {review[:160]!r}...")
    print(f"its words: {words(review)[:16]}...")
    vocabulary = Vocabulary.fit(train_texts.texts, "imdb", specials=IMDB_SPECIALS, max_size=NUM_WORDS)
    ids = vocabulary.encode(review)[-MAXLEN:]  # the last MAXLEN words, as pad_sequences keeps them
    print(f"as ids (0 padding, 1 unknown word): {ids[:16]}... ({len(ids)} ids)")
    print(f"and back: {vocabulary.decode(ids[:16])!r}")

    # Build, train and evaluate each model; train() reads the data, keeps the best epoch, scores the test split.
    results = {}
    for rnn in ("lstm", "simplernn"):
        config = SentimentConfig(rnn=rnn, num_words=NUM_WORDS, maxlen=MAXLEN, epochs=args.epochs, seed=args.seed)
        print(f"\n{rnn}: training {args.epochs} epochs")
        run = Path(args.out) / rnn
        result = sentiment.train(config, args.data, run, progress=False)
        epoch_seconds = sorted(row["seconds"] for row in result["history"])[len(result["history"]) // 2]
        results[rnn] = {"test_accuracy": result["test"]["accuracy"], "best_epoch": result["validation"]["epoch"],
                        "val_accuracy": result["validation"]["accuracy"], "seconds_per_epoch": epoch_seconds}

    print("\nmodel       best epoch   validation   test      s/epoch")
    for rnn, row in results.items():
        print(f"{rnn:<11} {row['best_epoch']:>10}   {row['val_accuracy']:>10.2%}   {row['test_accuracy']:.2%}"
              f"   {row['seconds_per_epoch']:>6.1f}")

    # Use it: the LSTM run directory predicts new text.
    reviews = ["A wonderful film, the best I have seen this year.", "Dull, predictable and far too long."]
    for prediction in lstmkit.load(Path(args.out) / "lstm").predict(reviews):
        print(f"{prediction['label']} ({prediction['probability']:.2f}): {prediction['text']}")
    return results


if __name__ == "__main__":
    main()
