"""What differs between the two tutorial programs, and why: measured, not asserted.

The side-by-side page (`compare.learn.tutorial_page`) ends with the differences a learner moving
between Keras and Lightning trips over. Each is measured here, when the page is generated, on
the very models and optimizers the two programs build (`create_RNN`, `TutorialRNN`): parameter
counts, initial weights, Adam's first step, the loaders' shuffling defaults, the MSE of a
(batch,) target against a (batch, 1) output, and what eval()/no_grad() change.
"""

from __future__ import annotations

import inspect
import warnings
from dataclasses import dataclass

import numpy as np

SMALL_GRADIENT, USUAL_GRADIENT = 1e-9, 1e-3  # where Adam's epsilon matters, where it does not


@dataclass
class Facts:
    """Numbers measured on the programs' own models (see `measure`)."""

    keras_params: dict[str, int]  # layer -> parameter count
    torch_params: dict[str, int]
    keras_initialisers: dict[str, str]  # weight -> Keras initialiser class
    keras_bias_max: float  # max |bias| of a fresh model (both layers)
    keras_orthogonality: float  # max |U U^T - I| of a fresh recurrent kernel
    torch_bound: float  # 1/sqrt(units): torch's uniform init bound for every parameter
    torch_max: dict[str, float]  # parameter -> max |value| of a fresh module
    epsilons: tuple[float, float]  # Adam's epsilon: Keras, torch
    first_steps: dict[float, tuple[float, float]]  # gradient -> (Keras, torch) first step / lr
    shuffle_defaults: tuple[object, object]  # keras.Model.fit, DataLoader
    mse: dict[str, float]  # "true", "keras (B,)", "torch (B,)", "torch batch 1 (B,)"
    torch_warning: str  # what torch says about the (B,) target, first line
    requires_grad: tuple[bool, bool]  # torch output requires grad: plain call, under no_grad
    train_eval_gap: float  # max |output in train() - output in eval()| of TutorialRNN
    keras_predict_type: str


def _keras_facts(facts: dict) -> None:
    """Fill the Keras side from the program's create_RNN and Keras's own Adam."""
    import keras

    from keras_impl.tutorial import create_RNN

    model = create_RNN(3, 1, (12, 1), activation=["tanh", "tanh"])
    rnn, dense = model.layers
    facts["keras_params"] = {"SimpleRNN": rnn.count_params(), "Dense": dense.count_params()}
    initialisers = {}
    for layer, names in ((rnn, ("kernel", "recurrent", "bias")), (dense, ("kernel", "bias"))):
        config = layer.get_config()
        for name in names:
            initialisers[f"{type(layer).__name__} {name}"] = config[f"{name}_initializer"][
                "class_name"
            ]
    facts["keras_initialisers"] = initialisers
    kernel, recurrent, bias, _dense_kernel, dense_bias = model.get_weights()
    facts["keras_bias_max"] = float(max(np.abs(bias).max(), np.abs(dense_bias).max()))
    facts["keras_orthogonality"] = float(np.abs(recurrent @ recurrent.T - np.eye(3)).max())
    facts["keras_predict_type"] = type(model.predict(np.zeros((2, 12, 1)), verbose=0)).__name__
    steps = {}
    for gradient in (SMALL_GRADIENT, USUAL_GRADIENT):
        optimizer = keras.optimizers.get("adam")  # what compile(optimizer="adam") builds
        weight = keras.Variable(np.zeros(1, np.float32))
        optimizer.apply_gradients([(keras.ops.convert_to_tensor([gradient], "float32"), weight)])
        learning_rate = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
        steps[gradient] = -float(keras.ops.convert_to_numpy(weight)[0]) / learning_rate
    facts["keras_steps"], facts["keras_epsilon"] = steps, float(optimizer.epsilon)
    target = np.array([0.1, 0.5, 0.9, 0.3], np.float32)  # (4,): the tutorial's own Y shape
    output = np.array([[0.2], [0.4], [0.7], [0.6]], np.float32)  # (4, 1): the model's output
    facts["mse"] = {
        "true": float(np.mean((target[:, None] - output) ** 2)),
        "keras (B,)": float(keras.losses.MeanSquaredError()(target, output)),
    }
    facts["fit_shuffle"] = inspect.signature(keras.Model.fit).parameters["shuffle"].default


def _torch_facts(facts: dict) -> None:
    """Fill the torch side from the program's TutorialRNN and its configure_optimizers."""
    import torch
    from torch.utils.data import DataLoader

    from torch_impl.tutorial import TutorialRNN

    module = TutorialRNN(3, 1)
    facts["torch_params"] = {
        "nn.RNN": sum(p.numel() for p in module.rnn.parameters()),
        "nn.Linear": sum(p.numel() for p in module.dense.parameters()),
    }
    facts["torch_max"] = {
        name: float(p.detach().abs().max()) for name, p in module.named_parameters()
    }
    facts["torch_bound"] = 1 / np.sqrt(3)
    defaults = module.configure_optimizers().defaults
    steps = {}
    for gradient in (SMALL_GRADIENT, USUAL_GRADIENT):
        weight = torch.zeros(1, requires_grad=True)
        settings = {key: defaults[key] for key in ("lr", "betas", "eps")}
        optimizer = torch.optim.Adam([weight], **settings)  # as the program's, on one weight
        weight.grad = torch.full((1,), gradient)
        optimizer.step()
        steps[gradient] = -float(weight.detach()[0]) / defaults["lr"]
    facts["torch_steps"], facts["torch_epsilon"] = steps, float(defaults["eps"])
    target = torch.tensor([0.1, 0.5, 0.9, 0.3])
    output = torch.tensor([[0.2], [0.4], [0.7], [0.6]])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        facts["mse"]["torch (B,)"] = float(torch.nn.functional.mse_loss(output, target))
        facts["mse"]["torch batch 1 (B,)"] = float(
            torch.nn.functional.mse_loss(output[:1], target[:1])
        )
    facts["torch_warning"] = str(caught[0].message).split(". ")[0] if caught else "(none)"
    facts["loader_shuffle"] = inspect.signature(DataLoader).parameters["shuffle"].default
    x = torch.rand(4, 12, 1)
    module.train()
    in_train = module(x)
    with torch.no_grad():
        without_graph = module(x)
        module.eval()
        facts["train_eval_gap"] = float((module(x) - in_train).abs().max())
    facts["requires_grad"] = (in_train.requires_grad, without_graph.requires_grad)


def measure() -> Facts:
    """Build each program's model and optimizer once and measure every fact the page shows."""
    from compare.frameworks import both

    both()  # torch before TensorFlow
    raw: dict = {}
    _keras_facts(raw)
    _torch_facts(raw)
    return Facts(
        keras_params=raw["keras_params"],
        torch_params=raw["torch_params"],
        keras_initialisers=raw["keras_initialisers"],
        keras_bias_max=raw["keras_bias_max"],
        keras_orthogonality=raw["keras_orthogonality"],
        torch_bound=raw["torch_bound"],
        torch_max=raw["torch_max"],
        epsilons=(raw["keras_epsilon"], raw["torch_epsilon"]),
        first_steps={g: (raw["keras_steps"][g], raw["torch_steps"][g]) for g in raw["keras_steps"]},
        shuffle_defaults=(raw["fit_shuffle"], raw["loader_shuffle"]),
        mse=raw["mse"],
        torch_warning=raw["torch_warning"],
        requires_grad=raw["requires_grad"],
        train_eval_gap=raw["train_eval_gap"],
        keras_predict_type=raw["keras_predict_type"],
    )


def render_facts(facts: Facts) -> str:
    """The page's closing section: each difference, its measured numbers, and why."""
    k_rnn, k_dense = facts.keras_params.values()
    t_rnn, t_dense = facts.torch_params.values()
    inits = ", ".join(f"{name} {cls}" for name, cls in facts.keras_initialisers.items())
    torch_max = ", ".join(f"{name} {value:.3f}" for name, value in facts.torch_max.items())
    k_eps, t_eps = facts.epsilons
    steps = "; ".join(
        f"gradient {gradient:g}: Keras {k:.3g}, torch {t:.3g}"
        for gradient, (k, t) in facts.first_steps.items()
    )
    mse = facts.mse
    fit_shuffle, loader_shuffle = facts.shuffle_defaults
    plain, no_grad = facts.requires_grad
    return "\n".join(
        [
            "## What differs and why (measured when this page was generated)",
            "",
            f"- **One bias vs two.** SimpleRNN(3) has {k_rnn} parameters, nn.RNN(1, 3) has "
            f"{t_rnn} (Dense {k_dense}, nn.Linear {t_dense}): torch adds `bias_hh` to `bias_ih`. "
            "Only their sum matters, so a Keras model ports to torch with `bias_hh` = 0 (the "
            "canonical format's `c`); the reverse port adds the two.",
            f"- **Initialisers.** Keras: {inits}; a fresh model's biases have max |b| = "
            f"{facts.keras_bias_max:g} and its recurrent kernel is orthogonal "
            f"(max |U U^T - I| = {facts.keras_orthogonality:.1e}). torch draws every parameter, "
            f"biases included, uniformly within +-1/sqrt(3) = {facts.torch_bound:.3f} (max |value|:"
            f" {torch_max}). Same seed, different first weights: the two programs never start "
            "from the same point, so their RMSEs differ run to run.",
            f"- **Adam's epsilon, and where it sits.** Keras {k_eps:g}, torch {t_eps:g}. Keras "
            "adds it to sqrt(v) before bias correction, torch after, so Keras's acts "
            "1/sqrt(1 - beta2^t) times larger early on. First step, in units of the learning "
            f"rate: {steps}. With usual gradients the two agree; with tiny ones Keras barely "
            "moves.",
            f"- **Shuffling.** `Model.fit(shuffle=...)` defaults to {fit_shuffle}; "
            f"`DataLoader(shuffle=...)` to {loader_shuffle} (no shuffling), so the Lightning "
            "program asks for `shuffle=True`. The orders still differ: each framework draws its "
            "own.",
            f"- **The target's shape.** The tutorial's own Y is (samples,), the model's output "
            f"(samples, 1). For 4 samples the true MSE is {mse['true']:.4f}; Keras reshapes and "
            f"gets {mse['keras (B,)']:.4f}; torch's MSELoss broadcasts (4, 1) against (4,) to "
            f"(4, 4) and gets {mse['torch (B,)']:.4f}, with only a warning "
            f'("{facts.torch_warning}"). At batch size 1 the broadcast is harmless '
            f"({mse['torch batch 1 (B,)']:.4f}), which hides it until the batch grows. Both "
            "programs use `shared`'s windows, whose Y is already (samples, 1).",
            f"- **eval() and no_grad().** Keras's `predict` runs in inference mode and returns "
            f"a numpy `{facts.keras_predict_type}`. A plain torch call builds an autograd graph "
            f"(requires_grad {plain}); under `no_grad()` it does not ({no_grad}). `eval()` "
            f"changes nothing for nn.RNN + nn.Linear (max difference "
            f"{facts.train_eval_gap:g}) but does for dropout or batch norm, so predictions "
            "belong under both.",
        ]
    )
