"""The speed study's GPU planning and its equal-work boundary, with the GPU mocked on.

No GPU was available while the `_cuda` path was built, so here torch is made to report one
(`torch.cuda.is_available` patched to True) and the probe runs in this process: the plan must
then add exactly the GPU twins of the torch-based variants, named "<variant>_cuda", placed after
every CPU variant, judged against CPU references, with workers that keep the GPU visible.
The equal-work rule (mean within the reference mean +- 2 sd) is checked exactly at, just inside
and just outside its boundary, above and below the reference.
"""

from __future__ import annotations

import pytest
import torch

from compare.bench import plan, process, worker
from compare.bench.equal_work import judge_equal_work
from compare.bench.variants import CPU_VARIANTS, CUDA_CAPABLE, FULL_ONLY, VARIANTS

GPU_TWINS = [
    "keras_torch_backend_cuda",
    "lightning_default_cuda",
    "lightning_tuned_cuda",
    "torch_plain_cuda",
    "torch_tuned_cuda",
    "torch_compiled_cuda",
    "torch_compiled_tuned_cuda",
    "torch_compiled_fused_cuda",
]


@pytest.fixture
def gpu_on(monkeypatch):
    """torch sees one GPU; the probe answers in-process instead of in a worker process."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda index=0: "Mocked GPU")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    monkeypatch.setattr(process.shutil, "which", lambda name: f"/usr/bin/{name}")

    def run_module(args, env, what, timeout_s):
        assert args == ["--probe"], args
        return worker.probe()

    monkeypatch.setattr(process, "_run_module", run_module)


def test_probe_and_cuda_available_follow_torch(gpu_on):
    assert worker.probe() == {"cuda": True, "gpu": "Mocked GPU"}
    assert process.cuda_available() is True


def test_cuda_twins_are_planned_after_every_cpu_variant(gpu_on):
    planned = plan.plan_variants()
    assert planned == [*CPU_VARIANTS, *GPU_TWINS]
    jobs = plan.bench_jobs(False, 3)
    assert [name for name, _ in jobs] == ["bench-rounds", *(f"bench-{name}" for name in planned)]
    assert sorted(f"{name}_cuda" for name in CUDA_CAPABLE) == sorted(GPU_TWINS)


@pytest.mark.parametrize("name", GPU_TWINS)
def test_each_cuda_twin_runs_on_the_gpu_against_a_cpu_reference(gpu_on, name):
    twin, cpu = VARIANTS[name], VARIANTS[name.removesuffix("_cuda")]
    assert twin.name == name  # the worker and the record see the same name as the plan
    assert twin.device == "cuda" and cpu.device == "cpu"
    assert (twin.framework, twin.trainer, twin.backend) == (cpu.framework, cpu.trainer, cpu.backend)
    assert twin.options == cpu.options
    assert twin.reference == (cpu.reference or cpu.name)
    assert VARIANTS[twin.reference].device == "cpu"
    assert process.worker_env(twin, 1)["CUDA_VISIBLE_DEVICES"] == "0"  # the GPU stays visible
    assert process.worker_env(cpu, 1)["CUDA_VISIBLE_DEVICES"] == ""  # CPU variants never see it


def test_without_a_gpu_no_twin_is_planned(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    monkeypatch.setattr(process.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(process, "_run_module", lambda *args: worker.probe())
    assert plan.plan_variants() == list(CPU_VARIANTS)


# reference [1, 2, 3]: mean 2 and sample sd 1, both exact in binary, so 2 sd = 2 exactly
REFERENCE = [1.0, 2.0, 3.0]


@pytest.mark.parametrize(
    ("mean", "within"),
    [
        (4.0, True),  # exactly +2 sd: the rule says within
        (4.0 - 1e-9, True),
        (4.0 + 1e-9, False),
        (0.0, True),  # exactly -2 sd
        (0.0 + 1e-9, True),
        (0.0 - 1e-9, False),
    ],
)
def test_equal_work_boundary_on_both_sides(mean, within):
    judged = judge_equal_work([mean] * 3, REFERENCE, "lightning_default")
    assert judged["reference_mean"] == 2.0 and judged["reference_sd"] == 1.0
    assert judged["identical_to_reference"] is False
    assert judged["within_spread"] is within


def test_the_quick_study_names_the_rows_it_leaves_to_the_full_one(monkeypatch):
    monkeypatch.setattr(plan, "cuda_available", lambda: False)
    monkeypatch.setattr(plan, "rounds_record", lambda *args, **kwargs: {"kind": "bench_rounds"})
    rounds = dict(plan.bench_jobs(quick=True, seeds=0))["bench-rounds"]()
    assert rounds["full_study_only"] == list(FULL_ONLY)
    assert "keras_torch_backend" in FULL_ONLY and "keras_fit" not in FULL_ONLY
    full = dict(plan.bench_jobs(quick=False, seeds=0))["bench-rounds"]()
    chosen = dict(plan.bench_jobs(quick=True, seeds=0, variants=["keras_fit"]))["bench-rounds"]()
    assert full["full_study_only"] == [] and chosen["full_study_only"] == []
