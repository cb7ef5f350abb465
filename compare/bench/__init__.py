"""How fast is each framework? The speed study: variants, worker processes, timing, equal work.

`variants` is the catalogue (plain data: no framework import), `worker` measures one variant in
a fresh process, `timing` holds the timing primitives, `process` starts workers, `equal_work`
judges that a faster variant still reaches its default's results, and `plan` turns a request
into jobs whose results are `bench_run` records.
"""
