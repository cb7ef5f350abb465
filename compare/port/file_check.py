"""`rnn-parity check FILE`: the file's own model against the numpy reference, then the frameworks.

Rebuilding both frameworks' models from the canonical weights read out of a file, and finding
they agree, says nothing about the file: an option the reader did not understand is missing
from every rebuilt model alike. So the first row is the file's own model (Keras loads the
`.keras` or `.h5` itself; a torch file runs as rnn-parity saved it) against the reference on the
same inputs, and a failure names the first layer of the file's model that diverges.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from compare.port.agreement import AgreementReport, difference, measure
from compare.port.files import predict_file, source_divergence
from shared.reference import predict as reference_predict
from shared.tolerances import TOLERANCES
from shared.weights import CanonicalWeights


def measure_file(
    path: str | Path,
    weights: CanonicalWeights,
    inputs: np.ndarray,
    inputs_label: str,
    tolerance: float | None = None,
) -> tuple[AgreementReport, str | None]:
    """The agreement report of `measure`, led by the row of the file's own model.

    Args:
        path: the model file `weights` were read from.
        weights: its canonical weights (with their spec).
        inputs: inputs fitted to the spec.
        inputs_label: what the inputs are, for the report.
        tolerance: an absolute bound; default the dtype's, scaled by the outputs' size.

    Returns:
        The report, and where the file's own model first diverges when its row fails (a Keras
        file's layer), else None.
    """
    report = measure(weights, inputs, inputs_label, tolerance)
    scaled = tolerance is None
    bound = TOLERANCES[weights.spec.dtype] if tolerance is None else tolerance
    own = difference(
        "outputs",
        "your file vs reference",
        predict_file(path, inputs),
        reference_predict(weights, inputs),
        bound,
        scaled,
    )
    report.rows.insert(0, own)
    where = None if own.ok else source_divergence(Path(path), weights, inputs)
    return report, where
