"""What does it say? The report, rendered from records alone.

`summary` computes the numbers (report.json), `render` writes report.md, `plots` draws the PNGs;
`speed/` and `experiment/` render the speed study and the experiment grid. Nothing in this room
imports a framework or another room (an import-linter contract names the whole package): it
reads JSON. The commands that plan jobs and end here are doors in `compare.commands`.
"""
