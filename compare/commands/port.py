"""`rnn-parity port SRC DST`: port one model file to another format, verified before it lands.

The direction comes from the two extensions; the work is `compare.port.files.port_file`, which
prints what it mapped and the agreement it measured. A torch file that rnn-parity did not write
(`torch.save(model.state_dict(), "model.pt")`, a checkpoint of your own LightningModule, a
.safetensors file) has its layers inferred from key names and shapes; what the keys cannot say
comes from --activation, --head-activation and --time-steps, and the summary prints every key
mapping and every assumption made, and says that it was not checked against the user's forward.
With `--module package.module:Class` the user's own class is rebuilt from the file, its forward
traced, and the port checked against it (`compare.port.module_port`). A `.pt2` destination is a
torch.export program that plain torch runs.
"""

from __future__ import annotations

import argparse

SOURCES = ".keras, .h5, .ckpt, .pt, .pth, .safetensors or .npz"
DESTINATIONS = ".keras, .ckpt, .pt, .pth, .safetensors, .npz, or .pt2 (a torch.export program)"


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", help=f"model file: {SOURCES}")
    parser.add_argument("destination", help=f"file to write: {DESTINATIONS}")
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
        "--readout",
        choices=("final", "last_step"),
        help="what your head reads of a bidirectional last module, which a state dict cannot "
        "say: final (h_n of both directions) or last_step (out[:, -1]); without it such a "
        "state dict is refused",
    )
    parser.add_argument(
        "--module",
        metavar="PACKAGE.MODULE:CLASS",
        help="your own nn.Module or LightningModule class: rnn-parity IMPORTS YOUR CODE (the "
        "module you name, from the current folder or your environment), builds the class, loads "
        "the state dict or checkpoint into it (weights_only=True, in the file's dtype; a .ckpt "
        "rebuilds it from its hyper_parameters), traces its forward and checks the port "
        "against that forward before writing",
    )
    parser.add_argument(
        "--module-kwargs",
        metavar="JSON",
        help="keyword arguments of your class, e.g. '{\"hidden_dim\": 16}'",
    )
    parser.add_argument(
        "--time-steps",
        type=_positive,
        default=None,
        help="window length the ported Keras model takes (default 12), and the one length a "
        ".pt2 program of a free-time recurrent graph is exported for",
    )


def run(args: argparse.Namespace) -> int:
    from compare.port.files import port_file
    from compare.port.module_port import parse_kwargs, port_with_module
    from compare.port.user_files import Assumptions

    window = 12 if args.time_steps is None else args.time_steps
    if args.module:
        result = port_with_module(
            args.source,
            args.destination,
            args.module,
            parse_kwargs(args.module_kwargs),
            args.time_steps,
            args.seed,
        )
        print(result.summary())
        return 0
    if args.module_kwargs:
        from shared.errors import ModelFileError

        raise ModelFileError("--module-kwargs needs --module (the class they are for)")

    assumptions = Assumptions(args.activation, args.head_activation, window, args.readout)
    result = port_file(
        args.source, args.destination, args.seed, assumptions, time_steps=args.time_steps
    )
    print(result.summary())
    return 0
