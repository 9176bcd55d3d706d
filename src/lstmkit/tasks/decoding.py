"""Decoding a trained Seq2Seq (tasks/translate.py) in batches: greedy and beam search.

Both encode the batch once, then run the decoder one step at a time on its step constants
(Decoder.step_constants: weights laid out for the in-place LSTM step); a translation ends at its
stop token or at its length guard. bf16: every matrix product in bfloat16, the state and the
scores in float32.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from ..text.pairs import PAD, START, STOP

if TYPE_CHECKING:
    from .translate import Seq2Seq

DECODE_BATCH = 512  # sentences decoded together (bfloat16 products gain 20% over 256 here; float32 4%)
BEAM_SCORES = 8_000_000  # beam search's (sentences·beam, vocabulary) scores per step, at most: past it
# the passes over them leave the caches (word model, beam 5: 64 sentences at a time is 1.3x faster than 512)


def sentences_per_batch(beam: int, vocabulary: int) -> int:
    """How many sentences to decode together."""
    return DECODE_BATCH if beam == 1 else max(1, min(DECODE_BATCH, BEAM_SCORES // (beam * vocabulary)))


def output_limits(lengths: torch.Tensor, max_steps: int) -> torch.Tensor:
    """(batch,) most tokens each translation may have: 2 x its source length + 20, at most max_steps,
    so a model stuck repeating itself stops early. Only 9 of deu-eng's 169,813 German sides are
    longer (in characters; none in words)."""
    return (2 * lengths.to(torch.long) + 20).clamp(max=max_steps)


def encode_for_decoding(model: Seq2Seq, source, lengths, bf16: bool = False):
    """model.encode for decoding; with bf16 its matrix products run in bfloat16 (autocast) -> float32
    (memory, mask, states)."""
    if not bf16:
        return model.encode(source, lengths)
    with torch.autocast(source.device.type, torch.bfloat16):
        memory, mask, states = model.encode(source, lengths)
    return memory.float(), mask, [(h.float(), c.float()) for h, c in states]


@torch.no_grad()
def greedy_decode(model: Seq2Seq, language: str, source, lengths, max_steps: int, *, keep_attention=False,
                  bf16: bool = False):
    """Batched greedy decoding -> (ids (batch, steps) ending at each row's stop token (or its length
    guard), then padding; attention (batch, steps, S) or None). Finished rows drop out of the batch.
    bf16: every matrix product in bfloat16 (state, attention and scores stay float32)."""
    decoder = model.decoders[language]
    memory, mask, states = encode_for_decoding(model, source, lengths, bf16)
    batch = source.shape[0]
    limits = output_limits(lengths, max_steps)
    out = torch.full((batch, max_steps), PAD, dtype=torch.long, device=source.device)
    attention = torch.zeros(batch, max_steps, memory.shape[1]) if keep_attention and decoder.attention else None
    rows = torch.arange(batch, device=source.device)  # which sentences are still running
    tokens = torch.full((batch,), START, dtype=torch.long, device=source.device)
    constants = decoder.step_constants(bf16)
    for step in range(max_steps):
        logits, states, weights = decoder.step(tokens, states, memory, mask, constants)
        tokens = logits.argmax(-1)
        out[rows, step] = tokens
        if attention is not None:
            attention[rows.cpu(), step] = weights.cpu()
        running = (tokens != STOP) & (step + 1 < limits)
        if not running.all():
            if not running.any():
                break
            keep = running.nonzero()[:, 0]  # index_select: several times faster than a boolean mask on CPU
            rows, tokens, limits = rows[keep], tokens[keep], limits[keep]
            states = [(h.index_select(0, keep), c.index_select(0, keep)) for h, c in states]
            if decoder.attention:  # only attention reads the encoder outputs
                memory, mask = memory.index_select(0, keep), mask.index_select(0, keep)
    return out, attention


@torch.no_grad()
def beam_decode(model: Seq2Seq, language: str, source, lengths, max_steps: int, beam: int = 5,
                alpha: float = 1.0, bf16: bool = False) -> torch.Tensor:
    """Batched beam search: each sentence keeps `beam` hypotheses; a hypothesis that emits the stop
    token is finished with score log p / length**alpha (length normalisation). A sentence stops once
    its best finished score beats what its live hypotheses have now, or at its length guard.
    -> ids (batch, steps). bf16 as greedy_decode."""
    decoder = model.decoders[language]
    memory, mask, states = encode_for_decoding(model, source, lengths, bf16)
    batch, device = source.shape[0], source.device
    expand = lambda t: t.repeat_interleave(beam, 0)  # noqa: E731  (batch, ...) -> (batch*beam, ...)
    memory, mask = expand(memory), expand(mask)
    states = [(expand(h), expand(c)) for h, c in states]
    scores = torch.full((batch, beam), float("-inf"), device=device)
    scores[:, 0] = 0.0  # one live hypothesis to start with
    sequences = torch.full((batch * beam, 0), PAD, dtype=torch.long, device=device)
    tokens = torch.full((batch * beam,), START, dtype=torch.long, device=device)
    best_score = torch.full((batch,), float("-inf"), device=device)
    best = torch.full((batch, max_steps), PAD, dtype=torch.long, device=device)
    done = torch.zeros(batch, dtype=torch.bool, device=device)
    limits = output_limits(lengths, max_steps)
    base = torch.arange(batch, device=device)[:, None] * beam
    constants = decoder.step_constants(bf16)
    for step in range(max_steps):
        logits, states, _ = decoder.step(tokens, states, memory, mask, constants)
        # the best 2·beam continuations overall are among each hypothesis' own best 2·beam: ranking
        # those alone spares two (batch·beam, vocab) passes (log_softmax, + scores), the bulk of a
        # step for a word vocabulary
        width = min(2 * beam, logits.shape[-1])
        own_top, own_token = logits.topk(width, -1)
        own_top -= logits.logsumexp(-1, keepdim=True)  # log probabilities
        total = (scores.view(-1, 1) + own_top).view(batch, beam * width)
        top, index = total.topk(2 * beam, -1)  # at most `beam` of them stop (one per hypothesis)
        origin, token = index // width, own_token.view(batch, beam * width).gather(1, index)
        stops = token == STOP
        normalised = torch.where(stops & ~done[:, None], top / (step + 1) ** alpha, float("-inf"))
        candidate, pick = normalised.max(-1)
        better = candidate > best_score
        if better.any():
            rows = better.nonzero()[:, 0]
            parent = (base[rows, 0] + origin[rows, pick[rows]])
            best[rows] = PAD
            best[rows, :step] = sequences[parent]
            best[rows, step] = STOP
            best_score[rows] = candidate[rows]
        live_top, live_pick = top.masked_fill(stops, float("-inf")).topk(beam, -1)
        parents = (base + origin.gather(1, live_pick)).view(-1)
        tokens = token.gather(1, live_pick).view(-1)
        scores = live_top
        sequences = torch.cat([sequences[parents], tokens[:, None]], 1)
        states = [(h.index_select(0, parents), c.index_select(0, parents)) for h, c in states]
        live_best, live_pick = scores.max(-1)
        live_normalised = live_best / (step + 1) ** alpha
        guarded = (step + 1 >= limits) & ~done & (live_normalised > best_score)
        if guarded.any():  # at the length guard a live hypothesis scoring better than any finished one wins
            rows = guarded.nonzero()[:, 0]
            best[rows, : step + 1] = sequences[base[rows, 0] + live_pick[rows]]
            best_score[rows] = live_normalised[rows]
        done |= (best_score >= live_normalised) | (step + 1 >= limits)
        if done.all():
            break
    return best
