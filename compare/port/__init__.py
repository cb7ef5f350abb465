"""Do the weights map? Porting between Keras, torch and files, and checking that they agree.

Everything goes through the canonical weight format of `shared.weights`: each impl translates
its own layout, this room never names a framework's parameters. `agreement` measures outputs
and every hidden state against the numpy reference; `files` ports file to file and verifies
before anything lands; `user_files` reads what users have (their own torch state dicts,
Lightning checkpoints, .safetensors, legacy Keras .h5); `module_port` ports a live nn.Module
by tracing its forward and checks the port against that forward, `divergence` says where two
computations first part; `testing` holds the
assertion behind `compare.testing`; `agreement_rows` are the report's forward-agreement jobs.
The CLI's `port` and `check` are doors in `compare.commands`.
"""

from compare.port.files import (
    FORMATS,
    PortResult,
    file_format,
    keras_to_torch,
    load_weights,
    port_file,
    predict_file,
    save_weights,
    torch_to_keras,
)
from compare.port.module_port import port_with_module, torch_module_to_keras
from compare.port.user_files import Assumptions, read_source

__all__ = [
    "FORMATS",
    "Assumptions",
    "PortResult",
    "file_format",
    "keras_to_torch",
    "load_weights",
    "port_file",
    "port_with_module",
    "predict_file",
    "read_source",
    "save_weights",
    "torch_module_to_keras",
    "torch_to_keras",
]
