"""`rnn-parity bench --compare`: two speed studies side by side, ratio by ratio.

A change of machine, of a framework's version or of this project's code moves the ratios; so
does the machine's load from one hour to the next. Whether a ratio moved beyond what each
study's interval allows is read here from two report.json files (their `speed.ratios`): the
old and the new interval per ratio, whether they overlap, and whether the new ratio lies in
the old interval. Files only, no framework.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from compare.report.speed.records import ci_bounds, fmt_bound, number
from shared.errors import RnnParityError

Pair = tuple[str, str]


def read_ratios(path: Path) -> dict[Pair, dict[str, Any]]:
    """A report.json's speed ratios by (variant, reference).

    Raises:
        RnnParityError: the file is missing, not JSON, or holds no speed ratios.
    """
    try:
        report = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise RnnParityError(f"{path}: no such report.json") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RnnParityError(f"{path}: not a readable JSON report ({error})") from None
    ratios = (report.get("speed") or {}).get("ratios") if isinstance(report, dict) else None
    if not ratios:
        raise RnnParityError(f"{path}: holds no speed ratios (was a speed study run?)")
    return {(entry["variant"], entry["reference"]): entry for entry in ratios}


def compare_pair(old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, Any]:
    """One ratio in both studies: do the intervals overlap, is the new ratio in the old interval.

    Returns:
        {"overlap", "new_inside_old"}: True, False or None (a side lacks an interval).
    """
    old_bounds, new_bounds = ci_bounds(old), ci_bounds(new)
    value = number(new, "ratio")
    if old_bounds is None or new_bounds is None:
        return {"overlap": None, "new_inside_old": None}
    overlap = old_bounds[0] <= new_bounds[1] and new_bounds[0] <= old_bounds[1]
    inside = value is not None and old_bounds[0] <= value <= old_bounds[1]
    return {"overlap": overlap, "new_inside_old": inside}


def _cell(entry: dict[str, Any] | None) -> str:
    """E.g. "0.25 (0.24 to 0.27, 4 r)", "0.25 (1 r, no interval)", "-" when absent."""
    if entry is None:
        return "-"
    value, bounds = number(entry, "ratio"), ci_bounds(entry)
    text = "n/a" if value is None else f"{value:.2f}"
    rounds = entry.get("rounds", "?")
    if bounds is None:
        return f"{text} ({rounds} r, no interval)"
    return f"{text} ({fmt_bound(bounds[0])} to {fmt_bound(bounds[1])}, {rounds} r)"


def _word(value: bool | None) -> str:
    return {True: "yes", False: "NO", None: "n/a"}[value]


def _methods(ratios: dict[Pair, dict[str, Any]]) -> str:
    unknown = "not recorded (a percentile bootstrap)"
    return "; ".join(sorted({str(e.get("method") or unknown) for e in ratios.values()}))


def compare_text(old: dict[Pair, dict[str, Any]], new: dict[Pair, dict[str, Any]]) -> str:
    """The comparison as aligned lines: a row per ratio, then the counts and both methods."""
    pairs = [*old, *(pair for pair in new if pair not in old)]
    width = max(len(f"{a} ÷ {b}") for a, b in pairs) + 2
    lines = [f"{'ratio':<{width}}{'old':<30}{'new':<30}overlap  new inside old"]
    both = overlapping = inside = 0
    for pair in pairs:
        verdict = compare_pair(old.get(pair), new.get(pair))
        lines.append(
            f"{pair[0] + ' ÷ ' + pair[1]:<{width}}{_cell(old.get(pair)):<30}"
            f"{_cell(new.get(pair)):<30}{_word(verdict['overlap']):<9}"
            f"{_word(verdict['new_inside_old'])}"
        )
        if verdict["overlap"] is not None:
            both += 1
            overlapping += verdict["overlap"]
            inside += verdict["new_inside_old"]
    lines.append(
        f"{both} ratio(s) with an interval in both: {overlapping} overlap, "
        f"{inside} new ratio(s) inside the old interval."
    )
    lines.append(f"old intervals: {_methods(old)}; new: {_methods(new)}")
    return "\n".join(lines)


def compare_reports(old_path: Path, new_path: Path) -> str:
    """`compare_text` of two report.json files (see `read_ratios` for what they must hold)."""
    return compare_text(read_ratios(old_path), read_ratios(new_path))
