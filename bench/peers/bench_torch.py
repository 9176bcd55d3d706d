"""One measurement of a lecture model in plain PyTorch (torch.nn.LSTM / nn.RNN) or in lstmkit's layers.

    python bench_torch.py --impl torch|lstmkit --model imdb_lstm --batch 32 [--seconds 8] [--threads N]

Prints one line 'RESULT {json}': steady-state training and inference samples/s, load averages.
Training: a random batch gathered from a pool of synthetic samples, forward, loss, backward,
RMSprop step. Inference: eval() and inference_mode(). The lstmkit variant runs with denormals
flushed to zero, as lstmkit trains (TensorFlow does so by default, PyTorch does not).
"""

import contextlib
import os
import sys
import time

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import measure  # noqa: E402
import specs  # noqa: E402

POOL_BATCHES = 16  # distinct synthetic batches to draw from


class Imdb(nn.Module):
    """Token ids (batch, 500) -> one logit (batch,); the sigmoid lives in the loss."""

    def __init__(self, model: str, impl: str):
        super().__init__()
        c, units = specs.IMDB, specs.IMDB["units"]
        bidirectional = model == "imdb_bilstm"
        if impl == "lstmkit":
            from lstmkit import nn as kit
            self.embedding = kit.Embedding(c["vocab"], c["embedding"])
            if model == "imdb_simplernn":
                layers = [kit.SimpleRNN(c["embedding"], units)]
            elif model == "imdb_stacked":
                layers = [kit.LSTM(units, units, return_sequences=i < 2, dropout=specs.DROPOUT) for i in range(3)]
            elif bidirectional:
                layers = [kit.Bidirectional(kit.LSTM(c["embedding"], units, dropout=specs.DROPOUT))]
            else:
                layers = [kit.LSTM(c["embedding"], units)]
            self.recurrent = nn.Sequential(*layers)
            self.head = kit.Dense(units * (2 if bidirectional else 1), 1)
        else:
            self.embedding = nn.Embedding(c["vocab"], c["embedding"])
            # Keras's dropout=0.2 drops each LSTM's inputs: a Dropout before the first, nn.LSTM's between the others
            self.dropout = nn.Dropout(specs.DROPOUT) if model in ("imdb_stacked", "imdb_bilstm") else nn.Identity()
            if model == "imdb_simplernn":
                self.rnn = nn.RNN(c["embedding"], units, batch_first=True)
            elif model == "imdb_stacked":
                self.rnn = nn.LSTM(units, units, num_layers=3, dropout=specs.DROPOUT, batch_first=True)
            else:
                self.rnn = nn.LSTM(c["embedding"], units, batch_first=True, bidirectional=bidirectional)
            self.head = nn.Linear(units * (2 if bidirectional else 1), 1)
        self.impl, self.bidirectional = impl, bidirectional

    def forward(self, ids):
        if self.impl == "lstmkit":
            return self.head(self.recurrent(self.embedding(ids))).squeeze(1)
        _, state = self.rnn(self.dropout(self.embedding(ids)))
        h = state[0] if isinstance(state, tuple) else state  # (layers·directions, batch, units)
        last = torch.cat([h[-2], h[-1]], 1) if self.bidirectional else h[-1]
        return self.head(last).squeeze(1)


class Char(nn.Module):
    """One-hot chars (batch, 60, 57) -> logits of the next char (batch, 57). lstmkit's LSTM takes the
    chars as one-hot ids (batch, 60), as lstmkit's own char model does: the same model and values,
    its input's part of the gates a lookup instead of a product with a one-hot vector."""

    def __init__(self, impl: str):
        super().__init__()
        c = specs.CHAR
        if impl == "lstmkit":
            from lstmkit import nn as kit
            self.lstm = kit.LSTM(c["vocab"], c["units"])
            self.head = kit.Dense(c["units"], c["vocab"])
        else:
            self.lstm = nn.LSTM(c["vocab"], c["units"], batch_first=True)
            self.head = nn.Linear(c["units"], c["vocab"])
        self.impl = impl

    def forward(self, x):
        last = self.lstm(x) if self.impl == "lstmkit" else self.lstm(x)[1][0][-1]
        return self.head(last)


class Seq2Seq(nn.Module):
    """Encoder one-hot (batch, 16, 70) and teacher-forced decoder input (batch, 60, 90) -> logits (batch, 60, 90);
    the decoder starts from the encoder's final (h, c). lstmkit's LSTMs take both as one-hot ids, as the
    char model does."""

    def __init__(self, impl: str):
        super().__init__()
        c = specs.SEQ2SEQ
        if impl == "lstmkit":
            from lstmkit import nn as kit
            self.encoder = kit.LSTM(c["encoder_vocab"], c["units"], return_state=True)
            self.decoder = kit.LSTM(c["decoder_vocab"], c["units"], return_sequences=True)
            self.head = kit.Dense(c["units"], c["decoder_vocab"])
        else:
            self.encoder = nn.LSTM(c["encoder_vocab"], c["units"], batch_first=True)
            self.decoder = nn.LSTM(c["decoder_vocab"], c["units"], batch_first=True)
            self.head = nn.Linear(c["units"], c["decoder_vocab"])
        self.impl = impl

    def forward(self, source, target_in):
        if self.impl == "lstmkit":
            _, state = self.encoder(source)
            return self.head(self.decoder(target_in, state))
        _, state = self.encoder(source)
        return self.head(self.decoder(target_in, state)[0])


def build(model: str, impl: str):
    """-> (module, loss(output, target))."""
    if model.startswith("imdb"):
        return Imdb(model, impl), nn.functional.binary_cross_entropy_with_logits
    if model == "char_lstm":
        return Char(impl), nn.functional.cross_entropy
    return Seq2Seq(impl), lambda out, target: nn.functional.cross_entropy(out.flatten(0, 1), target.flatten())


def synthetic(model: str, count: int, generator, impl: str = "torch"):
    """-> (inputs tuple, targets) of `count` samples, as `impl`'s model takes them."""
    ids = lambda high, *shape: torch.randint(0, high, shape, generator=generator)  # noqa: E731
    one_hot = lambda chars, high: nn.functional.one_hot(chars, high).float()  # noqa: E731
    if model.startswith("imdb"):
        return (ids(specs.IMDB["vocab"], count, specs.IMDB["length"]),), ids(2, count).float()
    if model == "char_lstm":
        c = specs.CHAR
        chars = ids(c["vocab"], count, c["length"])
        inputs = chars if impl == "lstmkit" else one_hot(chars, c["vocab"])
        return (inputs,), ids(c["vocab"], count)
    c = specs.SEQ2SEQ
    source, target_in = ids(c["encoder_vocab"], count, c["encoder_length"]), ids(c["decoder_vocab"], count, c["decoder_length"])
    if impl != "lstmkit":
        source, target_in = one_hot(source, c["encoder_vocab"]), one_hot(target_in, c["decoder_vocab"])
    return (source, target_in), ids(c["decoder_vocab"], count, c["decoder_length"])


def stepper(model: str, impl: str, batch: int, generator, inputs_as: str | None = None):
    """`model` as `impl` builds it, with RMSprop and a pool of synthetic samples made as `inputs_as`
    (default: impl) takes them -> step(phase): one training step ("training") or forward
    ("inference") on a random batch of the pool."""
    module, loss_fn = build(model, impl)
    optimizer = torch.optim.RMSprop(module.parameters(), lr=specs.learning_rate(model), alpha=specs.RMSPROP["rho"],
                                    eps=specs.RMSPROP["epsilon"])
    inputs, targets = synthetic(model, POOL_BATCHES * batch, generator, inputs_as or impl)

    def step(phase: str) -> None:
        index = torch.randint(0, targets.shape[0], (batch,), generator=generator)
        x = [tensor[index] for tensor in inputs]
        if phase == "training":
            module.train()
            optimizer.zero_grad(set_to_none=True)
            loss_fn(module(*x), targets[index]).backward()
            optimizer.step()
        else:
            module.eval()
            with torch.inference_mode():
                module(*x).sum().item()

    return step


def main():
    args = measure.arguments(__doc__.splitlines()[0],
                             lambda p: p.add_argument("--impl", choices=("torch", "lstmkit"), required=True))
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)
    module, loss_fn = build(args.model, args.impl)
    optimizer = torch.optim.RMSprop(module.parameters(), lr=specs.learning_rate(args.model),
                                    alpha=specs.RMSPROP["rho"], eps=specs.RMSPROP["epsilon"])
    inputs, targets = synthetic(args.model, POOL_BATCHES * args.batch, generator, args.impl)

    def batch():
        index = torch.randint(0, targets.shape[0], (args.batch,), generator=generator)
        return [x[index] for x in inputs], targets[index]

    def train(count):
        module.train()
        stamps = []
        for _ in range(count):
            x, y = batch()
            optimizer.zero_grad(set_to_none=True)
            loss_fn(module(*x), y).backward()
            optimizer.step()
            stamps.append(time.perf_counter())
        return stamps

    def infer(count):
        module.eval()
        stamps = []
        with torch.inference_mode():
            for _ in range(count):
                module(*batch()[0]).sum().item()  # waits for the result
                stamps.append(time.perf_counter())
        return stamps

    result = dict(variant=args.impl, model=args.model, batch=args.batch, threads=torch.get_num_threads(),
                  params=sum(p.numel() for p in module.parameters()), versions=dict(torch=torch.__version__))
    flushing = contextlib.nullcontext()
    if args.impl == "lstmkit":
        import lstmkit
        from lstmkit.nn import flush_denormals
        flushing = flush_denormals()
        result["versions"]["lstmkit"] = lstmkit.__version__
    with flushing:
        result.update(measure.timed_phases(args, train, infer))
    measure.emit(result)


if __name__ == "__main__":
    main()
