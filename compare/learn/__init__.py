"""For learners: the tutorial's first part across frameworks, and a look at the data.

`walkthrough` prints each framework's weights beside the canonical ones and h1, h2, h3 by hand;
`data_command` summarises the series, its split, scaling and windows.
"""
