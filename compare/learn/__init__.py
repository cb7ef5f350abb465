"""For learners: the tutorial across frameworks, and a look at the data.

`walkthrough` prints each framework's weights beside the canonical ones and h1, h2, h3 by hand,
for LSTM and GRU every gate (`gates`, with the slice -> gate tables of `gate_tables`), and with
--side-by-side the tutorial's two programs (keras_impl/tutorial.py and torch_impl/tutorial.py)
step by step (`tutorial_page`, measured by `tutorial_facts`); `notebooks` writes the programs
and the gated walkthrough as Jupyter notebooks; `data_summary` summarises the series, its split,
scaling and windows. Their commands are doors in `compare.commands`.
"""
