"""Cutting a series into (window, next value) samples once, so both frameworks get the same X, Y.

`get_XY` is the tutorial's windowing (non-overlapping windows, one every `time_steps` values);
`sliding_windows` generalises it to any stride (stride 1: every possible window). Both return
X shaped (samples, time_steps, 1) and Y shaped (samples, 1), keep the input's dtype, and raise
`DataError` for a request they cannot honour.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from shared.data import finite_values
from shared.errors import DataError


def get_XY(  # noqa: N802 - the tutorial's name
    series: pd.Series | np.ndarray, time_steps: int
) -> tuple[np.ndarray, np.ndarray]:
    """The tutorial's `get_XY`: non-overlapping windows, each followed by its target.

    Window i is `series[i*time_steps : (i+1)*time_steps]` and its target is
    `series[(i+1)*time_steps]`, for as many windows as fit (`(len - 1) // time_steps`); values
    after the last target are unused. This equals `sliding_windows(series, time_steps,
    stride=time_steps)`.

    Unlike the tutorial, whose Y is 1-D (samples,), Y here is (samples, 1): the same values,
    in the shape both frameworks' outputs have. (Keras broadcasts either shape; torch's
    MSELoss silently broadcasts (B, 1) against (B,) to (B, B) and trains on the wrong loss.)
    X is byte for byte the tutorial's X.

    Args:
        series: 1-D Series or array of finite numbers.
        time_steps: window length, an integer >= 1.

    Returns:
        X (samples, time_steps, 1) and Y (samples, 1), in the series' dtype.

    Raises:
        DataError: bad time_steps, a series that is not 1-D, numeric and finite, or one too
            short for a single window.
    """
    values = finite_values(series)  # (n,)
    _check_positive_int(time_steps, "time_steps")
    _check_long_enough(values, time_steps)
    Y_ind = np.arange(time_steps, len(values), time_steps)  # (samples,) target positions
    Y = values[Y_ind]  # (samples,)
    rows_x = len(Y)
    X = values[range(time_steps * rows_x)]  # (samples * time_steps,)
    X = np.reshape(X, (rows_x, time_steps, 1))  # (samples, time_steps, 1)
    return X, Y.reshape(rows_x, 1)


def sliding_windows(
    series: pd.Series | np.ndarray, time_steps: int, stride: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Windows starting at 0, stride, 2*stride, ..., each followed by its target.

    Window i is `series[i*stride : i*stride + time_steps]` and its target the value right after
    it, `series[i*stride + time_steps]`; there are as many windows as fit with their target
    (`(len - 1 - time_steps) // stride + 1`). Stride 1 overlaps windows fully; stride
    `time_steps` gives the tutorial's `get_XY`.

    Args:
        series: 1-D Series or array of finite numbers.
        time_steps: window length, an integer >= 1.
        stride: distance between window starts, an integer >= 1.

    Returns:
        X (samples, time_steps, 1) and Y (samples, 1), in the series' dtype (fresh arrays).

    Raises:
        DataError: bad time_steps or stride, a series that is not 1-D, numeric and finite, or
            one too short for a single window.
    """
    values = finite_values(series)  # (n,)
    _check_positive_int(time_steps, "time_steps")
    _check_positive_int(stride, "stride")
    _check_long_enough(values, time_steps)
    starts = np.arange(0, len(values) - time_steps, stride)  # (samples,), start + time_steps < n
    X = values[starts[:, None] + np.arange(time_steps)]  # (samples, time_steps)
    Y = values[starts + time_steps]  # (samples,)
    return X[:, :, None], Y[:, None]


def _check_positive_int(value: Any, name: str) -> None:
    """Raise DataError unless value is an integer (not a bool) >= 1."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise DataError(f"{name} must be an integer >= 1, got {value!r}")


def _check_long_enough(values: np.ndarray, time_steps: int) -> None:
    """Raise DataError unless the series holds one window of time_steps values plus its target."""
    if len(values) < time_steps + 1:
        raise DataError(
            f"series of {len(values)} value(s) is too short for one window of "
            f"time_steps={time_steps}: it needs at least {time_steps + 1} "
            f"({time_steps} inputs and 1 target)"
        )


def make_windows(
    series: pd.Series | np.ndarray, time_steps: int, stride: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The tutorial's non-overlapping `get_XY` when stride is None, else `sliding_windows`.

    The one place that turns a "stride or none" choice (a preset, a command-line flag) into
    windows, so every caller means the same thing by it.
    """
    if stride is None:
        return get_XY(series, time_steps)
    return sliding_windows(series, time_steps, stride)
