"""compare: the only package that uses both frameworks. One room (subpackage) per question.

    port/     Do the weights map? Keras <-> torch in memory and file to file through the
              canonical format, forward agreement against the numpy reference, `port`, `check`.
    study/    Do they learn alike? The RMSE study and its presets, baselines, training parity,
              the experiment grid (units, time steps, layers); each run becomes a record.
    bench/    How fast is each? The speed study's variants, worker processes, timing and
              equal-work verdicts; each variant becomes a record.
    report/   What does it say? Renders report.md, report.json and plots from records alone
              (never a framework), and holds the commands that end in a report (`report`,
              `bench`, `experiment`), which plan the other rooms' jobs.
    learn/    For learners: the tutorial's hand computation across frameworks (`walkthrough`)
              and the data summary (`data`).

What every room shares sits at the top: `cli` (the command line), `frameworks` (lazy imports,
torch first), `jobs` (describable jobs, run in a pool of worker processes, each record cached
under a hash of what determines it) and `records` (the JSON records, the only thing the report
reads). `testing` is public API for users' own test suites (`assert_same_outputs`), a thin name
for what `port/testing.py` implements; like `cli`, nothing in compare imports it. Dependencies
point one way, report -> bench -> study -> port -> the
shared modules, with learn beside study; pyproject.toml declares this as import-linter
contracts and tests/test_layers.py checks them, so a wrong-way import fails CI.

Why rooms by question: a contributor asking "where does the speed study live, and what may I
change without touching the report?" finds compare/bench/, and the answer "anything the records
do not carry" follows from the report reading nothing else.
"""
