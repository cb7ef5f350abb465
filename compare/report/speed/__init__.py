"""The speed study's pages, from its records alone: tables, findings, plots, two studies compared.

`records` reads and summarises the bench records, `findings` words the verdicts, `render` writes
the Markdown section, `plots` draws the PNGs and `versus` sets two report.json files side by side.
"""
