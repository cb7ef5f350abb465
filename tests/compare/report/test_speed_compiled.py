"""The compiled variants in the speed study: planning, the compile table, old records, --compare.

Hand-written records only (nothing compiles here): compile times and per-step medians are
chosen so that every cell, the pay-back steps included, is known in advance.
"""

from __future__ import annotations

import pytest

from compare.bench import plan, worker
from compare.bench.stats import summarise_rounds
from compare.bench.variants import (
    CPU_VARIANTS,
    DIFFERENCES,
    FULL_ONLY,
    QUICK_VARIANTS,
    RATIOS,
    VARIANTS,
)
from compare.report.speed import render
from compare.report.speed.compiled import compiled_section, payback_steps
from compare.report.speed.records import speed_summary
from compare.report.speed.versus import compare_text

STEPS = {  # seconds per step, per round
    "torch_plain": [1.0e-3, 1.1e-3, 0.9e-3],
    "numpy_train": [1.0e-4, 1.1e-4, 0.9e-4],
    "torch_compiled": [5.0e-4, 5.5e-4, 4.5e-4],  # half of torch_plain every round
    "torch_compiled_tuned": [2.0e-4, 2.2e-4, 1.8e-4],
}
COMPILE = {"torch_compiled": 40.0, "torch_compiled_tuned": 60.0}


def _records(steps: dict[str, list[float]], unavailable: bool = False) -> list[dict]:
    rows = [
        {"round": r, "variant": name, "step_time_median_s": value}
        for name, values in steps.items()
        for r, value in enumerate(values)
    ]
    for row in rows:
        if row["variant"] in COMPILE:
            row.update(compile_s=COMPILE[row["variant"]], graphs=1, graph_breaks=0)
    if unavailable:
        rows.append({"round": 0, "variant": "torch_compiled", "unavailable": "no C++ compiler"})
    record = {
        "kind": "bench_rounds",
        "rounds": 3,
        "variant_order": list(steps) + (["torch_compiled"] if unavailable else []),
        "processes": rows,
        **summarise_rounds(rows, RATIOS, DIFFERENCES),
    }
    for name, summary in record["variants"].items():  # rounds_record's medians over rounds
        if name in COMPILE and name in steps:
            summary.update(compile_s=COMPILE[name], graphs=1, graph_breaks=0)
    runs = [{"kind": "bench_run", "variant": name, "rank": 0} for name in steps]
    if unavailable:
        runs.append({"kind": "bench_run", "variant": "torch_compiled", "unavailable": "no C++"})
    return [record, *runs]


def _row(lines: list[str], name: str) -> list[str]:
    row = next(line for line in lines if line.startswith(f"| {name} |"))
    return [cell.strip() for cell in row.strip("|").split("|")]


def test_compile_time_is_shown_apart_with_its_pay_back():
    lines = compiled_section(speed_summary(_records(STEPS)))
    assert lines[0] == "### Compiled training steps: compile time apart"
    # 40 s saved at 0.5 ms a step: 80,000 steps; 60 s at 0.8 ms: 75,000
    assert _row(lines, "torch_compiled") == ["torch_compiled", "40 s", "500 µs", "1", "0", "80,000"]
    assert _row(lines, "torch_compiled_tuned")[1:3] == ["60 s", "200 µs"]
    assert _row(lines, "torch_compiled_tuned")[-1] == "75,000"
    assert payback_steps(1.0, 2e-3, 1e-3) == "never (not faster per step)"
    assert payback_steps(None, 2e-3, 1e-3) == "n/a"
    text = "\n".join(render.speed_section(speed_summary(_records(STEPS))))
    assert "compile time apart" in text and "| torch_compiled | torch_plain | 0.50×" in text


def test_old_records_without_compiled_variants_render_as_before():
    old = {name: STEPS[name] for name in ("torch_plain", "numpy_train")}
    speed = speed_summary(_records(old))
    assert compiled_section(speed) == []
    assert "compile time apart" not in "\n".join(render.speed_section(speed))


def test_a_variant_that_could_not_compile_says_why():
    steps = {name: STEPS[name] for name in ("torch_plain", "numpy_train")}
    lines = compiled_section(speed_summary(_records(steps, unavailable=True)))
    assert _row(lines, "torch_compiled")[1] == "not run: no C++"
    text = "\n".join(render.speed_section(speed_summary(_records(steps, unavailable=True))))
    assert "torch_compiled" in text  # no ratio for it, nothing raised


def test_compare_works_across_old_and_new_studies():
    old = speed_summary(_records({n: STEPS[n] for n in ("torch_plain", "numpy_train")}))
    new = speed_summary(_records(STEPS))
    pairs = {(e["variant"], e["reference"]): e for e in old["ratios"]}
    new_pairs = {(e["variant"], e["reference"]): e for e in new["ratios"]}
    text = compare_text(pairs, new_pairs)
    assert "torch_compiled ÷ torch_plain" in text and "n/a" in text


def test_compiled_variants_are_full_study_only(monkeypatch):
    monkeypatch.setattr(plan, "cuda_available", lambda: True)
    assert set(FULL_ONLY) <= set(CPU_VARIANTS) and not set(FULL_ONLY) & set(QUICK_VARIANTS)
    quick, full = plan.plan_variants(quick=True), plan.plan_variants()
    assert not {n for n in quick if n.removesuffix("_cuda") in FULL_ONLY}
    assert {"torch_compiled", "torch_compiled_cuda", "torch_compiled_tuned_cuda"} <= set(full)
    assert plan.plan_variants(["torch_compiled"], quick=True) == ["torch_compiled"]
    assert ("torch_compiled_tuned", "numpy_train") in RATIOS
    assert VARIANTS["torch_compiled_cuda"].reference == "torch_plain"


def test_the_worker_says_why_where_no_compiler_is_found(monkeypatch):
    import torch_impl

    monkeypatch.setattr(torch_impl, "cpp_compiler", lambda: None)
    result = worker.measure(VARIANTS["torch_compiled"], worker.WorkerConfig(seeds=0))
    assert "no C++ compiler found" in result["unavailable"]
    assert "step_time_median_s" not in result and result["equal_work"] is None


@pytest.mark.parametrize("name", [n for n in FULL_ONLY if VARIANTS[n].trainer == "compiled"])
def test_compiled_variants_reach_fit_compiled(name):
    runner_class = worker.Runner
    calls = []

    class Impl:
        def fit_compiled(self, *args, **options):
            calls.append(options)

    runner_class(VARIANTS[name], Impl()).fit(None, [0] * 4, None, _spec(), [])
    assert calls[0]["device"] == "cpu" and calls[0]["compile_stats"] == []
    assert {k: v for k, v in calls[0].items() if k in VARIANTS[name].options} == dict(
        VARIANTS[name].options
    )


def _spec():
    from shared.recipe import TrainSpec

    return TrainSpec(epochs=1)


def test_the_tuned_compiled_variants_leave_the_sweep_to_torch_compiled(monkeypatch):
    monkeypatch.setattr(worker, "_sweep", lambda *args: pytest.fail("swept"))
    config = worker.WorkerConfig(seeds=0, part="extras")
    for name in ("torch_compiled_tuned", "torch_compiled_fused"):
        assert worker.measure(VARIANTS[name], config)["sweep"] == {}
    assert VARIANTS["torch_compiled"].sweep and VARIANTS["torch_compiled_cuda"].sweep
