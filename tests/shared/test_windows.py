"""shared.windows: the tutorial's get_XY reproduced exactly, sliding windows, and their errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from shared.data import get_train_test, load_sunspots
from shared.errors import DataError
from shared.windows import get_XY, sliding_windows


def tutorial_get_XY(dat, time_steps):  # noqa: N802 - the tutorial's name
    """The tutorial's get_XY, verbatim."""
    Y_ind = np.arange(time_steps, len(dat), time_steps)
    Y = dat[Y_ind]
    rows_x = len(Y)
    X = dat[range(time_steps * rows_x)]
    X = np.reshape(X, (rows_x, time_steps, 1))
    return X, Y


@pytest.fixture(scope="module")
def tutorial_parts() -> tuple[np.ndarray, np.ndarray]:
    train, test, _ = get_train_test(load_sunspots())
    return train, test


# 1 to 60 finite float32 values, repeats allowed
series_strategy = arrays(
    np.float32, st.integers(1, 60), elements=st.floats(-1e6, 1e6, width=32, allow_nan=False)
)


def test_tutorial_shapes(tutorial_parts):
    train, test = tutorial_parts
    X_train, Y_train = get_XY(train, 12)
    X_test, Y_test = get_XY(test, 12)
    assert (X_train.shape, Y_train.shape) == ((187, 12, 1), (187, 1))
    assert (X_test.shape, Y_test.shape) == ((46, 12, 1), (46, 1))
    assert X_train.dtype == Y_train.dtype == np.float32


def test_equals_the_tutorial_get_xy_byte_for_byte(tutorial_parts):
    for part in tutorial_parts:
        X, Y = get_XY(part, 12)
        tutorial_X, tutorial_Y = tutorial_get_XY(part, 12)
        assert X.shape == tutorial_X.shape and X.dtype == tutorial_X.dtype
        assert X.tobytes() == tutorial_X.tobytes()
        assert Y.tobytes() == tutorial_Y.tobytes()  # same values; ours is (samples, 1)
        assert Y.shape == (len(tutorial_Y), 1)


@given(series_strategy, st.integers(1, 15))
def test_get_xy_matches_tutorial_for_any_series(values, time_steps):
    if len(values) < time_steps + 1:
        with pytest.raises(DataError, match="too short"):
            get_XY(values, time_steps)
        return
    X, Y = get_XY(values, time_steps)
    tutorial_X, tutorial_Y = tutorial_get_XY(values, time_steps)
    assert X.tobytes() == tutorial_X.tobytes() and X.shape == tutorial_X.shape
    assert Y.tobytes() == tutorial_Y.tobytes() and Y.shape == (len(tutorial_Y), 1)


def check_windows(
    values: np.ndarray, X: np.ndarray, Y: np.ndarray, time_steps: int, stride: int
) -> None:
    """Every window is the right slice, its target the next value, and no window is missing."""
    n = len(values)
    samples = (n - 1 - time_steps) // stride + 1  # the most windows that keep their target
    assert X.shape == (samples, time_steps, 1)
    assert Y.shape == (samples, 1)
    assert X.dtype == Y.dtype == values.dtype
    for i in range(samples):
        start = i * stride
        assert start + time_steps < n  # the target's index is inside the series
        assert np.array_equal(X[i, :, 0], values[start : start + time_steps])
        assert Y[i, 0] == values[start + time_steps]
    # maximal: one more window would need a target past the end
    assert samples * stride + time_steps >= n


@given(st.integers(1, 80), st.integers(1, 15), st.integers(1, 20))
def test_sliding_windows_properties(n, time_steps, stride):
    values = np.arange(n, dtype=np.float64) * 1.5  # distinct values expose any off-by-one
    if n < time_steps + 1:
        with pytest.raises(DataError, match="too short"):
            sliding_windows(values, time_steps, stride)
        return
    X, Y = sliding_windows(values, time_steps, stride)
    check_windows(values, X, Y, time_steps, stride)


@given(st.integers(1, 80), st.integers(1, 15))
def test_get_xy_properties(n, time_steps):
    values = np.arange(n, dtype=np.float32) + 0.25
    if n < time_steps + 1:
        with pytest.raises(DataError, match="too short"):
            get_XY(values, time_steps)
        return
    X, Y = get_XY(values, time_steps)
    check_windows(values, X, Y, time_steps, stride=time_steps)
    assert len(Y) == (n - 1) // time_steps


@given(series_strategy, st.integers(1, 15))
def test_get_xy_is_sliding_windows_with_stride_time_steps(values, time_steps):
    if len(values) < time_steps + 1:
        return
    X, Y = get_XY(values, time_steps)
    X_s, Y_s = sliding_windows(values, time_steps, stride=time_steps)
    assert X.tobytes() == X_s.tobytes() and Y.tobytes() == Y_s.tobytes()


def test_sliding_windows_on_sunspots(tutorial_parts):
    train, _ = tutorial_parts
    X, Y = sliding_windows(train, 12)
    assert X.shape == (2244, 12, 1) and Y.shape == (2244, 1)
    assert X[1, 0, 0] == train[1] and Y[-1, 0] == train[-1]


def test_series_and_lists_are_accepted():
    import pandas as pd

    X, Y = get_XY(pd.Series([1.0, 2.0, 3.0]), 2)
    assert X.tolist() == [[[1.0], [2.0]]] and Y.tolist() == [[3.0]]
    X, Y = sliding_windows([1, 2, 3, 4], 2)
    assert Y.ravel().tolist() == [3, 4]


@pytest.mark.parametrize("function", [get_XY, sliding_windows])
@pytest.mark.parametrize(
    ("series", "time_steps", "message"),
    [
        (np.arange(10.0), 0, "time_steps must be an integer >= 1, got 0"),
        (np.arange(10.0), -3, "time_steps must be an integer >= 1"),
        (np.arange(10.0), 2.0, r"time_steps must be an integer >= 1, got 2.0"),
        (np.arange(10.0), True, "time_steps must be an integer"),
        (np.arange(10.0), "12", "time_steps must be an integer"),
        (np.ones((5, 1)), 2, r"1-D, got shape \(5, 1\)"),
        (np.array(["a", "b", "c"]), 1, "numbers"),
        (np.array([1.0, np.nan, 3.0, 4.0]), 1, "NaN or infinite.*position 1"),
        (np.array([1.0, 2.0, -np.inf, 4.0]), 1, "NaN or infinite.*position 2"),
        (np.arange(12.0), 12, "12 value.*too short.*time_steps=12.*at least 13"),
        (np.array([]), 1, "0 value.*at least 2"),
    ],
)
def test_bad_inputs(function, series, time_steps, message):
    with pytest.raises(DataError, match=message):
        function(series, time_steps)


@pytest.mark.parametrize("stride", [0, -1, 1.5, True, None])
def test_bad_stride(stride):
    with pytest.raises(DataError, match="stride must be an integer >= 1"):
        sliding_windows(np.arange(10.0), 3, stride)


def test_make_windows_picks_the_tutorial_or_sliding_windows():
    from shared.windows import make_windows

    series = np.arange(40, dtype=np.float64)
    for got, expected in (
        (make_windows(series, 5), get_XY(series, 5)),
        (make_windows(series, 5, 2), sliding_windows(series, 5, 2)),
    ):
        np.testing.assert_array_equal(got[0], expected[0])
        np.testing.assert_array_equal(got[1], expected[1])
