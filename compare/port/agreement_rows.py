"""The report's forward-agreement rows, as jobs: every layer kind, then the grammar's shapes.

Each job builds a model with random non-constant weights (seed 0) and measures Keras, torch and
the numpy reference against each other (`compare.port.agreement.measure`).
"""

from __future__ import annotations

# Forward agreement rows of the report: every layer kind, as the tutorial's model shape.
AGREEMENT_KINDS = (
    ("simple", "simple", True),
    ("lstm", "lstm", True),
    ("gru", "gru", True),
    ("gru-reset-before", "gru", False),
)


def agreement_job(kind: str, reset_after: bool, dtype: str) -> dict:
    """Forward agreement on real sunspot windows, random non-constant weights (seed 0)."""
    from compare.port.agreement import measure, sunspot_inputs
    from shared.recurrent_spec import RecurrentLayerSpec
    from shared.spec import DenseSpec, ModelSpec
    from shared.weights import random_weights

    spec = ModelSpec(
        12, 1, (RecurrentLayerSpec(kind, 3, reset_after=reset_after),), DenseSpec(1, "tanh"), dtype
    )
    weights = random_weights(spec, seed=0)
    report = measure(weights, sunspot_inputs(spec), "sunspot windows")
    return {"kind": "agreement_run", **report.to_dict()}


# Rows for the grammar beyond the plain stack (labels of compare.port.shapes.SHAPES).
AGREEMENT_SHAPES = (
    "embedding + mask_zero",
    "masking + bidirectional",
    "mlp head",
    "layer norm",
    "batch norm",
    "per-step head",
    "bidirectional last step",
)


def shape_agreement_job(shape: str, dtype: str) -> dict:
    """Forward agreement of one model shape of the grammar, random weights and inputs (seed 0).

    Inputs come from `random_inputs`: token ids or real sequences, with padding planted at the
    end, in the middle and at the start where the model masks.
    """
    from compare.port.agreement import measure, random_inputs
    from compare.port.shapes import SHAPES
    from shared.weights import random_weights

    spec = SHAPES[shape](dtype)
    report = measure(random_weights(spec, seed=0), random_inputs(spec, 64, seed=0), "random")
    return {"kind": "agreement_run", "label": shape, **report.to_dict()}
