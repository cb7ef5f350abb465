"""The PyTorch Lightning implementation: build, train, port and save the spec'd recurrent model.

Everything here reads the framework-neutral specs and canonical weights in `shared`, so its
results can be checked against the numpy reference and compared with `keras_impl` without
either implementation knowing about the other. It never imports Keras or TensorFlow. The
functions it shares with `keras_impl` are the twins `shared.twins.FrameworkSide` states
(tests/test_mirror.py checks both packages against it); the rest are torch's own.
"""

from torch_impl.compiled import CompilerMissingError, cpp_compiler, fit_compiled
from torch_impl.export import export_program, run_program
from torch_impl.graph import (
    GraphNet,
    build_graph_model,
    export_graph_program,
    graph_from_canonical,
    graph_predict,
    graph_set_canonical,
    graph_to_canonical,
    holds_graph,
    load_graph_model,
    read_graph,
    run_graph_program,
    save_graph_model,
)
from torch_impl.io import load_model, save_model
from torch_impl.model import build_model, create_rnn, spec_of
from torch_impl.reading import ModuleReading, read_module_graph
from torch_impl.reading.traced_model import (
    TracedModel,
    module_outputs,
    trace_module,
    traced_outputs,
    traced_parts,
)
from torch_impl.reading.user_class import import_class, module_from_file
from torch_impl.reading.user_models import (
    Inferred,
    canonical_from_state_dict,
    read_canonical,
    read_state_dict,
)
from torch_impl.train import fit, fit_plain, predict
from torch_impl.weights import from_canonical, native_weights, set_canonical, to_canonical

__all__ = [
    "CompilerMissingError",
    "GraphNet",
    "Inferred",
    "ModuleReading",
    "TracedModel",
    "build_graph_model",
    "build_model",
    "canonical_from_state_dict",
    "cpp_compiler",
    "create_rnn",
    "export_graph_program",
    "export_program",
    "fit",
    "fit_compiled",
    "fit_plain",
    "from_canonical",
    "graph_from_canonical",
    "graph_predict",
    "graph_set_canonical",
    "graph_to_canonical",
    "holds_graph",
    "import_class",
    "load_graph_model",
    "load_model",
    "module_from_file",
    "module_outputs",
    "native_weights",
    "predict",
    "read_canonical",
    "read_graph",
    "read_module_graph",
    "read_state_dict",
    "run_graph_program",
    "run_program",
    "save_graph_model",
    "save_model",
    "set_canonical",
    "spec_of",
    "to_canonical",
    "trace_module",
    "traced_outputs",
    "traced_parts",
]
