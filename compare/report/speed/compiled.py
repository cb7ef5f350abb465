"""The speed section's compile table: what torch.compile costs up front, apart from its steps.

A compiled variant's per-step time is its steady state (the first, compiling step falls in a
discarded warm-up epoch), so the report states the compile time beside it, with the graphs
Dynamo compiled and the graph breaks it met, and how many steps the compile takes to pay back
against the plain loop. Records made before these variants existed have no such fields: the
section is then left out. A variant that could not run (no C++ compiler) shows why.
"""

from __future__ import annotations

from typing import Any

from compare.report.speed.records import fmt, fmt_seconds, number, round_step

# The eager loop a compiled variant saves time against.
PLAIN = "torch_plain"


def _compiled_names(speed: dict[str, Any]) -> list[str]:
    """Variants whose records carry a compile time or an 'unavailable' reason, in study order."""
    rounds = speed.get("rounds") or {}
    variants = rounds.get("variants") or {}
    runs = {r.get("variant"): r for r in speed.get("runs") or []}
    names = list(dict.fromkeys([*(rounds.get("variant_order") or []), *variants, *runs]))
    return [
        name
        for name in names
        if number(variants.get(name), "compile_s") is not None
        or number(runs.get(name), "compile_s") is not None
        or (runs.get(name) or {}).get("unavailable")
    ]


def payback_steps(compile_s: float | None, step: float | None, plain: float | None) -> str:
    """Steps until the compile is paid back by faster steps than the plain loop's, in words."""
    if compile_s is None or step is None or plain is None:
        return "n/a"
    if step >= plain:
        return "never (not faster per step)"
    return f"{compile_s / (plain - step):,.0f}"


def compiled_section(speed: dict[str, Any]) -> list[str]:
    """Markdown lines of the compile table; [] when no record has a compiled variant."""
    names = _compiled_names(speed)
    if not names:
        return []
    rounds = speed.get("rounds")
    variants = (rounds or {}).get("variants") or {}
    runs = {r.get("variant"): r for r in speed.get("runs") or []}
    lines = [
        "### Compiled training steps: compile time apart",
        "",
        "Compile: the first training step's wall time (Dynamo's tracing, inductor's code "
        "generation and C++ compile, one run), from an empty inductor cache in every process, "
        "as a first run pays it; the median over the rounds' processes. Per-step: the steady "
        "state after it, as in the table above. Graphs and graph breaks: counted by Dynamo "
        "during the tutorial fit (one graph and no break: the whole step is one compiled "
        "call). Pays back after: compile ÷ the per-step time saved against the plain loop "
        "on the same device (the tutorial trains 187 steps per epoch).",
        "",
        "| variant | compile | per-step | graphs | graph breaks | pays back after (steps) |",
        "|---|---|---|---|---|---|",
    ]
    for name in names:
        record = {**runs.get(name, {}), **(variants.get(name) or {})}
        if (runs.get(name) or {}).get("unavailable"):
            lines.append(f"| {name} | not run: {runs[name]['unavailable']} | | | | |")
            continue
        compile_s = number(record, "compile_s")
        step = number(round_step(rounds, name), "median")
        plain_name = PLAIN + ("_cuda" if name.endswith("_cuda") else "")  # same device
        plain = number(round_step(rounds, plain_name), "median")
        lines.append(
            f"| {name} | {fmt_seconds(compile_s)} | {fmt_seconds(step)} | "
            f"{fmt(number(record, 'graphs'), '.0f')} | "
            f"{fmt(number(record, 'graph_breaks'), '.0f')} | "
            f"{payback_steps(compile_s, step, plain)} |"
        )
    return [*lines, ""]
