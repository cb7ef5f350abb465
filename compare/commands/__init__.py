"""The doors: one module per subcommand of `rnn-parity`, named after it.

Each module exposes `add_arguments(parser)` and `run(args) -> int`: argument parsing and the run
of the subcommand, nothing else. What a command computes lives in its room (port, study, bench,
report, learn); frameworks load inside `run`, so `rnn-parity --help` stays instant.
"""
