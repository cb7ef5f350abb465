"""Keras on JAX in the speed study: its three rows, their planning, and the row where JAX is absent.

JAX is a dependency of the project, so CI runs the end-to-end test. Where it is installed,
the JAX variants run end to end at a tiny size in fresh worker processes (Keras reads its
backend once, at import, so they cannot run in this process); where it is not, the planning
and the "not installed" record are still checked, with the package's absence faked.
"""

from __future__ import annotations

import importlib.util
import math
from concurrent.futures import ThreadPoolExecutor

import pytest

from compare.bench import plan as bench
from compare.bench.process import run_worker
from compare.bench.variants import INSTALL_COMMANDS, RATIOS, VARIANTS, WorkerConfig
from shared.errors import RnnParityError

JAX_VARIANTS = ("keras_jax", "keras_jax_tuned", "keras_jax_scan")
HAS_JAX = importlib.util.find_spec("jax") is not None


def test_jax_rows_are_in_the_full_study_only_and_judged_against_keras_fit(monkeypatch):
    monkeypatch.setattr(bench, "cuda_available", lambda: False)
    full, quick = bench.plan_variants(None), bench.plan_variants(None, quick=True)
    assert set(JAX_VARIANTS) <= set(full) and not set(JAX_VARIANTS) & set(quick)
    assert [VARIANTS[name].reference for name in JAX_VARIANTS] == [
        "keras_fit",
        "keras_fit",
        "keras_jax",  # the same steps bit for bit: judged identical, not merely within spread
    ]
    assert all(VARIANTS[name].backend == "jax" for name in JAX_VARIANTS)
    for pair in [("keras_jax", "keras_fit"), ("keras_jax_tuned", "numpy_train")]:
        assert pair in RATIOS
    assert ("keras_jax_scan", "numpy_train") in RATIOS
    # no GPU twin: the registry's jaxlib is CPU only
    assert not any(f"{name}_cuda" in VARIANTS for name in JAX_VARIANTS)


def test_without_jax_the_rows_are_not_timed_and_say_how_to_add_it(monkeypatch):
    monkeypatch.setattr(bench, "missing_package", lambda variant: variant.needs or None)
    timed: list[list[str]] = []
    monkeypatch.setattr(bench, "rounds_record", lambda names, *a, **k: timed.append(names) or {})
    jobs = dict(bench.bench_jobs(False, 3, variants=["keras_fit", "keras_jax", "keras_jax_tuned"]))
    assert list(jobs) == [
        "bench-rounds",
        "bench-keras_fit",
        "bench-keras_jax",
        "bench-keras_jax_tuned",
    ]
    jobs["bench-rounds"]()
    assert timed == [["keras_fit"]]
    record = jobs["bench-keras_jax"]()  # no worker starts: the record says why
    assert record["kind"] == "bench_run" and record["variant"] == "keras_jax"
    assert record["not_installed"] == "jax"
    assert (
        record["install_command"]
        == INSTALL_COMMANDS["jax"]
        == 'pip install "jax>=0.10" "jaxlib>=0.10"'
    )
    assert "step_time_median_s" not in record and "equal_work" not in record
    with pytest.raises(RnnParityError, match=r"nothing to time: keras_jax need\(s\) jax.*pip"):
        bench.bench_jobs(False, 3, variants=["keras_jax"])


# One timed epoch, one equal-work seed of one epoch, no sweep (its code is every variant's,
# tested in test_bench.py): each worker is then mostly its imports (TensorFlow and JAX, since
# Keras's seeding loads TensorFlow on every backend) and three jit compilations.
TINY = WorkerConfig(threads=1, repeats=1, predict_repeats=1, seeds=1, equal_work_epochs=1, sweep={})


@pytest.mark.slow
@pytest.mark.skipif(not HAS_JAX, reason="jax is not installed (a dependency of the project)")
def test_the_jax_variants_end_to_end_and_their_tuning_changes_nothing_but_speed():
    with ThreadPoolExecutor(len(JAX_VARIANTS)) as pool:  # three processes; imports overlap
        results = pool.map(lambda name: run_worker(name, TINY), JAX_VARIANTS)
        raw = dict(zip(JAX_VARIANTS, results, strict=True))
    for name, result in raw.items():
        record = bench.bench_record(VARIANTS[name], result, TINY, reference=None)
        assert record["keras_backend"] == "jax" and record["jax_platform"] == "cpu", name
        assert record["steps_per_epoch"] == 187 and len(record["step_times_s"]) == TINY.repeats
        for key in ("import_s", "build_s", "step_time_median_s", "predict_one_median_s"):
            assert record[key] > 0 and math.isfinite(record[key]), (name, key)
        assert 0 < record["equal_work"]["test_rmse"][0] < 1, name
    # steps_per_execution on JAX loops the same jitted step over the same batches, and the
    # scan runs that step inside one jitted lax.scan: the same run bit for bit (tolerance 0)
    for name in ("keras_jax_tuned", "keras_jax_scan"):
        assert raw[name]["equal_work"] == {
            **raw["keras_jax"]["equal_work"],
            "train_seconds": raw[name]["equal_work"]["train_seconds"],
        }, name
