"""One interface over every trainer the speed study times: build, fit, predict, and imports.

Kept apart from `compare.bench.worker` (the measurements) so each stays short. Runs inside a
worker process only: the framework is imported by `import_framework`, timed, first thing.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import time
from typing import Any

from compare.bench.variants import Variant


class Runner:
    """Builds, trains and runs models of one variant through the impls' public functions."""

    def __init__(self, variant: Variant, impl: Any) -> None:
        self.variant = variant
        self.impl = impl  # keras_impl, torch_impl, shared.numpy_train or shared.reference
        self.compile_stats: list[dict] = []  # one per torch_impl.fit_compiled call

    def build(self, spec: Any, seed: int) -> Any:
        """A model (canonical weights for the numpy trainers) from `spec` and `seed`."""
        if self.variant.framework == "numpy":
            from shared.weights import random_weights

            return random_weights(spec, seed=seed)
        return self.impl.build_model(spec, seed=seed)

    def fit(self, model: Any, X: Any, Y: Any, train_spec: Any, clock: list[float]) -> Any:
        """Train with the variant's options; `clock` gets one mark per epoch end."""
        options = dict(self.variant.options)
        if options.get("steps_per_execution") == "epoch":  # one call per epoch
            options["steps_per_execution"] = math.ceil(len(X) / train_spec.batch_size)
        trainer = self.variant.trainer
        if trainer == "keras":
            return self.impl.fit(model, X, Y, train_spec, epoch_clock=clock, **options)
        if trainer == "numpy":
            # Keras's recipe: one bias per gate (c stays zero), Keras's Adam
            single = dataclasses.replace(train_spec, single_bias=True)
            return self.impl.fit(model, X, Y, single, epoch_clock=clock, **options)
        if trainer == "compiled":
            options["compile_stats"] = self.compile_stats
        name = {"lightning": "fit", "compiled": "fit_compiled"}.get(trainer, "fit_plain")
        fit = getattr(self.impl, name)
        return fit(
            model, X, Y, train_spec, device=self.variant.device, epoch_clock=clock, **options
        )

    def predict(self, model: Any, X: Any) -> Any:
        if self.variant.framework == "numpy":
            from shared.reference import predict

            return predict(model, X)
        if self.variant.framework == "torch":
            return self.impl.predict(model, X, device=self.variant.device)
        return self.impl.predict(model, X)


def import_framework(variant: Variant, threads: int) -> tuple[Any, float, dict[str, Any]]:
    """Import the variant's framework (timed), then pin torch's threads if torch is loaded.

    Returns:
        (the impl module, import seconds, facts to record: threads, backend, GPU name).
    """
    start = time.perf_counter()
    if variant.framework == "keras":
        import keras_impl as impl  # reads KERAS_BACKEND, set by the parent
    elif variant.framework == "torch":
        import torch_impl as impl
    elif variant.trainer == "numpy":
        from shared import numpy_train as impl
    else:
        import numpy  # noqa: F401 - the reference's only framework, timed on its own

        from shared import reference as impl
    import_s = time.perf_counter() - start
    facts: dict[str, Any] = {}
    torch = sys.modules.get("torch")
    if torch is not None:  # torch_impl, or Keras on its torch backend
        torch.set_num_threads(threads)
        facts["torch_threads"] = torch.get_num_threads()
    if variant.framework == "keras":
        import keras

        facts["keras_backend"] = keras.backend.backend()
        if variant.backend == "jax":  # Keras has imported jax; which device its jaxlib drives
            import jax

            facts.update(jax_version=jax.__version__, jax_platform=jax.default_backend())
    if variant.device == "cuda":
        if torch is None or not torch.cuda.is_available():
            raise RuntimeError(f"{variant.name}: torch sees no GPU")
        facts["gpu"] = torch.cuda.get_device_name(0)
    return impl, import_s, facts
