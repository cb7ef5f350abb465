"""For learners: the tutorial across frameworks, and a look at the data.

`walkthrough` prints each framework's weights beside the canonical ones and h1, h2, h3 by hand,
and with --side-by-side the tutorial's two programs (keras_impl/tutorial.py and
torch_impl/tutorial.py) step by step (`tutorial_page`, measured by `tutorial_facts`);
`data_command` summarises the series, its split, scaling and windows.
"""
