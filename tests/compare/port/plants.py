"""Mis-reads planted in the torch reader, to show a port's check against the source has teeth."""

from __future__ import annotations

import dataclasses
from typing import Any


def plant_final_readout(torch_impl: Any, monkeypatch: Any) -> None:
    """After tracing, read the last layer as its final states (the old guess for a
    bidirectional `out[:, -1]`: cat(h_n[-2], h_n[-1])), whatever the forward reads."""
    trace_module = torch_impl.trace_module

    def planted(module: Any, time_steps: int) -> Any:
        traced = trace_module(module, time_steps)
        spec = traced.weights.spec
        layers = (*spec.layers[:-1], dataclasses.replace(spec.layers[-1], return_sequences=False))
        wrong = dataclasses.replace(spec, layers=layers, readout="final")
        traced.weights = dataclasses.replace(traced.weights, spec=wrong)
        return traced

    monkeypatch.setattr(torch_impl, "trace_module", planted)


def plant_zero_output_misread(monkeypatch: Any) -> None:
    """The Keras graph reader reads every recurrent node's zero_output_for_mask as False: the
    silent mis-port the chain reader once made, planted where the graph reads it."""
    from keras_impl.graph.translators.recurrent import RecurrentTranslator

    read = RecurrentTranslator.kind_of.__func__

    def planted(cls: Any, layer: Any) -> Any:
        kind = read(cls, layer)
        if kind.bidirectional:
            return kind
        return dataclasses.replace(kind, zero_output_for_mask=False)

    monkeypatch.setattr(RecurrentTranslator, "kind_of", classmethod(planted))
