"""What does it say? The report, rendered from records alone, and the commands that end in it.

`summary` computes the numbers (report.json), `render` writes report.md, `plots` and
`speed_plots` draw the PNGs, `speed` and `speed_records` read the speed study's records. None of
these imports a framework or another room: they read JSON. `command` (`rnn-parity report`),
`bench_command` (`rnn-parity bench`) and `experiment_command` (`rnn-parity experiment`) plan
jobs from the study and bench rooms, run them through `compare.jobs`, then render;
`experiment_render` and `experiment_plots` draw the experiment's page from experiment.json.
"""
