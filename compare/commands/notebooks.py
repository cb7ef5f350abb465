"""`rnn-parity notebooks`: write the tutorial pair and the gated walkthrough as Jupyter notebooks.

The door only: the notebooks are built in the learn room (`compare.learn.notebooks`), cut from
the two tutorial programs at their step comments when this command runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from compare.report.explain import add_explain_records_argument


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for the notebooks")
    parser.add_argument(
        "--epochs", type=int, default=20, help="the tutorial notebooks' epochs (argv cell)"
    )
    parser.add_argument("--seed", type=int, default=0, help="the tutorial notebooks' seed")
    add_explain_records_argument(parser)


def run(args: argparse.Namespace) -> int:
    import nbformat

    from compare.learn.notebooks import build_notebooks
    from compare.report.explain import read_explained
    from shared.errors import RnnParityError

    if args.epochs < 1:
        raise RnnParityError(f"--epochs must be at least 1, got {args.epochs}")
    args.out.mkdir(parents=True, exist_ok=True)
    for file, notebook in build_notebooks(
        args.epochs, args.seed, read_explained(args.explain_records)
    ).items():
        nbformat.write(notebook, args.out / file)
        print(f"wrote {args.out / file}")
    return 0
