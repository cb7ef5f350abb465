"""The job runner: describable jobs, the record cache and its key, failures, exclusive order.

These run in this process (workers=1) with toy job functions, so they need no framework; the
pool itself (workers=2, spawned processes) is exercised end to end in test_experiment.py,
where 1 and 2 workers must give identical records.
"""

from __future__ import annotations

import json

import pytest

from compare.jobs import runner
from compare.jobs.runner import Job, cache_key, run_jobs

CALLS: list[str] = []


def square(x: float) -> dict:
    """A toy measurement: a record whose number depends on its argument."""
    CALLS.append(f"square {x}")
    return {"kind": "baseline", "name": f"square{x}", "value": x * x, "nan": float("nan")}


def echo_seed(seed: int) -> dict:
    """A toy training run: its record says which seed it was given."""
    CALLS.append(f"seed {seed}")
    return {"kind": "baseline", "seed": seed}


def explode(message: str) -> dict:
    CALLS.append("explode")
    raise RuntimeError(f"{message}\nsecond line never shown")


def interrupt() -> dict:
    raise KeyboardInterrupt


def no_record() -> dict:
    return {"value": 1}


@pytest.fixture(autouse=True)
def _clear_calls():
    CALLS.clear()


def test_a_job_is_data_and_a_closure_only_runs_exclusive():
    assert Job("a", square, {"x": 2}).function is square
    assert runner.function_path(square) == f"{__name__}:square"
    assert runner.function_path(f"{__name__}:square") == f"{__name__}:square"
    with pytest.raises(ValueError, match="closures only for exclusive jobs"):
        Job("a", lambda: {})
    with pytest.raises(ValueError, match="closures only for exclusive jobs"):
        Job("a", "no_colon_here")
    assert Job("a", lambda: {}, exclusive=True).exclusive
    with pytest.raises(TypeError):
        Job("a", square, {"x": object()})  # kwargs must travel as JSON


def test_the_cache_key_covers_function_kwargs_and_versions_not_the_name(monkeypatch):
    key = cache_key(Job("a", square, {"x": 2}))[0]
    assert cache_key(Job("other name", f"{__name__}:square", {"x": 2}))[0] == key
    assert cache_key(Job("a", square, {"x": 3}))[0] != key
    assert cache_key(Job("a", explode, {"x": 2}))[0] != key
    source = cache_key(Job("a", square, {"x": 2}))[1]
    assert {"numpy", "tensorflow", "keras", "torch", "lightning", "scikit-learn"} <= set(
        source["versions"]
    )
    assert "rnn-parity" in source["versions"] and "python" in source["versions"]
    newer = {**runner.versions(), "torch": "99.0"}
    monkeypatch.setattr(runner, "versions", lambda: newer)
    assert cache_key(Job("a", square, {"x": 2}))[0] != key
    # closures are cached only with a key, which then stands for function and kwargs
    assert cache_key(Job("c", lambda: {}, exclusive=True)) is None
    assert cache_key(Job("c", lambda: {}, exclusive=True, key={"v": 1}))[1]["kwargs"] == {"v": 1}


def test_a_second_run_reuses_every_record_and_fresh_runs_them_again(tmp_path):
    plan = [Job(f"sq{x}", square, {"x": x}) for x in (1, 2, 3)]
    first = run_jobs(plan, tmp_path / "staging", cache=tmp_path / "cache")
    assert (first.ran, first.reused, first.failed) == (3, 0, [])
    assert len(CALLS) == 3 and len(list((tmp_path / "cache").glob("*.json"))) == 3
    # what is returned is what the JSON file holds: NaN travels as "nan", never as 0
    assert first.records["sq3"]["value"] == 9 and first.records["sq3"]["nan"] == "nan"
    staged = json.loads((tmp_path / "staging" / "sq2.json").read_text())
    assert staged == first.records["sq2"]
    second = run_jobs(plan, tmp_path / "staging2", cache=tmp_path / "cache")
    assert (second.ran, second.reused) == (0, 3) and len(CALLS) == 3
    assert second.records == first.records
    assert json.loads((tmp_path / "staging2" / "sq2.json").read_text()) == staged
    fresh = run_jobs(plan, None, cache=tmp_path / "cache", fresh=True)
    assert (fresh.ran, fresh.reused) == (3, 0) and len(CALLS) == 6


def test_each_seed_has_a_cached_record_of_its_own(tmp_path):
    # a key blind to the seed would serve seed 1's record (written last) for seed 0
    plan = [Job(f"seed{seed}", echo_seed, {"seed": seed}) for seed in (0, 1)]
    assert cache_key(plan[0])[0] != cache_key(plan[1])[0]
    assert cache_key(plan[0])[1]["kwargs"] == {"seed": 0}
    first = run_jobs(plan, None, cache=tmp_path / "cache")
    assert first.ran == 2 and len(list((tmp_path / "cache").glob("*.json"))) == 2
    again = run_jobs(plan, None, cache=tmp_path / "cache")
    assert (again.ran, again.reused) == (0, 2) and CALLS == ["seed 0", "seed 1"]
    assert {name: record["seed"] for name, record in again.records.items()} == {
        "seed0": 0,
        "seed1": 1,
    }


def test_a_failing_job_is_recorded_and_the_run_goes_on(tmp_path):
    plan = [
        Job("boom", explode, {"message": "bad weights"}),
        Job("sq2", square, {"x": 2}),
        Job("empty", no_record),
    ]
    done = run_jobs(plan, tmp_path / "staging", cache=tmp_path / "cache")
    assert done.failed == ["boom", "empty"] and done.ran == 3
    failed = done.records["boom"]
    assert failed["kind"] == "failed_job" and failed["error"] == "RuntimeError: bad weights"
    assert failed["kwargs"] == {"message": "bad weights"}
    assert "returned no record" in done.records["empty"]["error"]
    assert done.records["sq2"]["value"] == 4
    # a failure may pass (memory, a killed worker): it is never cached, so it runs again
    again = run_jobs(plan, None, cache=tmp_path / "cache")
    assert (again.ran, again.reused) == (2, 1)


def test_an_interrupted_run_resumes_from_what_finished(tmp_path):
    plan = [Job("sq1", square, {"x": 1}), Job("stop", interrupt), Job("sq2", square, {"x": 2})]
    with pytest.raises(KeyboardInterrupt):
        run_jobs(plan, None, cache=tmp_path / "cache")
    assert CALLS == ["square 1"]
    resumed = run_jobs([plan[0], plan[2]], None, cache=tmp_path / "cache")
    assert (resumed.ran, resumed.reused) == (1, 1) and CALLS == ["square 1", "square 2"]


def test_exclusive_jobs_run_after_the_others_in_their_order(tmp_path):
    def timed(label: str):
        def measure() -> dict:
            CALLS.append(label)
            return {"kind": "bench_run", "label": label}

        return measure

    plan = [
        Job("t1", timed("timing 1"), exclusive=True, key={"t": 1}),
        Job("sq1", square, {"x": 1}),
        Job("t2", timed("timing 2"), exclusive=True),
        Job("sq2", square, {"x": 2}),
    ]
    done = run_jobs(plan, None, cache=tmp_path / "cache")
    assert CALLS == ["square 1", "square 2", "timing 1", "timing 2"]
    assert list(done.records) == ["t1", "sq1", "t2", "sq2"]  # plan order, whatever ran first
    again = run_jobs(plan, None, cache=tmp_path / "cache")
    assert again.reused == 3 and CALLS[-1] == "timing 2"  # t2 has no key: never cached


def test_repeated_names_are_refused():
    with pytest.raises(ValueError, match="repeat"):
        run_jobs([Job("a", square, {"x": 1}), Job("a", square, {"x": 2})])
