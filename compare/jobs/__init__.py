"""The job runner: every measurement of every room runs as a job through here.

`runner` plans nothing: it takes jobs, runs them on a pool of worker processes or a Dask
cluster (`cluster`, each job in a process of its own: `process`), keeps a cache of their
records, shows a progress bar (`progress`) and turns Ctrl-C into one line (`interrupt`).
"""
