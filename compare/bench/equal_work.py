"""Equal work: a tuned variant must change speed, never results.

Each variant trains the tutorial in full over the same seeds as its framework's default
variant; its test RMSEs are judged against the default's (identical runs pass; otherwise the
mean must fall within the reference's mean plus or minus 2 sample sd).
"""

from __future__ import annotations

import math
import statistics
from typing import Any

EQUAL_WORK_RULE = (
    "mean test RMSE within the reference variant's mean ± 2 sample sd over its seeds; "
    "runs identical to the reference seed for seed pass; one reference seed gives no spread, "
    "so only identical runs are judged"
)


def _mean_sd(values: list[float]) -> tuple[float, float]:
    finite = [v for v in values if math.isfinite(v)]
    mean = statistics.fmean(finite) if finite else math.nan
    sd = statistics.stdev(finite) if len(finite) > 1 else math.nan
    return mean, sd


def judge_equal_work(
    test_rmse: list[float], reference_rmse: list[float] | None, reference_variant: str | None
) -> dict[str, Any]:
    """Does a variant reach its reference's results? See EQUAL_WORK_RULE.

    Args:
        test_rmse: the variant's test RMSE per seed (NaN for a diverged run).
        reference_rmse: the reference variant's, same seeds in the same order; None if the
            variant is its own reference or the reference was not measured.
        reference_variant: the reference's name (None for a default variant).

    Returns:
        mean, sd, reference_variant, reference mean and sd, identical_to_reference,
        max_abs_diff_to_reference, within_spread (True, False, or None when not judged), rule.
    """
    mean, sd = _mean_sd(test_rmse)
    judged: dict[str, Any] = {
        "mean": mean,
        "sd": sd,
        "reference_variant": reference_variant,
        "rule": EQUAL_WORK_RULE,
        "within_spread": None,
        "identical_to_reference": None,
        "max_abs_diff_to_reference": None,
    }
    if reference_variant is None:
        judged["note"] = "default variant: the reference of its framework"
        return judged
    if reference_rmse is None:
        judged["note"] = f"reference {reference_variant} was not measured with the same settings"
        return judged
    reference_mean, reference_sd = _mean_sd(reference_rmse)
    judged.update(reference_mean=reference_mean, reference_sd=reference_sd)
    if len(reference_rmse) != len(test_rmse) or not test_rmse:
        judged["note"] = "different seed counts: not comparable"
        return judged
    pairs = list(zip(test_rmse, reference_rmse, strict=True))
    diverged_differently = any(math.isfinite(a) != math.isfinite(b) for a, b in pairs)
    finite = [(a, b) for a, b in pairs if math.isfinite(a) and math.isfinite(b)]
    judged["identical_to_reference"] = not diverged_differently and all(a == b for a, b in finite)
    judged["max_abs_diff_to_reference"] = max((abs(a - b) for a, b in finite), default=math.nan)
    if diverged_differently or not finite:
        judged["within_spread"] = False
        judged["note"] = "a run diverged where the reference did not (or the reverse)"
    elif judged["identical_to_reference"]:
        judged["within_spread"] = True
    elif math.isfinite(reference_sd):
        judged["within_spread"] = abs(mean - reference_mean) <= 2 * reference_sd
    else:
        judged["note"] = "one reference seed: no spread to judge a different result against"
    return judged
