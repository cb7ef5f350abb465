"""Training with torch.compile: forward, loss, backward and Adam's update as one compiled graph.

`fit_compiled` trains exactly the steps `fit_plain` takes (the same batches in the same
seeded order, batch by batch, torch's own Adam update) with the whole training step handed to
`torch.compile` (inductor, which writes C++ on the CPU and needs a C++ compiler for it). The
speed study times it as `torch_compiled`, and with inductor's C++ wrapper and guard
evaluation skipped as `torch_compiled_tuned`.

Each graph break found with `TORCH_LOGS=graph_breaks,recompiles` on the tutorial's step, and
how it is removed here (torch 2.13):

* `nn.RNN`: Dynamo refuses RNN modules unless `allow_rnn` is set; with it the recurrence is
  traced as its aten ops and unrolled over the window's time steps.
* `loss.backward()`: Dynamo breaks there unless `trace_autograd_ops` is set; the step uses
  `torch.autograd.grad`, so gradients stay inside the graph (no `.grad` outputs to write).
* `Optimizer.zero_grad` is on Dynamo's skip list, and `Optimizer.step`'s wrapper calls
  `torch._dynamo.graph_break()` twice (tracing through it stopped with a NameError in the
  resumed frame): the step calls `torch.optim.adam.adam`, the function `Adam.step` itself
  calls, on moment and step tensors kept here.
* `loss.item()` in `RNNModel.training_step` syncs and breaks every step: the compiled step
  returns the loss as a tensor, read once per epoch.

What remains: no graph break and no recompile within one fit (the log is empty after the
first call). Every fit compiles its own step (`torch._dynamo.reset()` first): the step's
graph is guarded on the model it closes over, so a second model would recompile anyway and
count against Dynamo's recompile limit, past which it silently runs eagerly.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from time import perf_counter

import numpy as np
import torch
from torch.optim.adam import adam as adam_update

from shared.errors import RnnParityError
from shared.recipe import TrainSpec
from shared.training import FitHistory, epoch_losses
from torch_impl.fused import check_fusable, fused_forward
from torch_impl.inputs import shuffled_orders
from torch_impl.model import RNNModel
from torch_impl.optim import checked_loss
from torch_impl.train import _accelerator, _check_inputs, _training_run

# torch.compile modes a caller may ask for ("reduce-overhead" needs CUDA graphs: GPU only).
COMPILE_MODES = (None, "default", "max-autotune-no-cudagraphs", "reduce-overhead")


class CompilerMissingError(RnnParityError):
    """torch.compile's inductor needs a C++ compiler on the CPU and none was found."""


def cpp_compiler() -> str | None:
    """The path of the C++ compiler inductor would call ($CXX, then its own names), or None."""
    from torch._inductor import config

    names = [os.environ.get("CXX"), *config.cpp.cxx, "g++", "c++", "clang++"]
    for name in names:
        found = shutil.which(name) if name else None
        if found:
            return found
    return None


def _adam_settings(train_spec: TrainSpec) -> dict[str, float]:
    """torch.optim.Adam's hyperparameters for the recipe; other optimizers are refused."""
    spec = train_spec.optimizer
    if spec.name != "adam" or spec.epsilon_style == "keras":
        raise ValueError(
            f"fit_compiled runs torch's own Adam; {spec.name} with epsilon_style "
            f"{spec.epsilon_style!r} is not supported"
        )
    return {
        "lr": spec.learning_rate,
        "beta1": spec.beta_1,
        "beta2": spec.beta_2,
        "eps": spec.epsilon,
        "weight_decay": 0.0,
    }


def _make_step(
    model: RNNModel,
    params: list[torch.nn.Parameter],
    adam: dict[str, float],
    capturable: bool,
    fused_cell: bool,
) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """One training step as a plain function: loss, gradients, torch's Adam update in place.

    The forward is the model's own, or with `fused_cell` `torch_impl.fused.fused_forward`.
    """
    forward = (lambda inputs: fused_forward(model, inputs)) if fused_cell else model
    exp_avgs = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in params]
    exp_avg_sqs = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in params]
    # Adam's step count per parameter, a tensor as torch.optim.Adam keeps it, but float64:
    # compiled, Adam computes its bias corrections from this tensor in the tensor's dtype,
    # where eager Adam reads it with .item() into a Python float (double). A float32 count
    # moved float64 training by 3e-8 in the first steps; a float64 one keeps double precision.
    steps = [torch.zeros((), dtype=torch.float64, device=p.device) for p in params]

    def step(inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        loss = checked_loss(model.loss_fn, forward(inputs), targets)
        grads = list(torch.autograd.grad(loss, params))
        with torch.no_grad():
            adam_update(
                params,
                grads,
                exp_avgs,
                exp_avg_sqs,
                [],
                steps,
                foreach=False,
                capturable=capturable,
                differentiable=False,
                fused=None,
                amsgrad=False,
                maximize=False,
                **adam,
            )
        return loss.detach()

    return step


def _dynamo_counts(since: dict[str, int] | None = None) -> dict[str, int]:
    """Graphs compiled and graph breaks met by Dynamo so far (or since an earlier count)."""
    from torch._dynamo.utils import counters

    now = {
        "graphs": int(counters["stats"]["unique_graphs"]),
        "graph_breaks": int(sum(counters["graph_break"].values())),
    }
    return {key: value - (since or {}).get(key, 0) for key, value in now.items()}


def fit_compiled(
    model: RNNModel,
    X: np.ndarray,
    Y: np.ndarray,
    train_spec: TrainSpec,
    order: list[np.ndarray] | None = None,
    *,
    device: str = "cpu",
    mode: str | None = None,
    cpp_wrapper: bool = False,
    skip_guards: bool = False,
    fused_cell: bool = False,
    epoch_clock: list[float] | None = None,
    compile_stats: list[dict[str, float]] | None = None,
) -> FitHistory:
    """Train as `fit_plain` does, the training step compiled by torch.compile (inductor).

    Args:
        model, X, Y, train_spec, order, device: as `fit_plain` (torch's Adam only).
        mode: torch.compile's mode (COMPILE_MODES); None is its default.
        cpp_wrapper: inductor's C++ wrapper around its kernels instead of a Python one (less
            per-call overhead; longer compile).
        skip_guards: after the first step, `torch.compiler.set_stance(
            skip_guard_eval_unsafe=True)`: Dynamo stops checking its guards on every call.
            Only where every batch has one size (else one graph could meet another's shape);
            otherwise it stays off.
        fused_cell: the forward written as broadcast products (`torch_impl.fused`), which
            inductor fuses into a few C++ loops; one simple RNN layer and a Dense head only.
        epoch_clock: `perf_counter()` appended at each epoch's end, as `fit_plain` does.
        compile_stats: when given, one dict is appended after training: "compile_s" (wall
            seconds of the first step: tracing, compiling and running it once), "graphs"
            (graphs Dynamo compiled in this fit: 1 means no recompile) and "graph_breaks".

    Returns:
        FitHistory with every step's pre-update batch loss, epoch losses and wall time.

    Raises:
        CompilerMissingError: on a CPU with no C++ compiler, before anything is trained.
        ValueError: for an optimizer other than torch's Adam, an unknown mode or device, or a
            model the fused cell does not compute.
    """
    X, Y = _check_inputs(model, X, Y, train_spec, order)
    _accelerator(device)
    if mode not in COMPILE_MODES:
        raise ValueError(f"mode must be one of {COMPILE_MODES}, got {mode!r}")
    target = torch.device(device)
    if target.type == "cpu" and cpp_compiler() is None:
        raise CompilerMissingError(
            "torch.compile (inductor) needs a C++ compiler on the CPU and none was found "
            "($CXX, g++, c++, clang++)"
        )
    adam = _adam_settings(train_spec)
    if fused_cell:
        check_fusable(model)
    n_samples, batch = len(X), train_spec.batch_size
    if order is None:  # the orders fit_plain's loader draws from the same seed
        order = shuffled_orders(n_samples, train_spec.epochs, train_spec.seed, train_spec.shuffle)
    inputs, targets = torch.from_numpy(X).to(target), torch.from_numpy(Y).to(target)
    step_loss: list[float] = []
    torch.manual_seed(train_spec.seed)
    model.to(target)
    torch._dynamo.reset()  # this fit's step compiles afresh (see the module docstring)
    before = _dynamo_counts()
    config = torch._dynamo.config.patch(allow_rnn=True, trace_autograd_ops=True)
    with _training_run(model, train_spec), config:
        model.train()
        params = [p for p in model.parameters() if p.requires_grad]
        step = _make_step(model, params, adam, target.type == "cuda", fused_cell)
        options = {"cpp_wrapper": True} if cpp_wrapper else None
        compiled = torch.compile(step, mode=mode, options=options, fullgraph=True)
        start = perf_counter()
        try:
            for epoch in range(train_spec.epochs):
                index = torch.from_numpy(np.asarray(order[epoch], dtype=np.int64)).to(target)
                epoch_x, epoch_y = inputs[index], targets[index]  # the loader's batches
                losses = []
                for first in range(0, n_samples, batch):
                    call_start = perf_counter()
                    part = slice(first, first + batch)
                    losses.append(compiled(epoch_x[part], epoch_y[part]))
                    if epoch == 0 and first == 0:
                        compile_s = perf_counter() - call_start
                        if skip_guards and n_samples % batch == 0:
                            torch.compiler.set_stance(skip_guard_eval_unsafe=True)
                step_loss += torch.stack(losses).tolist()
                if epoch_clock is not None:
                    epoch_clock.append(perf_counter())
            seconds = perf_counter() - start
        finally:
            torch.compiler.set_stance("default")
    model.to("cpu")  # as fit_plain does
    if compile_stats is not None:
        compile_stats.append({"compile_s": compile_s, **_dynamo_counts(before)})
    return FitHistory(
        epoch_loss=epoch_losses(step_loss, n_samples, batch),
        step_loss=step_loss,
        epoch_weights=[],
        seconds=seconds,
    )
