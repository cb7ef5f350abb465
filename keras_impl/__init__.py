"""The Keras implementation of rnn-parity: build, translate, train, predict, save and load.

Its twin functions have the same names and signatures in `torch_impl`, so `compare/` can run
either framework through one interface (`shared.twins.FrameworkSide` states the twins;
tests/test_mirror.py holds both packages to it); `part_outputs` is Keras's own, since a torch
source is read part by part from its traced forward instead. Models are plain `keras.Model`s
(no subclass), so what a Keras user builds by hand is handled exactly like what `build_model`
builds, and what `build_model` returns is an ordinary model a Keras user can keep using.

The backend is pinned to TensorFlow (unless the caller already chose one) and TensorFlow's C++
logging is silenced before Keras is first imported, because both are read at import time.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from keras_impl.graph import (  # noqa: E402
    build_graph_model,
    graph_from_canonical,
    graph_node_outputs,
    graph_predict,
    graph_set_canonical,
    graph_to_canonical,
    load_graph_model,
    read_graph,
    save_graph_model,
)
from keras_impl.io import load_model, save_model  # noqa: E402
from keras_impl.model import build_model, create_rnn  # noqa: E402
from keras_impl.parts import part_outputs  # noqa: E402
from keras_impl.reading import spec_of  # noqa: E402
from keras_impl.train import fit, predict  # noqa: E402
from keras_impl.weights import (  # noqa: E402
    from_canonical,
    native_weights,
    set_canonical,
    to_canonical,
)

__all__ = [
    "build_graph_model",
    "build_model",
    "create_rnn",
    "fit",
    "from_canonical",
    "graph_from_canonical",
    "graph_node_outputs",
    "graph_predict",
    "graph_set_canonical",
    "graph_to_canonical",
    "load_graph_model",
    "load_model",
    "native_weights",
    "part_outputs",
    "predict",
    "read_graph",
    "save_graph_model",
    "save_model",
    "set_canonical",
    "spec_of",
    "to_canonical",
]
