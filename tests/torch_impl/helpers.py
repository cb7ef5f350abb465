"""Masked inputs for the torch_impl tests: where each sample's masked steps lie, and inputs that
follow them."""

from __future__ import annotations

import numpy as np

from shared.spec import ModelSpec

# Where the masked steps of each sample (batch 4, time 6) lie; True = kept.
MASK_PATTERNS: dict[str, np.ndarray] = {
    # trailing padding, every sample its own length (6, 4, 2, 1): torch's packed sequences
    "end": np.arange(6)[None, :] < np.array([6, 4, 2, 1])[:, None],
    # holes inside the sequence: the step loop
    "middle": np.array(
        [
            [1, 1, 0, 0, 1, 1],
            [1, 0, 1, 1, 1, 1],
            [1, 1, 1, 1, 1, 1],
            [1, 0, 0, 0, 0, 1],
        ],
        dtype=bool,
    ),
    # leading padding (Keras's pad_sequences default, padding="pre"): the step loop
    "start": np.arange(6)[None, :] >= np.array([2, 4, 0, 5])[:, None],
    # anything, including a sample with every step masked: the step loop
    "anywhere": np.array(
        [
            [0, 1, 0, 1, 1, 0],
            [0, 0, 0, 0, 0, 0],
            [1, 1, 1, 0, 0, 0],
            [0, 0, 1, 1, 1, 1],
        ],
        dtype=bool,
    ),
}
# Keras semantics per route: packed sequences only for trailing padding in a fused module.
FUSED_KINDS = ("simple-tanh", "simple-relu", "lstm", "gru-reset-after")


def masked_inputs(spec: ModelSpec, pattern: str, seed: int = 8) -> np.ndarray:
    """Inputs (4, 6, features) or token ids (4, 6) whose masked steps follow MASK_PATTERNS.

    Masked steps hold the Masking value (every feature) or id 0; kept steps never do.
    """
    keep = MASK_PATTERNS[pattern]
    rng = np.random.default_rng(seed)
    if spec.embedded:
        ids = rng.integers(1, spec.front.vocab, size=keep.shape)
        return np.where(keep, ids, 0)
    X = rng.normal(size=(*keep.shape, spec.features))
    return np.where(keep[:, :, None], X, spec.front.mask_value)
