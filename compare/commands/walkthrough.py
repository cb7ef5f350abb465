"""`rnn-parity walkthrough`: the tutorial's hand computation across frameworks, per layer kind.

The door only: the content lives in the learn room (`compare.learn.walkthrough` for the
tutorial's SimpleRNN and the engine's side-by-side page, `compare.learn.gates` for LSTM and GRU
gate by gate, `compare.learn.tutorial_page` for the learner's side-by-side page).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from compare.report.explain import add_explain_records_argument
from shared.errors import RnnParityError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--kind",
        choices=("simple", "lstm", "gru"),
        default="simple",
        help="simple: the tutorial's SimpleRNN (default); lstm, gru: a gated layer weight by "
        "weight, every gate by hand",
    )
    parser.add_argument(
        "--reset-before",
        action="store_true",
        help="with --kind gru: Keras's GRU(reset_after=False), which nn.GRU cannot run",
    )
    parser.add_argument("--units", type=int, default=2, help="units of the recurrent layer")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of Keras's initialisers (gated: of the weights)"
    )
    parser.add_argument(
        "--side-by-side",
        metavar="PATH",
        nargs="?",
        const="side_by_side.md",
        help="write the side-by-side Markdown page of the tutorial's Keras and Lightning "
        "programs (default side_by_side.md)",
    )
    parser.add_argument(
        "--engine",
        action="store_true",
        help="with --side-by-side: the page of the project's engine (build_model, fit, ...) "
        "instead, with its parity machinery",
    )
    add_explain_records_argument(parser)


def run(args: argparse.Namespace) -> int:
    if args.engine and not args.side_by_side:
        raise RnnParityError("--engine chooses the --side-by-side page; give --side-by-side too")
    if args.side_by_side:
        from compare.learn.tutorial_page import render_page
        from compare.learn.walkthrough import render_side_by_side
        from compare.report.explain import read_explained

        path = Path(args.side_by_side)
        explained = read_explained(args.explain_records)
        path.write_text(render_side_by_side() if args.engine else render_page(explained=explained))
        print(f"wrote {path}")
        return 0
    if args.reset_before and args.kind != "gru":
        raise RnnParityError(
            f"--reset-before is a GRU variant; --kind {args.kind} has no reset gate"
        )
    if not 1 <= args.units <= 64:
        raise RnnParityError(
            f"--units must be between 1 and 64 (a walkthrough prints every value), got {args.units}"
        )
    if args.kind == "simple":
        from compare.learn.walkthrough import compute, render

        print(render(compute(args.dtype, args.seed, args.units)))
        return 0
    from compare.learn.gates import compute_gated, render_gated

    result = compute_gated(args.kind, not args.reset_before, args.units, args.dtype, args.seed)
    print(render_gated(result))
    return 0
