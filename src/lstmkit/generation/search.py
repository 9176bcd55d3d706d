"""Greedy and beam search in batches, for any model behind the StepModel interface (steps.py).

Both start once (the model reads or encodes the batch and gives the first token's scores), then
take one step at a time; a sequence ends at its stop token or at its length guard. Search knows
nothing of the model: what a step computes, and how its states are laid out, is the model's
(a translator's Seq2SeqSteps, a language model's LanguageModelSteps).
"""

from __future__ import annotations

import torch

from ..text.tokens import PAD, STOP
from .steps import StepModel

DECODE_BATCH = 512  # sentences decoded together: bigger matrix products, above all in bfloat16
# beam search's (sentences·beam, vocabulary) scores per step, at most: past it their passes leave the caches
BEAM_SCORES = 8_000_000


def sentences_per_batch(beam: int, vocabulary: int) -> int:
    """How many sentences to decode together."""
    return DECODE_BATCH if beam == 1 else max(1, min(DECODE_BATCH, BEAM_SCORES // (beam * vocabulary)))


def output_limits(lengths: torch.Tensor, max_steps: int) -> torch.Tensor:
    """(batch,) most tokens each translation may have: 2 x its source length + 20, at most max_steps,
    so a model stuck repeating itself stops early. Only 9 of deu-eng's 169,813 German sides are
    longer (in characters; none in words)."""
    return (2 * lengths.to(torch.long) + 20).clamp(max=max_steps)


@torch.no_grad()
def greedy_decode(decoder: StepModel, source, lengths, max_steps: int, *, keep_attention=False):
    """Batched greedy decoding -> (ids (batch, steps) ending at each row's stop token (or its length
    guard), then padding; attention (batch, steps, S) or None). Finished rows drop out of the batch."""
    (logits, states, weights), context = decoder.start(source, lengths)
    batch = source.shape[0]
    limits = output_limits(lengths, max_steps)
    out = torch.full((batch, max_steps), PAD, dtype=torch.long, device=source.device)
    attention = torch.zeros(batch, max_steps, source.shape[1]) if keep_attention and decoder.attention else None
    rows = torch.arange(batch, device=source.device)  # which sentences are still running
    for step in range(max_steps):
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
            states, context = decoder.select(states, keep), decoder.select_context(context, keep)
        logits, states, weights = decoder.step(tokens, states, context)
    return out, attention


@torch.no_grad()
def beam_decode(decoder: StepModel, source, lengths, max_steps: int, beam: int = 5,
                alpha: float = 1.0) -> torch.Tensor:
    """Batched beam search: each sentence keeps `beam` hypotheses; a hypothesis that emits the stop
    token is finished with score log p / length**alpha (length normalisation). A sentence stops once
    its best finished score beats what its live hypotheses have now, or at its length guard.
    -> ids (batch, steps)."""
    (logits, states, _), context = decoder.start(source, lengths)
    batch, device = source.shape[0], source.device
    hypotheses = torch.arange(batch, device=device).repeat_interleave(beam)  # (batch*beam,): each one's sentence
    context, states = decoder.select_context(context, hypotheses), decoder.select(states, hypotheses)
    logits = logits.index_select(0, hypotheses)
    scores = torch.full((batch, beam), float("-inf"), device=device)
    scores[:, 0] = 0.0  # one live hypothesis to start with
    sequences = torch.full((batch * beam, 0), PAD, dtype=torch.long, device=device)
    best_score = torch.full((batch,), float("-inf"), device=device)
    best = torch.full((batch, max_steps), PAD, dtype=torch.long, device=device)
    done = torch.zeros(batch, dtype=torch.bool, device=device)
    limits = output_limits(lengths, max_steps)
    base = torch.arange(batch, device=device)[:, None] * beam
    for step in range(max_steps):
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
        _keep_stopped(best, best_score, sequences, top, stops & ~done[:, None], base + origin, step, alpha)
        live_top, live_pick = top.masked_fill(stops, float("-inf")).topk(beam, -1)
        parents = (base + origin.gather(1, live_pick)).view(-1)
        tokens = token.gather(1, live_pick).view(-1)
        scores = live_top
        sequences = torch.cat([sequences[parents], tokens[:, None]], 1)
        states = decoder.select(states, parents)  # parents stay within their sentence: the context holds
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
        logits, states, _ = decoder.step(tokens, states, context)
    return best


def _keep_stopped(best, best_score, sequences, top, stopping, parent_of, step: int, alpha: float) -> None:
    """Where a sentence's best hypothesis that emits the stop token at `step` (`top` (batch, 2·beam)
    scores, `stopping` which may stop, `parent_of` their rows of `sequences`) scores better, length
    normalised, than its translation so far (`best`, `best_score`), it becomes its translation."""
    normalised = torch.where(stopping, top / (step + 1) ** alpha, float("-inf"))
    candidate, pick = normalised.max(-1)
    better = candidate > best_score
    if better.any():
        rows = better.nonzero()[:, 0]
        best[rows] = PAD
        best[rows, :step] = sequences[parent_of[rows, pick[rows]]]
        best[rows, step] = STOP
        best_score[rows] = candidate[rows]
