"""`rnn-parity check`: does Keras compute what torch and the numpy reference compute?

Give a model file (.keras, .ckpt, .pt or canonical .npz), a spec of any model of the grammar as
JSON (`--spec model.json`, the form `ModelSpec.to_json` writes: fronts, head layers, readouts),
or describe a plain stack with flags, e.g. `--kind lstm --units 8 --layers 2 --bidirectional
--dtype float64`. Spec- and flag-built models get random, non-constant weights (every gate, bias
and normalisation parameter distinct) so a swapped gate cannot hide. The command
prints the max abs and relative differences of the outputs and of every layer's hidden states,
and exits 1 when any difference passes its tolerance. A model file's own model leads: Keras
loads the file itself and its outputs are held to the reference (`compare.port.file_check`).
A file holding a model graph (or a Keras model only the graph describes) is checked as a
graph (`compare.port.graph_check`): its own model, then Keras and torch, output by output.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from shared.errors import ModelFileError, RnnParityError, SpecError
from shared.recurrent_spec import GATES, RecurrentLayerSpec
from shared.spec import DenseSpec, ModelSpec


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", nargs="?", help="model file; omit to build one from the flags")
    parser.add_argument(
        "--spec",
        metavar="FILE.json",
        help="a model spec as JSON (any model of the grammar); random weights",
    )
    parser.add_argument("--kind", choices=tuple(GATES), default="simple")
    parser.add_argument("--units", type=int, default=3)
    parser.add_argument("--layers", type=int, default=1, help="stacked recurrent layers")
    parser.add_argument("--bidirectional", action="store_true")
    parser.add_argument("--activation", default="tanh", help="simple layers' activation")
    parser.add_argument(
        "--reset-after",
        choices=("true", "false"),
        default="true",
        help="GRU variant (Keras 3's default is true)",
    )
    parser.add_argument("--time-steps", type=int, default=12)
    parser.add_argument("--features", type=int, default=1)
    parser.add_argument("--head-units", type=int, default=1)
    parser.add_argument("--head-activation", default="linear")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    parser.add_argument("--seed", type=int, default=0, help="seed of weights and inputs")
    parser.add_argument("--inputs", choices=("random", "sunspots"), default="random")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument(
        "--atol",
        type=float,
        default=None,
        help="an absolute max abs difference (default 1e-6 float32, 1e-12 float64, scaled by each "
        "quantity's size above 1)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the table as JSON")


def spec_from_flags(args: argparse.Namespace) -> ModelSpec:
    """The ModelSpec the flags describe (every layer but the last returns sequences)."""
    layers = tuple(
        RecurrentLayerSpec(
            args.kind,
            args.units,
            activation=args.activation if args.kind == "simple" else "tanh",
            return_sequences=index < args.layers - 1,
            bidirectional=args.bidirectional,
            reset_after=args.reset_after == "true",
        )
        for index in range(args.layers)
    )
    return ModelSpec(
        args.time_steps,
        args.features,
        layers,
        DenseSpec(args.head_units, args.head_activation),
        args.dtype,
    )


def spec_from_file(path: str) -> ModelSpec:
    """The ModelSpec in a JSON file.

    Raises:
        SpecError: naming the file and what is wrong with it (missing, not JSON, bad spec).
    """
    file = Path(path)
    if not file.is_file():
        raise SpecError(f"{path}: no such spec file")
    try:
        return ModelSpec.from_json(file.read_text())
    except (SpecError, UnicodeDecodeError) as error:
        raise SpecError(f"{path}: {error}") from None


def reads_as_graph(path: str) -> bool:
    """Whether `path` holds a model graph, or a Keras model only the graph describes."""
    from compare.port.files import load_weights
    from compare.port.graph_files import holds_graph
    from compare.port.user_files import file_format

    if holds_graph(path):
        return True
    if file_format(path) != "keras":
        return False
    try:
        load_weights(path)
    except ModelFileError:
        return True
    return False


def run_graph_check(args: argparse.Namespace) -> int:
    """Check a model graph's file: its own model, then Keras and torch, against the reference."""
    from compare.port.agreement import format_rows
    from compare.port.graph_check import measure_graph_file

    rows, where, described = measure_graph_file(args.model, args.seed, args.atol)
    print(f"model: {args.model}: a model graph\n{described}")
    print(format_rows(rows))
    if args.json:
        data = [dataclasses.asdict(row) | {"ok": row.ok} for row in rows]
        Path(args.json).write_text(json.dumps({"model": args.model, "rows": data}, indent=2))
    if where:
        print(where)
    failed = [row for row in rows if not row.ok]
    print(f"{'all agree' if not failed else f'{len(failed)} difference(s) past tolerance'}")
    return 0 if not failed else 1


def run(args: argparse.Namespace) -> int:
    from compare.port.agreement import measure, random_inputs, sunspot_inputs
    from compare.port.file_check import measure_file
    from compare.port.files import load_weights
    from shared.tolerances import TOLERANCES
    from shared.weights import random_weights

    if args.model and args.spec:
        raise RnnParityError("give a model file or --spec FILE.json, not both")
    if args.model:
        if reads_as_graph(args.model):
            return run_graph_check(args)
        weights = load_weights(args.model)
        source = args.model
    elif args.spec:
        weights = random_weights(spec_from_file(args.spec), seed=args.seed)
        source = f"random weights for {args.spec}"
    else:
        weights = random_weights(spec_from_flags(args), seed=args.seed)
        source = "random weights from flags"
    spec = weights.spec
    if args.inputs == "sunspots":
        inputs = sunspot_inputs(spec, args.batch)
    else:
        inputs = random_inputs(spec, args.batch, args.seed)
    label = f"{args.inputs} ({inputs.shape[0]} sequences)"
    where = None
    if args.model:
        report, where = measure_file(args.model, weights, inputs, label, args.atol)
    else:
        report = measure(weights, inputs, label, args.atol)
    print(f"model: {source}: {spec.describe()}; inputs: {report.inputs}")
    print(report.format_table())
    if args.json:
        Path(args.json).write_text(json.dumps(report.to_dict(), indent=2))
    if where:
        print(where)
    failed = [row for row in report.rows if not row.ok]
    bound = (
        f"{args.atol:.0e} absolute"
        if args.atol is not None
        else f"{TOLERANCES[spec.dtype]:.0e} x max(1, max |values|) per quantity"
    )
    print(
        f"{'all agree' if not failed else f'{len(failed)} difference(s) past tolerance'} "
        f"(tolerance {bound})"
    )
    return 0 if not failed else 1
