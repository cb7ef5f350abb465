"""Small value checks every spec dataclass uses, each raising `SpecError` naming the field.

They live apart from `shared.spec` and `shared.grammar` so both can use them without importing
each other: every message starts with `where` (the layer or section at fault).
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from shared.errors import SpecError


def check_int(value: Any, name: str, minimum: int, where: str = "") -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise SpecError(f"{where}{name} must be an integer >= {minimum}, got {value!r}")


def check_bool(value: Any, name: str, where: str = "") -> None:
    if not isinstance(value, bool):
        raise SpecError(f"{where}{name} must be true or false, got {value!r}")


def check_choice(value: Any, name: str, choices: tuple[str, ...], where: str = "") -> None:
    if value not in choices:
        raise SpecError(f"{where}{name} must be one of {', '.join(choices)}; got {value!r}")


def check_number(value: Any, name: str, where: str = "") -> None:
    """A finite real number (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SpecError(f"{where}{name} must be a number, got {value!r}")
    if value != value or value in (float("inf"), float("-inf")):
        raise SpecError(f"{where}{name} must be finite, got {value!r}")


def check_positive_float(value: Any, name: str, allow_zero: bool = False, where: str = "") -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SpecError(f"{where}{name} must be a number, got {value!r}")
    if not (value >= 0 if allow_zero else value > 0) or value != value or value == float("inf"):
        bound = ">= 0" if allow_zero else "> 0"
        raise SpecError(f"{where}{name} must be a finite number {bound}, got {value!r}")


def check_rate(value: Any, name: str, where: str = "") -> None:
    """A dropout rate in [0, 1)."""
    check_positive_float(value, name, allow_zero=True, where=where)
    if value >= 1:
        raise SpecError(f"{where}{name} must be in [0, 1), got {value!r}")


def from_mapping(cls: type, data: Any, where: str, ignore: tuple[str, ...] = ()) -> dict[str, Any]:
    """Check a JSON mapping against a dataclass's fields; return it as keyword arguments.

    Keys in `ignore` (a type tag, say) are allowed and dropped.
    """
    if not isinstance(data, dict):
        raise SpecError(f"{where}expected a JSON object, got {type(data).__name__}")
    known = {f.name for f in fields(cls)}
    kwargs = {key: value for key, value in data.items() if key not in ignore}
    unknown = sorted(set(kwargs) - known)
    if unknown:
        raise SpecError(f"{where}unknown key(s) {unknown}; allowed: {sorted(known)}")
    return kwargs
