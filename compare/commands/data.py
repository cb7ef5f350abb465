"""`rnn-parity data`: summarise the series both frameworks learn from.

The door only: the summary is built in the learn room (`compare.learn.data_summary`).
"""

from __future__ import annotations

import argparse

from shared.data import SCALINGS


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
    """Print the series' source, split, scaling and windows.

    Raises:
        DataError: any input problem (file, column, split, windows), printed by the CLI.
    """
    from compare.learn.data_summary import describe_data

    lines = describe_data(
        args.csv, args.column, args.split, args.scaling, args.time_steps, args.stride
    )
    print("\n".join(lines))
    return 0
