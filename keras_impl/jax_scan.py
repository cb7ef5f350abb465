"""One jitted call per execution on Keras's JAX backend: Keras's own train step under `lax.scan`.

Why it exists: Keras's JAX trainer jits one train step and, even with `steps_per_execution` > 1,
calls it once per batch from a Python loop. At the tutorial's size (batch 1, 187 steps per epoch)
that per-call dispatch is most of a step's time. `scanned_train_function` is a drop-in for the
model's `train_function`: it takes the execution's batches from Keras's own iterator, stacks
them and runs Keras's own `train_step(state, data)` over them in one jitted `jax.lax.scan`.
`model.fit` runs as ever around it: the same data adapter and shuffle, callbacks, metrics (the
step-loss recorder included) and state sync; only the loop over steps moves into XLA. A last
batch of another size (the epoch's remainder) gets one more jitted call of the same step.

Imported only on the JAX backend (`keras_impl.train.fit` imports it lazily), so jax is loaded at
module level here and nowhere else in keras_impl.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import jax
import jax.numpy as jnp
import keras

State = tuple[Any, ...]  # (trainable, non-trainable, optimizer, metrics) variable values


def _shapes(batch: Any) -> list[tuple[int, ...]]:
    return [tuple(leaf.shape) for leaf in jax.tree_util.tree_leaves(batch)]


def scanned_train_function(
    model: keras.Model, steps: int
) -> Callable[[State, Iterator[Any]], tuple[dict[str, Any], State]]:
    """A `train_function` for `model` (compiled, JAX backend) running `steps` steps per call.

    Args:
        model: a compiled Keras model; Keras's JAX trainer supplies `train_step(state, data)`.
        steps: the model's `steps_per_execution`: batches taken from the iterator per call.

    Returns:
        f(state, iterator) -> (logs of the last step, new state), as Keras's own.
    """

    def scan(state: State, batches: Any) -> tuple[dict[str, Any], State]:
        def body(carry: State, batch: Any) -> tuple[State, dict[str, Any]]:
            logs, carry = model.train_step(carry, batch)
            return carry, logs

        state, logs = jax.lax.scan(body, state, batches)  # logs stacked over steps
        return jax.tree_util.tree_map(lambda values: values[-1], logs), state

    scanned = jax.jit(scan, donate_argnums=0)
    single = jax.jit(model.train_step, donate_argnums=0)

    def train_function(state: State, iterator: Iterator[Any]) -> tuple[dict[str, Any], State]:
        batches = []
        for _ in range(steps):
            try:
                batches.append(next(iterator))
            except StopIteration:
                break
        if not batches:
            raise StopIteration  # Keras's epoch iterator ends the epoch on it
        first = _shapes(batches[0])
        full = 1
        while full < len(batches) and _shapes(batches[full]) == first:
            full += 1
        # (steps, batch, ...) per leaf: one scan over the equal-sized batches
        stacked = jax.tree_util.tree_map(lambda *leaves: jnp.stack(leaves), *batches[:full])
        logs, state = scanned(state, stacked)
        for batch in batches[full:]:  # the epoch's shorter last batch
            logs, state = single(state, batch)
        return logs, state

    return train_function
