"""The `rnn-parity` command line: one subcommand per job, each a door in `compare.commands`.

Each door (`compare/commands/<subcommand>.py`) exposes `add_arguments(parser)` and
`run(args) -> int` and imports no framework at module level, so `rnn-parity --help` stays
instant. Frameworks load inside `run`.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from compare.jobs.interrupt import EXIT_STATUS, Interrupted
from shared.errors import RnnParityError

# subcommand -> one-line help; each is the door compare/commands/<subcommand>.py
SUBCOMMANDS: dict[str, str] = {
    "report": "run the whole study and write the report (main job)",
    "experiment": "train a grid of units, time steps and layers in both frameworks",
    "explain": "measure each framework default's effect on the Keras-torch gap",
    "bench": "time each framework at its defaults and at its best",
    "data": "summarise the series, its split, scaling and windows",
    "check": "check Keras, torch and the numpy reference agree",
    "port": "port a model file (.keras, .h5, .ckpt, .pt, .safetensors, .npz)",
    "walkthrough": "the tutorial's hand computation across frameworks (--kind simple|lstm|gru)",
    "notebooks": "write the tutorial pair and the gated walkthrough as Jupyter notebooks",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rnn-parity",
        description="The same recurrent network in Keras and PyTorch Lightning, side by side.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, help_text in SUBCOMMANDS.items():
        module = importlib.import_module(f"compare.commands.{name}")
        subparser = subparsers.add_parser(
            name,
            help=help_text,
            description=module.__doc__,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(subparser)
        subparser.set_defaults(_module=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run the chosen subcommand, turn input errors into one clear line.

    Ctrl-C is one line too ("interrupted: K of N records kept; ..." when jobs were running)
    and exit status 130, as a shell reports a command stopped by SIGINT.
    """
    args = build_parser().parse_args(argv)
    try:
        return int(args._module.run(args) or 0)
    except RnnParityError as error:
        print(f"rnn-parity {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as error:
        line = str(error) if isinstance(error, Interrupted) else "interrupted"
        print(f"rnn-parity {args.command}: {line}", file=sys.stderr)
        return EXIT_STATUS


if __name__ == "__main__":
    sys.exit(main())
