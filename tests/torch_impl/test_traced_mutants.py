"""The chain tracer's own refusals, each with a test of its own (not only the port's backstop).

An audit planted three mutants in the fx reader that the whole suite once passed, since only the
verification against the user's forward caught them. Each pattern is refused here, by the reader
itself, naming what it read: `h_n[0]` of a two-layer module (layer 0's state, not the last
layer's), `cat((h_n[-1], h_n[-2]))` (the directions swapped), and a learned initial state passed
as `hx=` (never dropped silently, whatever the keyword).
"""

from __future__ import annotations

import pytest

from tests.user_graph_nets import FirstLayerState, LearnedInitialState, SwappedDirections
from torch_impl.reading.traced import GrammarError
from torch_impl.reading.traced_model import trace_module


@pytest.mark.parametrize(
    ("module", "words"),
    [
        (FirstLayerState, r"h_n row of layer 0, direction 0 of self.lstm .* is not the last layer"),
        (SwappedDirections, r"only torch.cat\(\(h_n\[-2\], h_n\[-1\]\), dim=1\) ports"),
        (LearnedInitialState, r"initial state of self.gru is not zeros"),
    ],
    ids=["h_n[0] of two layers", "directions swapped", "learned hx="],
)
def test_the_chain_reader_refuses_what_it_would_misread(module, words):
    with pytest.raises(GrammarError, match=words) as caught:
        trace_module(module(), 5)
    assert "\n" not in str(caught.value)
