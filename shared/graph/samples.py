"""Inputs that fit a graph, for checking ports and impls: random values, planted padding.

Where an input reaches an Embedding(mask_zero) or a Masking node, some sequences are padded at
the end, in the middle and at the start (`padding_mask`), so every check sees masked steps in
each place. A lengths input gets lengths 1..T in any order, and a batch smaller than T gets
lengths 1..T-1: its longest sequence is shorter than T, so a reading that counts max(lengths)
steps where T are meant (pad_packed_sequence without total_length) cannot pass; lengths clamped
to >= 1 in the graph (length_mask min_length 1) get a length 0 too. The steps past
the lengths keep their random values, so a check sees padding that must be ignored, never
zeros that hide it. A free
time axis takes the length asked for, so a check can run two lengths.
"""

from __future__ import annotations

import numpy as np

from shared.graph.layers import Embedding, LengthMask, Masking
from shared.graph.model import GraphInput, ModelGraph
from shared.graph.reference import lowest_length

FREE_TIME_STEPS = (5, 8)  # the two lengths checks run where the time axis is free


def padding_mask(batch: int, time_steps: int, rng: np.random.Generator) -> np.ndarray:
    """(batch, time) True = kept: a quarter of the sequences unpadded, a quarter padded at the
    end (random lengths >= 1), a quarter with a gap in the middle, a quarter padded at the start.
    """
    keep = np.ones((batch, time_steps), dtype=bool)
    for row in range(batch):
        where = row % 4
        cut = int(rng.integers(1, time_steps)) if time_steps > 1 else 1
        if where == 1:
            keep[row, cut:] = False
        elif where == 2 and time_steps > 2:  # one or two steps, never the first or the last
            start = int(rng.integers(1, time_steps - 1))
            keep[row, start : min(start + 2, time_steps - 1)] = False
        elif where == 3:
            keep[row, : time_steps - cut] = False
    return keep


def _readers(graph: ModelGraph, name: str) -> list:
    return [node.kind for node in graph.nodes if any(ref.node == name for ref in node.inputs)]


def _lengths(
    graph: ModelGraph, name: str, batch: int, free: int, rng: np.random.Generator
) -> np.ndarray:
    """Lengths spread over the batch, shuffled (any order, as a padded torch batch comes):
    1..T where the batch holds T samples or more (T and 1 among them), else 1..T-1; from 0
    where the lengths are clamped to >= 1 (`lowest_length`), so a port that masks a length-0
    sample whole, where torch reads its first step, cannot pass."""
    steps = [
        graph.shape(node.inputs[0])[0]
        for node in graph.nodes
        if isinstance(node.kind, LengthMask) and node.inputs[1].node == name
    ]
    time = min((free if size is None else size for size in steps), default=free)
    top = time if batch >= time or time == 1 else time - 1
    low = lowest_length(graph, name)
    count = min(batch, top + 1 - low)
    spread = np.unique(np.round(np.linspace(top, low, count)).astype(np.int64))
    return rng.permutation(np.resize(spread[::-1], batch)).astype(np.int64)


def _one(
    graph: ModelGraph, graph_input: GraphInput, batch: int, time: int, rng: np.random.Generator
) -> np.ndarray:
    readers = _readers(graph, graph_input.name)
    if graph_input.kind == "lengths":
        return _lengths(graph, graph_input.name, batch, time, rng)
    if graph_input.kind == "tokens":
        embeddings = [kind for kind in readers if isinstance(kind, Embedding)]
        vocab = min((kind.vocab for kind in embeddings), default=2)
        masks = any(kind.mask_zero for kind in embeddings)
        ids = rng.integers(1 if masks else 0, vocab, size=(batch, time))
        if masks:  # id 0 appears only where padding is planted
            ids[~padding_mask(batch, time, rng)] = 0
        return ids.astype(np.int64)
    values = rng.normal(size=(batch, time, graph_input.features)).astype(graph.dtype)
    maskings = [kind for kind in readers if isinstance(kind, Masking)]
    if maskings:
        values[~padding_mask(batch, time, rng)] = maskings[0].mask_value
    return values


def sample_inputs(
    graph: ModelGraph, batch: int = 32, seed: int = 0, time_steps: int | None = None
) -> dict[str, np.ndarray]:
    """Seeded inputs by name; a free time axis gets `time_steps` (default the first of
    FREE_TIME_STEPS), a fixed one its own length."""
    rng = np.random.default_rng(seed)
    free = FREE_TIME_STEPS[0] if time_steps is None else time_steps
    return {
        graph_input.name: _one(graph, graph_input, batch, graph_input.time_steps or free, rng)
        for graph_input in graph.inputs
    }
