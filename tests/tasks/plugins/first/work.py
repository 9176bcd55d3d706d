"""The `first` task's work: data, model, training, predictor, command line and endpoint."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from fastapi import Request
from pydantic import Field

from lstmkit.cli.options import add_common, add_train_options, config_from, print_json
from lstmkit.inspection import Inspection, inspect_layers
from lstmkit.nn import LSTM, Dense, Embedding
from lstmkit.serve.contract import Endpoint, TaskService
from lstmkit.serve.schemas import ModelName, StrictRequest
from lstmkit.text.vocabulary import Vocabulary
from lstmkit.settings import TrainingConfig, check_config, setting
from lstmkit.training.recipe import Recipe, best_epoch, load_trained, run_training

from . import LIMITS

LETTERS = "ab"


@dataclass(frozen=True)
class FirstConfig(TrainingConfig):
    strings: int = setting(256, "training strings (as many again validate)", limit=LIMITS["strings"])
    length: int = 6
    units: int = 8
    lr: float = 0.02
    batch_size: int = 32
    epochs: int = 3
    optimizer: str = "adam"


PRESETS = {"lecture": FirstConfig()}


class FirstModel(torch.nn.Module):
    def __init__(self, config: FirstConfig, vocab: int):
        super().__init__()
        self.embedding = Embedding(vocab, 4)
        self.recurrent = LSTM(4, config.units)
        self.output = Dense(config.units, len(LETTERS))

    def forward(self, ids):
        return self.output(self.recurrent(self.embedding(ids)))


def strings(count: int, length: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """(count, length) ids of random a/b strings, and each one's first letter."""
    ids = torch.randint(0, len(LETTERS), (count, length), generator=generator)
    return ids, ids[:, 0].clone()


def prepare(config: FirstConfig, run, resuming: bool, target) -> Recipe:
    """run_training's prepare: strings of a's and b's; the task is to name the first letter."""
    vocabulary = Vocabulary("char", list(LETTERS))
    data = torch.Generator().manual_seed(config.seed)
    train_ids, train_first = strings(config.strings, config.length, data)
    held_ids, held_first = strings(config.strings, config.length, data)

    def batches(epoch, generator):
        order = torch.randperm(len(train_ids), generator=generator)
        return [(train_ids[part], train_first[part]) for part in order.split(config.batch_size)]

    def batch_loss(model, batch):
        ids, first = batch
        logits = model(ids)
        return torch.nn.functional.cross_entropy(logits, first), {
            "count": len(first), "correct": int((logits.argmax(-1) == first).sum())}

    def validate(model):
        with torch.no_grad():
            return {"val_accuracy": (model(held_ids).argmax(-1) == held_first).float().mean().item()}

    return Recipe("first", config, lambda: FirstModel(config, vocabulary.size), batches=batches,
                  batch_loss=batch_loss, validate=validate, monitor="val_accuracy", mode="max",
                  vocabulary=vocabulary.to_json(), facts={}, describe=f"{config.strings} strings of a's and b's")


def train(config: FirstConfig, out, *, resume: bool = False, device: str = "cpu", progress: bool = False) -> dict:
    trained = run_training("first", config, out, prepare, validate=check_config, resume=resume,
                           device=device, progress=progress, log=lambda *_: None)
    return {"history": trained.history, "best": best_epoch(trained.history)}


class FirstPredictor:
    def __init__(self, model: FirstModel, vocabulary: Vocabulary):
        self.model, self.vocabulary = model, vocabulary

    def predict(self, texts: list[str]) -> list[str]:
        with torch.no_grad():
            ids = torch.tensor([self.vocabulary.encode(text) for text in texts])
            return [LETTERS[index] for index in self.model(ids).argmax(-1).tolist()]

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    def inspect(self, text: str) -> Inspection:
        ids = torch.tensor([self.vocabulary.encode(text)])
        return inspect_layers([self.model.recurrent], self.model.embedding(ids), list(text), "LSTM")


def open_predictor(runs: list, device: str = "cpu") -> FirstPredictor:
    (run,) = runs
    model, vocabulary, _, _ = load_trained(run, "first", FirstConfig, lambda data, run: Vocabulary.from_json(data),
                                           lambda config, vocabulary: FirstModel(config, vocabulary.size), device)
    return FirstPredictor(model, vocabulary)


def add_verbs(verbs) -> None:
    train_verb = verbs.add_parser("train", help="train on random strings")
    add_train_options(train_verb, PRESETS)
    train_verb.set_defaults(handler=lambda args: print(train(config_from(args, PRESETS), args.out)["best"]))
    predict = verbs.add_parser("predict", help="the first letter of each string")
    predict.add_argument("run")
    predict.add_argument("texts", nargs="+")
    add_common(predict, device=False, as_json=True)
    predict.set_defaults(handler=_predict)


def _predict(args) -> None:
    from lstmkit import load

    print_json(load(args.run, task="first").predict(args.texts))


class FirstRequest(StrictRequest):
    model: ModelName = None
    texts: list[str] = Field(min_length=1, max_length=8)


async def first(service, body: FirstRequest, request: Request):
    model = service.model_for("first", body.model)
    return {"model": model.name, "letters": await service.answer(
        request, service.on_model_thread(model.predictor.predict, body.texts))}


def service() -> TaskService:
    return TaskService([Endpoint("/v1/first", FirstRequest, first)])
