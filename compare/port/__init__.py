"""Do the weights map? Porting between Keras, torch and files, and checking that they agree.

Everything goes through the canonical weight format of `shared.weights`: each impl translates
its own layout, this room never names a framework's parameters. `agreement` measures outputs
and every hidden state against the numpy reference; `files` ports file to file and verifies
before anything lands; `command` and `check_command` are the CLI's `port` and `check`.
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

__all__ = [
    "FORMATS",
    "PortResult",
    "file_format",
    "keras_to_torch",
    "load_weights",
    "port_file",
    "predict_file",
    "save_weights",
    "torch_to_keras",
]
