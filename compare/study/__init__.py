"""Do they learn alike? Training experiments in both frameworks, each run one JSON record.

`presets` holds the data steps (the tutorial's and the sliding-window variant) and one training
run per framework and seed; `baselines` the persistence and linear-AR forecasts the RNNs must
beat; `parity` trains both frameworks from one start on the same batches and records how far
they drift, with every known difference removed and each put back alone; `experiment` plans
the grid the tutorial invites (units, time steps, stacked layers, kinds) in both frameworks.
"""
