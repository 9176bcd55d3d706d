"""Training a translation run: the corpus, the vocabularies, the model, and validation by BLEU;
the rest is training/recipe.py's."""

from __future__ import annotations

import random
from functools import partial

from torch import nn

from ...dependencies import need
from ...errors import DataError
from ...metrics import SCORES_FEATURE
from ...text.tokens import PAD, PAIR_SPECIALS
from ...text.vocabulary import SUBWORD_FEATURE, Vocabulary
from ...training.recipe import Recipe, best_epoch, run_training
from .config import TranslateConfig, validate_config, with_defaults
from .data import LanguageMix, encode_pairs, pair_batches, read_corpus
from .model import Seq2Seq
from .translator import Translator, group_references, read_vocabularies, score


def batch_loss_on(languages: list[str], device, label_smoothing: float = 0.0):
    """batch_loss(model, batch) -> (mean cross-entropy per target token, against targets smoothed by
    `label_smoothing`, {"count"}). No token accuracy: its argmax over the vocabulary costs as much as
    the softmax."""
    def batch_loss(model, batch):
        source, lengths, target_in, target_out, language = (t.to(device) for t in batch)
        logits = model(source, lengths, target_in, languages[int(language[0])])
        loss = nn.functional.cross_entropy(logits.flatten(0, 1).float(), target_out.flatten(), ignore_index=PAD,
                                           label_smoothing=label_smoothing)
        return loss, {"count": int((target_out != PAD).sum())}

    return batch_loss


def prepare(config: TranslateConfig, run, resuming: bool, target_device, *, pairs_path, log=print) -> Recipe:
    """run_training's prepare: the corpus (the saved pairs file when resuming), the vocabularies, the
    encoded pairs and validation by BLEU -> the translator's Recipe."""
    need("sacrebleu", SCORES_FEATURE)
    if config.level == "subword":
        need("sentencepiece", SUBWORD_FEATURE)
    path = run.saved("pairs", str) if resuming else pairs_path
    corpus = read_corpus(path, config, log)
    languages = list(corpus.files)
    train_parts = {language: corpus.part(language, "train") for language in languages}
    if not train_parts[corpus.main]:
        raise DataError(f"{path}: every pair was held out for validation/test; the file needs more "
                        f"than {config.test_pairs + config.validation_pairs:,} pairs or smaller `test_pairs`")
    source, targets = (run.load_vocab(lambda data: read_vocabularies(data, languages)) if resuming
                       else _fit_vocabularies(config, train_parts))
    encoded = [encode_pairs(train_parts[language], source, targets[language], config.max_length)
               for language in languages]
    max_source = max(len(s) for part in encoded for s, _ in part)
    max_output = max(len(t) for part in encoded for _, t in part) + 10
    batch_loss = batch_loss_on(languages, target_device, config.label_smoothing)

    def make_model():
        return Seq2Seq(config, source.size, {language: targets[language].size for language in languages})

    validation = corpus.part(corpus.main, "validation")
    validate = _validation(config, validation, source, targets, corpus.main, (max_source, max_output),
                           batch_loss_on(languages, target_device))
    return Recipe(
        "translate", config, make_model, batches=lambda epoch, generator: LanguageMix(encoded, config.batch_size,
                                                                                      generator),
        batch_loss=batch_loss, validate=validate, monitor="val_bleu", mode="max",
        vocabulary={"source": source.to_json(), "targets": {k: v.to_json() for k, v in targets.items()}},
        facts={"pairs": str(path), "languages": languages, "max_source": max_source, "max_output": max_output},
        files={f"{part}.tsv": "".join(f"{english}\t{other}\n" for english, other in corpus.part(corpus.main, part))
               for part in ("validation", "test")},
        describe=f"{config.level} level, {', '.join(f'{k}: {len(v):,}' for k, v in zip(languages, encoded))} "
                 f"training pairs; {len(validation):,} validation / {len(corpus.part(corpus.main, 'test')):,} "
                 f"test pairs ({corpus.main}); vocabularies en {source.size:,}, "
                 f"{', '.join(f'{k} {v.size:,}' for k, v in targets.items())}")


def train(config: TranslateConfig, pairs_path, out, *, resume: bool = False, device: str = "auto",
          progress: bool = True, log=print) -> dict:
    """Trains on the pairs file (plus config.also) into the run directory `out`; the held-out
    validation and test pairs are written there (validation.tsv, test.tsv). -> {"history", "best",
    "translator" of the best weights}."""
    config = with_defaults(config)
    trained = run_training("translate", config, out, partial(prepare, pairs_path=pairs_path, log=log),
                           validate=validate_config, resume=resume, device=device, progress=progress, log=log)
    recipe = trained.recipe
    source, targets = read_vocabularies(recipe.vocabulary, recipe.facts["languages"])
    translator = Translator(trained.model, recipe.config, source, targets, recipe.facts["max_source"],
                            recipe.facts["max_output"])
    return {"history": trained.history, "best": best_epoch(trained.history), "translator": translator}


def _fit_vocabularies(config: TranslateConfig, train_parts: dict) -> tuple[Vocabulary, dict[str, Vocabulary]]:
    """The English vocabulary of every training part, and each target language's."""
    specials = PAIR_SPECIALS[config.level]
    source = Vocabulary.fit((e for part in train_parts.values() for e, _ in part), config.level,
                            specials=specials, max_size=config.source_vocab)
    targets = {language: Vocabulary.fit((o for _, o in part), config.level, specials=specials,
                                         max_size=config.target_vocab)
               for language, part in train_parts.items()}
    return source, targets


def _validation(config: TranslateConfig, validation, source, targets, main: str, limits, batch_loss):
    """validate(model) for fit(): loss per target token on the validation pairs, and BLEU and chrF
    of a seeded subset of their sentences."""
    sentences, _ = group_references(validation)
    subset = set(random.Random(config.split_seed).sample(sentences, min(config.bleu_sentences, len(sentences))))
    bleu_pairs = [pair for pair in validation if pair[0] in subset]
    validation_encoded = encode_pairs(validation, source, targets[main])

    def validate(model):
        total, count = 0.0, 0
        for batch in pair_batches(validation_encoded, 0, 256):
            loss, stats = batch_loss(model, batch)
            total, count = total + loss.item() * stats["count"], count + stats["count"]
        scores = score(Translator(model, config, source, targets, *limits), bleu_pairs)  # model: maybe the average
        return {"val_loss": total / max(count, 1), "val_bleu": scores["bleu"], "val_chrf": scores["chrf"]}

    return validate
