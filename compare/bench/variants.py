"""The speed study's catalogue: every variant it times, and how much each worker measures.

A variant is one way of training (or running) the tutorial's model: a framework, a trainer,
speed-only options and the reference variant whose results it must reproduce. The catalogue is
plain data (standard library only) so the parent process can plan runs without importing a
framework; the worker (`compare.bench.worker`) looks its variant up here by name.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

SWEEP_AXES = ("batch", "units", "time_steps")
# Where a GPU is present the sweep goes on to where it wins (measured on an H100: from about
# 256 units or 48 time steps at batch 1); these points are added to every variant's sweep.
GPU_SWEEP_EXTRA = {"batch": [1024, 4096], "units": [1024], "time_steps": [192, 384]}
WORKER_PARTS = ("timing", "extras", "all")
# Untimed epochs before the timed ones (see the module docstring for why two).
WARMUP_EPOCHS = 2


@dataclass(frozen=True)
class Variant:
    """One way of training (or running) the tutorial's model that the speed study times.

    framework: "keras", "torch" or "numpy".
    trainer: "keras" (keras_impl.fit), "lightning" (torch_impl.fit), "plain"
        (torch_impl.fit_plain), "compiled" (torch_impl.fit_compiled), "numpy"
        (shared.numpy_train.fit) or "none" (inference only).
    backend: Keras's backend (KERAS_BACKEND) for Keras variants, else "".
    device: "cpu" or "cuda".
    options: keyword options for the fit function; speed settings only. For Keras,
        steps_per_execution "epoch" means one compiled call (Keras) or one Lightning
        training_step (torch) per epoch.
    reference: the variant whose test RMSEs this one's must match (its framework's default).
    needs: a package beyond the base install the variant imports ("jax"), else "": where it
        is missing the variant is not run and its row says how to add it (`missing_package`).
    quick: whether the quick study (the default report's) runs it too.
    sweep: whether the scaling sweep runs it (False where every point would cost a compile
        of tens of seconds and another variant shows the same path's scaling).
    """

    name: str
    framework: str
    trainer: str
    description: str
    backend: str = ""
    device: str = "cpu"
    options: dict[str, Any] = field(default_factory=dict)
    reference: str | None = None
    needs: str = ""
    quick: bool = True
    sweep: bool = True


_CPU_VARIANTS = (
    Variant(
        "keras_fit",
        "keras",
        "keras",
        "Keras as the tutorial runs it: model.fit, batch 1, compile defaults (TensorFlow)",
        backend="tensorflow",
    ),
    Variant(
        "keras_tuned",
        "keras",
        "keras",
        "Keras at its best measured setting: one compiled call per epoch "
        "(steps_per_execution = steps per epoch) with XLA (jit_compile=True)",
        backend="tensorflow",
        options={"steps_per_execution": "epoch", "jit_compile": True},
        reference="keras_fit",
    ),
    Variant(
        "keras_torch_backend",
        "keras",
        "keras",
        "the same keras_impl model and fit on Keras's torch backend (KERAS_BACKEND=torch); "
        "its seeded initial weights and shuffles come from torch's generator, so its runs are "
        "not paired seed for seed with keras_fit's",
        backend="torch",
        reference="keras_fit",
        quick=False,
    ),
    # Keras on JAX (an optional extra): fit as the tutorial runs it, Keras's own tuning, then
    # one jitted call per epoch.
    Variant(
        "keras_jax",
        "keras",
        "keras",
        "the same keras_impl model and model.fit on Keras's JAX backend (KERAS_BACKEND=jax; "
        "each train step one jitted XLA call); its seeded initial weights come from JAX's "
        "threefry generator and its shuffles from numpy's, so its runs are not paired seed for "
        "seed with keras_fit's",
        backend="jax",
        reference="keras_fit",
        needs="jax",
        quick=False,
    ),
    Variant(
        "keras_jax_tuned",
        "keras",
        "keras",
        "keras_jax with steps_per_execution = steps per epoch: Keras's JAX trainer still calls "
        "its jitted step once per batch, from a Python loop, but runs callbacks once per epoch",
        backend="jax",
        options={"steps_per_execution": "epoch"},
        reference="keras_fit",
        needs="jax",
        quick=False,
    ),
    Variant(
        "keras_jax_scan",
        "keras",
        "keras",
        "keras_jax_tuned with each epoch one jitted jax.lax.scan of Keras's own train step "
        "(keras_impl.fit scan_steps=True replaces the model's train_function; model.fit, its "
        "data, shuffle, callbacks and metrics unchanged): Keras's fastest path measured here, "
        "the same steps as keras_jax bit for bit",
        backend="jax",
        options={"steps_per_execution": "epoch", "scan_steps": True},
        reference="keras_jax",
        needs="jax",
        quick=False,
    ),
    Variant(
        "lightning_default",
        "torch",
        "lightning",
        "torch_impl.fit as a user calls it: a Lightning Trainer (logger, checkpointing, "
        "model summary and progress bar already off)",
        reference=None,
    ),
    Variant(
        "lightning_tuned",
        "torch",
        "lightning",
        "torch_impl.fit with steps_per_execution = steps per epoch: one Lightning "
        "training_step per epoch taking every optimizer step of it (manual optimization), "
        "as Keras's steps_per_execution does; the same batches and steps, bit-identical",
        options={"steps_per_execution": "epoch"},
        reference="lightning_default",
    ),
    Variant(
        "torch_plain",
        "torch",
        "plain",
        "torch_impl.fit_plain: the same steps in a plain PyTorch loop, no Lightning",
        reference="lightning_default",
    ),
    Variant(
        "torch_tuned",
        "torch",
        "plain",
        "torch_impl.fit_plain with torch.optim.Adam(fused=True): the plain loop at its best "
        "measured setting (the same update up to rounding)",
        options={"fused": True},
        reference="torch_plain",
    ),
    # torch.compile: see torch_impl/compiled.py for the graph breaks removed and what remains
    Variant(
        "torch_compiled",
        "torch",
        "compiled",
        "torch_impl.fit_compiled: the plain loop's steps with the whole training step "
        "(forward, loss, backward, torch's Adam update) compiled by torch.compile, inductor "
        "defaults, one graph and no graph break; compile time reported apart",
        reference="torch_plain",
        quick=False,
    ),
    Variant(
        "torch_compiled_tuned",
        "torch",
        "compiled",
        "torch_compiled with inductor's C++ wrapper (cpp_wrapper) and Dynamo's guard "
        "evaluation skipped after the first step (every batch has one shape)",
        options={"cpp_wrapper": True, "skip_guards": True},
        reference="torch_plain",
        sweep=False,
        quick=False,
    ),
    Variant(
        "torch_compiled_fused",
        "torch",
        "compiled",
        "torch_compiled_tuned with the forward written as broadcast products "
        "(torch_impl.fused: one simple RNN layer and a Dense head), so inductor fuses every "
        "matrix product, backward included, into its C++ loops instead of calling aten's mm",
        options={"cpp_wrapper": True, "skip_guards": True, "fused_cell": True},
        reference="torch_plain",
        sweep=False,
        quick=False,
    ),
    Variant(
        "numpy_train",
        "numpy",
        "numpy",
        "shared.numpy_train.fit: hand-written BPTT and Keras's Adam in numpy, no framework "
        "(the floor: what one step costs without one)",
        reference="keras_fit",
    ),
    Variant(
        "numpy_reference",
        "numpy",
        "none",
        "shared.reference.predict: the numpy forward pass (inference only, no training)",
    ),
)


def _cuda_twin(variant: Variant) -> Variant:
    """The same variant on the GPU; its RMSEs are judged against the CPU reference's."""
    return dataclasses.replace(
        variant,
        name=f"{variant.name}_cuda",
        device="cuda",
        description=f"{variant.description}; on the GPU",
        reference=variant.reference or variant.name,
    )


# Torch-based variants (Keras's torch backend included) get a GPU twin when torch sees a GPU.
CUDA_CAPABLE = (
    "keras_torch_backend",
    "lightning_default",
    "lightning_tuned",
    "torch_plain",
    "torch_tuned",
    "torch_compiled",
    "torch_compiled_tuned",
    "torch_compiled_fused",
)
VARIANTS: dict[str, Variant] = {v.name: v for v in _CPU_VARIANTS}
VARIANTS.update({f"{n}_cuda": _cuda_twin(VARIANTS[n]) for n in CUDA_CAPABLE})
CPU_VARIANTS = tuple(v.name for v in _CPU_VARIANTS)
# Variants only the full study runs (`quick=False`): each compiled torch row compiles for
# 30-60 s on 2 cores in every process, each JAX row adds a process importing TensorFlow and
# JAX per round, and keras_torch_backend (10 ms a step) took 48 of the quick study's 194 s:
# the default report's quick study cannot afford them.
FULL_ONLY = tuple(v.name for v in _CPU_VARIANTS if not v.quick)
QUICK_VARIANTS = tuple(name for name in CPU_VARIANTS if name not in FULL_ONLY)

# The ratios the study reports, (variant, reference): each per round, from the same round's
# processes. Tuned over default, Lightning over the plain loop (its overhead), each
# framework's fastest path over the numpy floor, and the two frameworks' defaults.
RATIOS: tuple[tuple[str, str], ...] = (
    ("keras_tuned", "keras_fit"),
    ("keras_torch_backend", "keras_fit"),
    ("lightning_default", "torch_plain"),
    ("lightning_tuned", "torch_plain"),
    ("lightning_tuned", "lightning_default"),
    ("torch_tuned", "torch_plain"),
    ("keras_fit", "lightning_default"),
    ("keras_tuned", "numpy_train"),
    ("lightning_tuned", "numpy_train"),
    ("torch_tuned", "numpy_train"),
    ("keras_jax", "keras_fit"),
    ("keras_jax_tuned", "numpy_train"),
    ("keras_jax_scan", "keras_jax_tuned"),
    ("keras_jax_scan", "numpy_train"),
    ("torch_compiled", "torch_plain"),
    ("torch_compiled_tuned", "torch_plain"),
    ("torch_compiled", "numpy_train"),
    ("torch_compiled_tuned", "numpy_train"),
    ("torch_compiled_fused", "torch_compiled_tuned"),
    ("torch_compiled_fused", "numpy_train"),
    *((f"{name}_cuda", name) for name in CUDA_CAPABLE),
)
# Per-step differences in seconds (variant - reference), per round: where the time goes.
DIFFERENCES: tuple[tuple[str, str], ...] = (
    ("lightning_default", "torch_plain"),
    ("lightning_tuned", "torch_plain"),
    ("torch_plain", "numpy_train"),
    ("keras_tuned", "numpy_train"),
)


# The one command that adds a variant's missing package (`Variant.needs`), from the project root.
INSTALL_COMMANDS = {"jax": 'pip install "jax>=0.10" "jaxlib>=0.10"'}


def missing_package(variant: Variant) -> str | None:
    """The package `variant` needs and this environment lacks ("jax"), or None.

    Asks importlib whether the package is findable, without importing it (the parent process
    plans runs without loading a framework).
    """
    import importlib.util

    if not variant.needs or importlib.util.find_spec(variant.needs) is not None:
        return None
    return variant.needs


@dataclass(frozen=True)
class WorkerConfig:
    """How much to measure; identical for every variant of one bench run.

    threads: intra-op threads for every framework (also set in the environment by the parent).
    repeats: timed epochs of the tutorial config, after WARMUP_EPOCHS discarded ones.
    predict_repeats: timed calls of each prediction latency.
    seeds: equal-work seeds (0 .. seeds-1); 0 skips the equal-work runs.
    equal_work_epochs: epochs of each equal-work run; None keeps the tutorial preset's 20.
    sweep: axis -> values; axes are "batch", "units", "time_steps" (others stay at the
        tutorial's batch 1, 3 units, 12 time steps).
    sweep_epochs: timed epochs per sweep point, after WARMUP_EPOCHS discarded ones.
    sweep_min_samples, sweep_min_steps: each sweep point trains on
        max(sweep_min_samples, sweep_min_steps * batch) synthetic windows, so a batch of 256
        still makes several steps per epoch.
    part: what one worker process measures: "timing" (import, build, per-step training,
        prediction, memory: one process per variant per round), "extras" (equal work and
        the sweep, once per variant) or "all".
    profile: after the timing, train once more with the stack sampler on the timed epochs
        (`compare.bench.profile`; only the variants in its PROFILED list).
    """

    threads: int = 1
    repeats: int = 10
    predict_repeats: int = 30
    seeds: int = 3
    equal_work_epochs: int | None = None
    sweep: dict[str, list[int]] = field(
        default_factory=lambda: {
            "batch": [1, 4, 16, 64, 256],
            "units": [3, 16, 64, 256],
            "time_steps": [12, 24, 48, 96],
        }
    )
    sweep_epochs: int = 2
    sweep_min_samples: int = 128
    sweep_min_steps: int = 8
    part: str = "all"
    profile: bool = False

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> WorkerConfig:
        data = json.loads(text)
        unknown = sorted(set(data) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise ValueError(f"unknown worker config key(s): {unknown}")
        return cls(**data)
