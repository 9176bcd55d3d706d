# %% [markdown]
# # Sequence to sequence: English → German, and four improvements
#
# The lecture's third task translates, with two LSTMs. The **encoder** reads the English sentence
# character by character (one-hot) and keeps only its final state `(h, c)`. The **decoder** starts
# from that state, reads a start character `'\t'`, and predicts the German sentence one character
# at a time until it predicts the stop character `'\n'`. In training the decoder reads the true
# previous character, not its own guess (**teacher forcing**): its input is `'\t' + German` and its
# target `German + '\n'`, so one pass covers every step. To translate, it reads its own
# predictions instead.
#
# The lecture then names four improvements, each a setting in lstmkit:
#
# | improvement | setting | what changes |
# |---|---|---|
# | bidirectional encoder | `encoder="bilstm"` | the encoder reads the sentence both ways, the decoder starts from both |
# | word level | `level="word"` | tokens are words, through an embedding, not one-hot characters |
# | multi-task learning | `also=[...]` | one English encoder shared by decoders for several languages |
# | attention | `attention=True` | each decoder step looks back at every encoder output, not only the final state |
#
# The data are Anki's English–German sentence pairs (manythings.org/anki, from tatoeba.org,
# CC-BY 2.0). This tutorial trains the lecture's character model and the word model with attention,
# a few seconds each at the small size (the default: the first 3,000 pairs, the shortest), and
# 10 minutes each on all 169,813 pairs at `LSTMKIT_TUTORIAL_SIZE=full`.

# %%
import dataclasses
import os
import tempfile
import warnings
from pathlib import Path

import matplotlib.pyplot as plt

from lstmkit.tasks import translate
from lstmkit.tasks.translate import PRESETS

SIZE = os.environ.get("LSTMKIT_TUTORIAL_SIZE", "small")  # small: seconds, on a slice; full: the lecture's sizes
DATA = Path(os.environ.get("LSTMKIT_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")
OUT = Path(os.environ.get("LSTMKIT_TUTORIAL_OUT") or tempfile.mkdtemp(prefix="lstmkit-tutorial-"))
PAIRS = DATA / "anki" / "deu-eng.tsv"  # English<TAB>German lines; https://www.manythings.org/anki/deu-eng.zip
run_folder = OUT / "06-translate"
run_folder.mkdir(parents=True, exist_ok=True)

if SIZE == "full":
    pairs, SPLIT = PAIRS, {"minutes": 10.0}  # 5,000 test and 2,000 validation pairs, the presets' split
else:
    pairs = run_folder / "deu-eng-start.tsv"  # the file's first lines: its shortest sentences
    pairs.write_text("".join(PAIRS.open(encoding="utf-8").readlines()[:3_000]), encoding="utf-8")
    SPLIT = {"minutes": 0.02, "test_pairs": 100, "validation_pairs": 100, "bleu_sentences": 50}

# %% [markdown]
# ## Prepare the data
#
# The lecture's preprocessing lower-cases both sides and drops the punctuation. One English
# sentence may have several German translations; the held-out sentences are whole English
# sentences with all their translations, so none of them is seen in training.

# %%
lecture = PRESETS["lecture"]
lines = pairs.open(encoding="utf-8").readlines()
for line in lines[1000:1004]:
    english, german = line.rstrip("\n").split("\t")[:2]
    print(f"{english!r} -> {german!r}   as the model reads them: "
          f"{translate.preprocess(english, lecture)!r} -> {translate.preprocess(german, lecture)!r}")
german = translate.preprocess(lines[1000].split("\t")[1], lecture)
print(f"\nteacher forcing: the decoder reads {chr(9) + german!r} and predicts {german + chr(10)!r}")

# %% [markdown]
# ## Train and translate
#
# Two rows of the lecture's ladder: its character model, and the word model with attention. Each
# trains for the same time, and `translate.train` keeps the epoch with the best validation BLEU.
# The word model trains its output layer in bfloat16 where the CPU has fast bfloat16 kernels
# (AVX-512 BF16 or AMX), in float32 elsewhere.

# %%
ROWS = {
    "char (the lecture)": lecture,
    "word + attention": dataclasses.replace(lecture, level="word", embedding_dim=128, attention=True,
                                            bf16_output=True),
}
SENTENCES = ["Go to sleep.", "Do you agree?", "We will fight.", "I love this book."]
translators, scores = {}, {}
for name, config in ROWS.items():
    run = run_folder / name.split(" ")[0]
    result = translate.train(dataclasses.replace(config, seed=0, **SPLIT), pairs, run, progress=False,
                             log=lambda *_: None)
    translators[name] = translator = result["translator"]
    print(f"{name}: {translator.parameter_count():,} parameters, {len(result['history'])} epoch(s)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an input longer than every training sentence is cut, with a warning
        for beam in (1, 5):
            translations = translator.translate(SENTENCES, beam=beam)
            print(f"  {'greedy' if beam == 1 else f'beam {beam}'}: "
                  + " | ".join(f"{s} -> {t}" for s, t in zip(SENTENCES, translations)))
    scores[name] = translate.evaluate(run, examples=0)  # the held-out test split, greedy
    print(f"  test split, {scores[name]['sentences']:,} English sentences: BLEU {scores[name]['bleu']:.2f}, "
          f"chrF {scores[name]['chrf']:.2f}, exact match {scores[name]['exact_match']:.3f}\n")

# %% [markdown]
# Beam search keeps the 5 best partial translations at each step instead of the single most
# likely character or word. At the small size the models have trained for about a second and
# translate nothing yet. BLEU (0–100) counts the n-grams a translation shares with
# the references; chrF does the same for character n-grams and gives partial credit for nearly
# right words.
#
# ## Where attention looks
#
# With `keep_attention=True` the attention model returns, for each German word it wrote, its
# weights over the English words (each row sums to 1):

# %%
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    _, maps = translators["word + attention"].translate(SENTENCES[2:], keep_attention=True)
figure, axes = plt.subplots(1, len(maps), figsize=(10, 3.2))
for axis, (source_tokens, target_tokens, weights) in zip(axes, maps):
    image = axis.imshow(weights.numpy(), cmap="viridis", aspect="auto", vmin=0, vmax=1)
    axis.set_xticks(range(len(source_tokens)), source_tokens, rotation=45)
    axis.set_yticks(range(len(target_tokens)), target_tokens)
    axis.set_xlabel("English (encoder)")
    axis.set_ylabel("German (decoder)")
figure.colorbar(image, ax=axes, label="attention weight")
figure.suptitle(f"word + attention, {SIZE} size", fontsize=10)
plt.show()

# %% [markdown]
# A trained model's map runs roughly along the diagonal, bending where German word order departs
# from English. A model trained for a second or two, as at the small size, has not learned where to
# look: its weights spread over the sentence, and it may write little more than the stop token.
#
# ## The ladder at full size
#
# `MINUTES=10 bash bench/translate_table.sh` trains every row for 10 minutes on one thread from
# `--preset lecture` and decodes the test split greedily. `docs/RESULTS.md` records (2026-11-27,
# its 2-core Intel Xeon VM; 5,000 test pairs, 4,041 English sentences):

# %%
LADDER = {  # docs/RESULTS.md, "Each improvement at equal training time": test BLEU after 10 minutes
    "char (the lecture)": 0.65, "+ Bi-LSTM encoder": 2.08, "word level": 3.72, "word + Bi-LSTM": 4.57,
    "word + attention": 10.11, "word + Bi-LSTM + attention": 8.51, "multi-task (+ fra, spa, nld)": 1.92,
}
figure, axis = plt.subplots(figsize=(8, 3.4))
axis.barh(list(LADDER), list(LADDER.values()), color=["#ff7f0e" if name in ROWS else "#bbbbbb" for name in LADDER])
for row, value in enumerate(LADDER.values()):
    axis.text(value + 0.15, row, f"{value:.2f}", va="center", fontsize=9)
axis.set_xlim(0, max(LADDER.values()) * 1.12)
axis.invert_yaxis()
axis.set_xlabel("test BLEU after 10 minutes of training (recorded)")
axis.set_title("The four improvements at equal training time (orange: trained above)", loc="left", fontsize=10)
plt.show()

# %% [markdown]
# After 10 minutes the Bi-LSTM encoder helps both the character model (0.65 → 2.08) and the word
# model (3.72 → 4.57); word level beats character level; attention is the largest single step
# (3.72 → 10.11). At this budget Bi-LSTM on top of attention trails attention alone (each step
# costs more, so it saw fewer batches), and multi-task learning costs English→German a lot: only
# 35% of its batches are German, and four decoders learn at once.
#
# Given time, all four but multi-task together make lstmkit's best recipe: `lstmkit translate
# train --pairs deu-eng.tsv --out RUN --preset best --minutes 80` (word level keeping case and
# punctuation, Bi-LSTM encoder, attention, dropout 0.1, Adam; 12.4 M parameters) reached test
# BLEU **29.75** greedy and **33.24** with beam 5 (`lstmkit translate evaluate RUN --beam 5`) on
# the same machine, 2026-11-27: "We will fight." → "Wir werden kämpfen!". Trained a full 8 epochs
# (2026-12-02) it gave 36.16 with beam 5. The lecture's character model, given 25 minutes, reached
# only 1.52: character models need many epochs.
