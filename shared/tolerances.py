"""The agreement tolerances: how far two forward passes of the same weights may differ.

One home for the project's claim, read by compare/port (the agreement report, the port checks)
and by every test that holds a framework, the reference or a port to it. They are bounds on the
max absolute difference of outputs (and hidden states), per dtype.
"""

from __future__ import annotations

TOLERANCES: dict[str, float] = {
    # float32 carries ~7 significant digits (ulp 1.2e-7 at 1.0); a forward pass of tens of
    # operations whose summation order differs between frameworks drifts by a few ulps of
    # values of size ~1 (2.4e-7 measured for the tutorial model), so 1e-6 leaves headroom
    # without hiding a real error (a swapped gate moves outputs by ~1e-1).
    "float32": 1e-6,
    # float64 has ulp 2.2e-16; the same few-ulp drift is ~1e-15, so 1e-12 is strict and safe.
    "float64": 1e-12,
}


def allowed_difference(tolerance: float, magnitude: float) -> float:
    """The max abs difference allowed between two computations of values reaching `magnitude`.

    Rounding drift is relative: float32 outputs around 1,500 (an unscaled forecaster's) are
    1.2e-4 apart after one ulp, so a bound fixed at 1e-6 would refuse every exact port whose
    numbers are not near 1. Below magnitude 1 the bound is `tolerance` itself (absolute: values
    near zero still drift by a few ulps of the ~1 sized sums that made them); above it, it grows
    with the largest value compared, so it stays a few ulps wide. A wrong port at magnitude 1e-2
    is still held to `tolerance`.

    Args:
        tolerance: the base bound, e.g. TOLERANCES[dtype].
        magnitude: max |value| of the baseline (the source's outputs, or one hidden state).
    """
    return tolerance * max(1.0, float(magnitude))
