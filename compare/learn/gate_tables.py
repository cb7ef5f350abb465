"""Which slice of which framework array is which gate: the mapping table a porter needs.

Keras keeps a recurrent layer's gates side by side in the columns of `kernel` (inputs,
gates*units) and `recurrent_kernel` (units, gates*units), in its own order (LSTM i, f, c, o;
GRU z, r, h), with one `bias`, or for GRU(reset_after=True) a `bias` (2, 3*units) whose row 0
is the input side and row 1 the recurrent side. torch stacks the gates along the rows of
`weight_ih_l0` (gates*units, inputs) and `weight_hh_l0` (gates*units, units), in its order
(LSTM i, f, g, o; GRU r, z, n), with two biases `bias_ih_l0` and `bias_hh_l0`. The canonical
format names every gate (shared/weights.py). This module writes that correspondence as a table
of rows, one per canonical array, and checks a table against the frameworks' own arrays
(`check_mapping`), so a swapped slice is an error and not a silently wrong port.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shared.weights import CanonicalWeights

# Each framework's gates, in the order its arrays stack them, under its own names.
KERAS_GATES = {"simple": ("h",), "lstm": ("i", "f", "c", "o"), "gru": ("z", "r", "h")}
TORCH_GATES = {"simple": ("h",), "lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n")}
# A framework's gate name -> the canonical one (the rest keep their names).
RENAMED = {("keras", "lstm", "c"): "g", ("keras", "gru", "h"): "n"}
CANONICAL_GATES = {"simple": ("h",), "lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n")}
PARAMS = ("W", "U", "b", "c")


@dataclass(frozen=True)
class Source:
    """One gate's slice of a framework array: `array[row, start:stop]` along the gates axis.

    Keras stacks gates along the last axis (kernel columns, bias entries); torch along the
    first (weight rows, bias entries), and its (gates*units, n) matrices are read transposed.
    """

    framework: str  # "keras" | "torch"
    array: str  # the array's own name: "kernel", "bias", "weight_ih_l0", ...
    start: int
    stop: int
    row: int | None = None  # Keras GRU bias (2, 3*units): 0 input side, 1 recurrent side
    transposed: bool = False
    gate: str = ""  # the framework's own name for this gate

    def take(self, array: np.ndarray) -> np.ndarray:
        """This slice of `array`, in the canonical row-vector layout."""
        if self.framework == "torch":
            part = array[self.start : self.stop]  # (units, n) or (units,)
            return part.T if self.transposed else part
        if self.row is not None:
            return array[self.row, self.start : self.stop]
        return array[..., self.start : self.stop]

    def text(self, units: int | None = None) -> str:
        """ "kernel[:, 2:4]", "bias[1, 2:4]", "weight_ih_l0[0:2].T"; symbolic (0:H) when
        `units` is None."""
        span = _span(self.start, self.stop, units)
        if self.framework == "torch":
            return f"{self.array}[{span}]" + (".T" if self.transposed else "")
        if self.row is not None:
            return f"{self.array}[{self.row}, {span}]"
        return f"{self.array}[{span}]" if self.array == "bias" else f"{self.array}[:, {span}]"


@dataclass(frozen=True)
class MappingRow:
    """One canonical array and where each framework keeps it (None: Keras has no such array)."""

    param: str  # "W", "U", "b", "c"
    gate: str  # the canonical gate
    keras: Source | None
    torch: Source

    @property
    def canonical(self) -> str:
        return f"{self.param}[{self.gate}]"


def _span(start: int, stop: int, units: int | None) -> str:
    if units is not None:
        return f"{start}:{stop}"
    # the table was built for units=1, so start/stop count gates: show multiples of H
    names = {0: "0", 1: "H"}
    return f"{names.get(start, f'{start}H')}:{names.get(stop, f'{stop}H')}"


def _keras_source(param: str, block: tuple[int, int], kind: str, reset_after: bool, gate: str):
    start, stop = block
    if param in ("W", "U"):
        name = "kernel" if param == "W" else "recurrent_kernel"
        return Source("keras", name, start, stop, gate=gate)
    if kind == "gru" and reset_after:  # bias (2, 3*units): [input side; recurrent side]
        return Source("keras", "bias", start, stop, row=0 if param == "b" else 1, gate=gate)
    if param == "c":
        return None  # one bias: Keras keeps b + c in `bias`, a copy to torch puts c = 0
    return Source("keras", "bias", start, stop, gate=gate)


def _torch_source(param: str, block: tuple[int, int], gate: str) -> Source:
    name = {"W": "weight_ih_l0", "U": "weight_hh_l0", "b": "bias_ih_l0", "c": "bias_hh_l0"}[param]
    return Source("torch", name, *block, transposed=param in ("W", "U"), gate=gate)


def mapping(kind: str, units: int | None = None, reset_after: bool = True) -> list[MappingRow]:
    """The table for one layer kind: W, U, b, c of every canonical gate, in canonical order.

    Args:
        kind: "simple", "lstm" or "gru".
        units: the layer's units, for concrete slices; None gives symbolic ones (0:H, H:2H).
        reset_after: GRU only: Keras's bias is (2, 3*units) when True, (3*units,) when False.
    """
    size = 1 if units is None else units

    def block(framework: str, gate: str) -> tuple[int, int]:
        order = KERAS_GATES[kind] if framework == "keras" else TORCH_GATES[kind]
        own = [RENAMED.get((framework, kind, name), name) for name in order]
        index = own.index(gate)
        return index * size, (index + 1) * size

    def own_name(framework: str, gate: str) -> str:
        order = KERAS_GATES[kind] if framework == "keras" else TORCH_GATES[kind]
        return next(name for name in order if RENAMED.get((framework, kind, name), name) == gate)

    return [
        MappingRow(
            param,
            gate,
            _keras_source(param, block("keras", gate), kind, reset_after, own_name("keras", gate)),
            _torch_source(param, block("torch", gate), own_name("torch", gate)),
        )
        for param in PARAMS
        for gate in CANONICAL_GATES[kind]
    ]


def _native(arrays: dict[str, np.ndarray], framework: str, name: str) -> np.ndarray:
    """The recurrent layer's array `name` among a framework's arrays keyed by full path."""
    suffix = f"_cell/{name}" if framework == "keras" else f".{name}"
    found = [array for key, array in arrays.items() if key.endswith(suffix)]
    if len(found) != 1:
        raise KeyError(f"{framework}: expected one array named like *{suffix}, found {len(found)}")
    return found[0]


def check_mapping(
    rows: list[MappingRow],
    keras_native: dict[str, np.ndarray],
    torch_native: dict[str, np.ndarray],
    weights: CanonicalWeights,
) -> list[str]:
    """Every row whose slice does not hold its canonical array, one line each (empty: all do).

    Ports copy values without arithmetic (transposes and slices only), so equality is exact.
    Use random weights: with a constant or zero initialiser a swapped slice holds the same values.
    """
    layer = weights.layers[0]["forward"]
    units = weights.spec.layers[0].units
    problems = []
    for row in rows:
        expected = layer.param(row.param)[row.gate]
        if row.keras is None:
            if np.any(expected != 0):
                problems.append(f"{row.canonical}: Keras has no array for it, yet it is not 0")
        else:
            held = row.keras.take(_native(keras_native, "keras", row.keras.array))
            if held.shape != expected.shape or not np.array_equal(held, expected):
                problems.append(f"{row.canonical}: Keras {row.keras.text(units)} does not hold it")
        held = row.torch.take(_native(torch_native, "torch", row.torch.array))
        if held.shape != expected.shape or not np.array_equal(held, expected):
            problems.append(f"{row.canonical}: torch {row.torch.text(units)} does not hold it")
    return problems


def table_lines(rows: list[MappingRow], units: int) -> list[str]:
    """The table as fixed-width terminal lines (concrete slices for `units`)."""
    lines = [f"  {'canonical':<10} {'Keras (its gate)':<32} torch (its gate)"]
    for row in rows:
        keras = f"{row.keras.text(units)} ({row.keras.gate})" if row.keras else "(none: c = 0)"
        torch = f"{row.torch.text(units)} ({row.torch.gate})"
        lines.append(f"  {row.canonical:<10} {keras:<32} {torch}")
    return lines


def table_markdown(kind: str, reset_after: bool = True) -> list[str]:
    """The table as Markdown with symbolic slices (H = units), for the side-by-side page."""
    lines = [
        "| canonical | Keras array and slice (its gate) | torch array and slice (its gate) |",
        "|---|---|---|",
    ]
    for row in mapping(kind, None, reset_after):
        keras = f"`{row.keras.text()}` ({row.keras.gate})" if row.keras else "none (c = 0)"
        lines.append(f"| `{row.canonical}` | {keras} | `{row.torch.text()}` ({row.torch.gate}) |")
    return lines


def array_lines(name: str, array: np.ndarray) -> list[str]:
    """One terminal line for a named array: name, shape, values."""
    values = np.array2string(
        np.asarray(array), precision=6, suppress_small=False, separator=", "
    ).replace("\n", "")
    return [f"  {name:<34} {str(array.shape):<8} {values}"]
