"""`rnn-parity port SRC DST`: port one model file to another format, verified before it lands.

The direction comes from the two extensions; the work is `compare.port.files.port_file`, which
prints what it mapped and the agreement it measured. A torch file that rnn-parity did not write
(`torch.save(model.state_dict(), "model.pt")`, a checkpoint of your own LightningModule, a
.safetensors file) has its layers inferred from key names and shapes; what the keys cannot say
comes from --activation, --head-activation and --time-steps, and the summary prints every key
mapping and every assumption made.
"""

from __future__ import annotations

import argparse

SOURCES = ".keras, .h5, .ckpt, .pt, .pth, .safetensors or .npz"


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", help=f"model file: {SOURCES}")
    parser.add_argument(
        "destination", help="file to write (.keras, .ckpt, .pt, .pth, .safetensors or .npz)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the random check inputs")
    parser.add_argument(
        "--activation",
        default="tanh",
        help="nn.RNN nonlinearity of a state dict without a spec (default: %(default)s)",
    )
    parser.add_argument(
        "--head-activation",
        default="linear",
        help="activation your forward applies after the nn.Linear head (default: %(default)s)",
    )
    parser.add_argument(
        "--time-steps",
        type=_positive,
        default=12,
        help="window length the ported Keras model takes (default: %(default)s)",
    )


def run(args: argparse.Namespace) -> int:
    from compare.port.files import port_file
    from compare.port.user_files import Assumptions

    assumptions = Assumptions(args.activation, args.head_activation, args.time_steps)
    print(
        port_file(args.source, args.destination, seed=args.seed, assumptions=assumptions).summary()
    )
    return 0
