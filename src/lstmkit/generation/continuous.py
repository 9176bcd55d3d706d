"""Continuous batching for a server: a request's sequences join the running batch at the next step
boundary and leave it when they are done, so nobody waits for a whole batch to finish. It steps
any StepModel (steps.py), sampled text and greedy translations alike: the batch's rows, states and
context grow and shrink through the model's own start, step, select and join.

The model thread runs the batch in slices of a few steps; between slices the other models' work
(sentiment batches, beam searches) gets its turn on the same thread. Each request draws its random
numbers as sampling.sample does, from its own generator: with temperature sampling its Gumbel
noise, drawn when it joins, so one batched argmax serves every such row (greedy rows too: no noise,
scale 1); top-k and top-p rows draw apart (sampling.choose).
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from ..futures import Busy, answer
from ..nn.lanes import small_ops_threads
from .sampling import SamplingOptions, choose, gumbel_noise
from .steps import StepModel

STEPS_PER_SLICE = 8  # steps of the batch between two turns of the other models' work
GREEDY = SamplingOptions(strategy="greedy")


@dataclass
class Sequences:
    """What one request asks for: a sequence made after each prompt row, one token a step."""

    prompt: torch.Tensor  # (rows, time) ids
    length: int  # tokens a row makes at most
    lengths: torch.Tensor | None = None  # (rows,) of a right-padded prompt
    limits: torch.Tensor | None = None  # (rows,) tokens each row makes at most, where rows differ (≤ length)
    stop: int | None = None  # the token that ends a row; the request is done once every row made it
    options: SamplingOptions = GREEDY  # how the next token is chosen
    seed: int | None = None  # of its random numbers: the same seed, the same sequences
    on_step: Callable[[torch.Tensor], None] | None = None  # each step's tokens (rows,), on the model thread

    @property
    def rows(self) -> int:
        return self.prompt.shape[0]


@dataclass
class _Stream:
    """One request's rows in the batch: after those of the streams before it."""

    asked: Sequences
    future: asyncio.Future
    generator: torch.Generator | None
    noise: torch.Tensor  # (length, rows, vocab) Gumbel noise; (1, rows, vocab) zeros when none is added
    scale: float  # 1/temperature; 1 for greedy, top-k and top-p
    step: int = 0  # tokens made so far
    tokens: list = field(default_factory=list)  # (rows, steps) ids per run of the batch
    stopped: torch.Tensor | None = None  # (rows,) whether each row made the stop token
    cancelled: bool = False

    @property
    def rows(self) -> int:
        return self.asked.rows

    @property
    def draws_apart(self) -> bool:
        """Top-k and top-p rows choose their tokens themselves; the others share one argmax."""
        return self.asked.options.strategy in ("top-k", "top-p")

    def noise_for(self, start: int, steps: int) -> torch.Tensor:
        """(steps, rows, vocab): the noise of steps start, start + 1, …"""
        if self.noise.shape[0] == 1:
            return self.noise.expand(steps, -1, -1)
        return self.noise[start: start + steps]

    def made(self, block: torch.Tensor) -> None:
        """Takes this stream's (rows, steps) tokens of a run."""
        self.tokens.append(block)
        self.step += block.shape[1]
        if self.asked.stop is not None:
            stopped = (block == self.asked.stop).any(1)
            self.stopped = stopped if self.stopped is None else self.stopped | stopped

    @property
    def done(self) -> bool:
        return (self.cancelled or self.step >= self.asked.length
                or (self.stopped is not None and bool(self.stopped.all())))

    def result(self) -> list[torch.Tensor]:
        """Each row's ids, at most its limit (a row that stopped early also made tokens after its stop)."""
        made = torch.cat(self.tokens, 1)
        limits = [self.asked.length] * self.rows if self.asked.limits is None else self.asked.limits.tolist()
        return [ids[:limit] for ids, limit in zip(made, limits)]


class ContinuousGeneration:
    """Requests to one StepModel on `executor` (the model thread); `vocabulary` is the size of the
    model's scores. The model also tells where it runs (`device`) and its state's width (`hidden`)."""

    def __init__(self, model: StepModel, vocabulary: int, executor, max_rows: int = 64, max_pending: int = 512):
        self.model, self.vocabulary, self.executor = model, vocabulary, executor
        self.device = model.device  # noise, scales and tokens go where the model is
        self.max_rows, self.max_pending = max_rows, max_pending
        self.waiting: deque[_Stream] = deque()  # appended on the event loop, taken on the model thread
        self.active: list[_Stream] = []  # model thread only
        # the batch: the model's states and context, (rows,) latest tokens, (rows, 1) scales
        self.states = self.context = self.tokens = self.scale = None
        self.scheduled = False  # event loop only: a slice is queued or running
        self.pending = 0  # rows waiting or running

    def check_room(self, rows: int) -> None:
        if self.pending + rows > self.max_pending:
            raise Busy(f"{self.pending} sequences are being made by this model")

    async def submit(self, asked: Sequences) -> list[torch.Tensor]:
        """Each row's ids once made (row r: at most its limit)."""
        self.check_room(asked.rows)
        options = asked.options
        generator = torch.Generator().manual_seed(asked.seed) if asked.seed is not None else None
        gumbel = options.strategy in ("multinomial", "temperature")
        noise = (gumbel_noise((asked.length, asked.rows, self.vocabulary), generator) if gumbel
                 else torch.zeros(1, asked.rows, self.vocabulary))
        scale = 1.0 / options.temperature if options.strategy == "temperature" else 1.0
        stream = _Stream(asked, asyncio.get_running_loop().create_future(), generator, noise, scale)
        self.waiting.append(stream)
        self.pending += asked.rows
        self._schedule()
        try:
            return await stream.future
        except asyncio.CancelledError:
            stream.cancelled = True
            raise
        finally:
            self.pending -= asked.rows

    def _schedule(self) -> None:
        if not self.scheduled:
            self.scheduled = True
            asyncio.get_running_loop().run_in_executor(self.executor, self._slice).add_done_callback(self._sliced)

    def _sliced(self, done) -> None:
        self.scheduled = False
        if done.cancelled() or done.exception() is not None:  # a bug: every caller hears of it
            error = done.exception() if not done.cancelled() else RuntimeError("the model thread dropped the work")
            for stream in [*self.active, *self.waiting]:
                _deliver(stream, error)
            self._reset()
            self.waiting.clear()
        if self.active or self.waiting:
            self._schedule()

    def _reset(self) -> None:
        self.active, self.states, self.context = [], None, None

    def _slice(self) -> None:
        """On the model thread: let waiting requests join, then run a few steps. A failure answers
        the requests it touched (those joining, or the whole running batch) and the engine goes on."""
        try:
            with torch.inference_mode():
                self._admit()
                rows = sum(stream.rows for stream in self.active)
                with small_ops_threads(rows * self.model.hidden):
                    left = STEPS_PER_SLICE
                    while self.active and left:
                        # no stream ends within a run: the batch keeps its rows until the run ends
                        steps = min(left, *(stream.asked.length - stream.step for stream in self.active))
                        left -= self._run(steps)
                        self._drop_finished()
        except Exception as error:  # noqa: BLE001 - the batch's state is lost: its callers hear why
            for stream in self.active:
                _deliver(stream, error)
            self._reset()

    def _run(self, steps: int) -> int:
        """Up to `steps` steps of the batch (fewer when a request is cancelled: its rows leave at
        the next step) -> the steps run. Each stream gets its rows' tokens at the end."""
        # (steps, rows, vocab)
        noise = torch.cat([stream.noise_for(stream.step, steps) for stream in self.active], 1).to(self.device)
        rows = self._rows()
        drawing = [(stream, row) for stream, row in zip(self.active, rows) if stream.draws_apart]
        telling = [(stream, row) for stream, row in zip(self.active, rows) if stream.asked.on_step is not None]
        made = []
        for step in range(steps):
            logits, self.states, _ = self.model.step(self.tokens, self.states, self.context)
            self.tokens = torch.addcmul(noise[step], logits, self.scale).argmax(-1)
            for stream, row in drawing:
                self.tokens[row] = choose(logits[row], stream.asked.options, stream.generator)
            made.append(self.tokens)
            for stream, row in telling:
                stream.asked.on_step(self.tokens[row])
            if any(stream.cancelled for stream in self.active):
                break
        block = torch.stack(made, 1)  # (rows, steps run)
        for stream, row in zip(self.active, rows):
            stream.made(block[row])
        return len(made)

    def _rows(self, streams: list[_Stream] | None = None) -> list[slice]:
        """Each stream's rows (of the active ones by default) in their batch."""
        rows, start = [], 0
        for stream in self.active if streams is None else streams:
            rows.append(slice(start, start + stream.rows))
            start += stream.rows
        return rows

    def _admit(self) -> None:
        """Waiting requests join, as many as fit (an empty batch takes the first however large); those
        whose prompts have one width start in one call."""
        joining, rows = [], sum(stream.rows for stream in self.active)
        while self.waiting and (rows == 0 or rows + self.waiting[0].rows <= self.max_rows):
            stream = self.waiting.popleft()
            if not stream.cancelled:
                joining.append(stream)
                rows += stream.rows
        joining.sort(key=lambda stream: stream.asked.prompt.shape[1])
        for _, group in itertools.groupby(joining, key=lambda stream: stream.asked.prompt.shape[1]):
            group = list(group)
            try:  # the batch changes only once the group is ready: a failure leaves it as it was
                self._join(group)
            except Exception as error:  # noqa: BLE001 - these requests hear of it, the batch goes on
                for stream in group:
                    _deliver(stream, error)
        self._drop_finished()  # those of one token are done already

    def _join(self, streams: list[_Stream]) -> None:
        """Streams whose prompts have one width join the batch with their first tokens."""
        prompt = torch.cat([stream.asked.prompt for stream in streams]).to(self.device)
        lengths = None
        if any(stream.asked.lengths is not None for stream in streams):
            lengths = torch.cat([torch.full((stream.rows,), prompt.shape[1]) if stream.asked.lengths is None
                                 else stream.asked.lengths for stream in streams]).to(self.device)
        (logits, states, _), context = self.model.start(prompt, lengths)
        scale = torch.cat([torch.full((stream.rows, 1), stream.scale, device=self.device) for stream in streams])
        noise = torch.cat([stream.noise_for(0, 1)[0] for stream in streams]).to(self.device)
        first = torch.addcmul(noise, logits, scale).argmax(-1)
        for stream, row in zip(streams, self._rows(streams)):
            if stream.draws_apart:
                first[row] = choose(logits[row], stream.asked.options, stream.generator)
            stream.made(first[row, None])  # (rows, 1)
            if stream.asked.on_step is not None:
                stream.asked.on_step(first[row])
        if self.states is None:
            self.states, self.context, self.tokens, self.scale = states, context, first, scale
        else:
            self.states = self.model.join(self.states, states)
            self.context = self.model.join_context(self.context, context)
            self.tokens, self.scale = torch.cat([self.tokens, first]), torch.cat([self.scale, scale])
        self.active += streams

    def _drop_finished(self) -> None:
        done = [stream.done for stream in self.active]
        if not any(done):
            return
        keep = []
        for stream, row, finished in zip(self.active, self._rows(), done):
            if not finished:
                keep += range(row.start, row.stop)
            elif not stream.cancelled:
                _deliver(stream, stream.result())
        index = torch.tensor(keep, dtype=torch.long, device=self.device)
        self.active = [stream for stream, finished in zip(self.active, done) if not finished]
        self.states = self.model.select(self.states, index)
        self.context = self.model.select_context(self.context, index)
        self.tokens, self.scale = self.tokens.index_select(0, index), self.scale.index_select(0, index)


def _deliver(stream: _Stream, result) -> None:
    stream.future.get_loop().call_soon_threadsafe(answer, stream.future, result)
