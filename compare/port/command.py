"""`rnn-parity port SRC DST`: port one model file to another format, verified before it lands.

The direction comes from the two extensions; the work is `compare.port.files.port_file`, which
prints what it mapped and the agreement it measured.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", help="model file: .keras, .ckpt, .pt or .npz")
    parser.add_argument("destination", help="file to write; its extension picks the format")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random check inputs")


def run(args: argparse.Namespace) -> int:
    from compare.port.files import port_file

    print(port_file(args.source, args.destination, seed=args.seed).summary())
    return 0
