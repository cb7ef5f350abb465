"""The learner's side-by-side page: the tutorial's Keras program beside its Lightning twin.

`keras_impl/tutorial.py` and `torch_impl/tutorial.py` mark each tutorial step with the same
comment ("# Step 4: create RNN model and train"). This module cuts both programs into those steps
from their source at run time, so the page always quotes the code that runs, checks that the two
programs still have the same steps in the same order, and closes with what differs between the
frameworks and why, measured just now (`compare.learn.tutorial_facts`).

How a step's code is found, with Python's own parser rather than by counting lines:
- a marker inside a function (`main`) takes the statements after it, up to the next marker or
  the end of that function;
- a marker at module level takes the one definition right after it (`create_RNN`, the
  LightningModule), shown at the top of its step.
"""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
from dataclasses import dataclass

from compare.learn.gate_tables import table_markdown
from shared.errors import RnnParityError

MARKER = re.compile(r"^(?P<indent>[ ]*)# (?P<title>(?P<key>(?:Part|Step) [^:]+): .+)$")
PROGRAMS = {"keras": "keras_impl.tutorial", "torch": "torch_impl.tutorial"}
COMMANDS = {
    name: f"python -m {module} [--epochs 20] [--seed 0] [--out DIR]"
    for name, module in PROGRAMS.items()
}

# One line per step on what the learner should notice; the numbers are in the closing section.
STEP_NOTES = {
    "Part 1a": "Keras's SimpleRNN has one bias and keeps kernels as (inputs, units); nn.Linear "
    "keeps (units, inputs) and each has its own bias, so torch's RNN has two. nn.RNN offers only "
    "tanh and relu, so the linear demo is an explicit loop.",
    "Part 1b": "Keras's formulas use row vectors (x @ W); torch's layout reads as column vectors "
    "(W @ x). Same numbers, transposed.",
    "Step 1, 2": "Identical: both programs read the same numpy arrays from `shared`.",
    "Step 3": "Identical. The windows' Y is (samples, 1), the model's output shape; see the "
    "target shape below for why that matters in torch.",
    "Step 4": "Keras: build, compile, fit. Lightning: the model, its loss and its optimizer live "
    "in a LightningModule; the data in a DataLoader; the loop in a Trainer.",
    "Step 5": "Keras's predict runs in inference mode and returns numpy; torch needs eval(), "
    "no_grad() and a tensor round trip.",
    "Step 6": "Identical matplotlib code.",
}


class TutorialPageError(RnnParityError):
    """The two tutorial programs no longer have the same steps, so no page can pair them."""


@dataclass(frozen=True)
class Step:
    """One marked stretch of a program: its marker's title and its dedented source."""

    key: str  # "Step 4"
    title: str  # "Step 4: create RNN model and train"
    code: str  # the marker line and its statements, dedented
    top_level: bool  # a definition at module level, not a stretch of main()


def _enclosing_body(tree: ast.Module, line: int, indent: int) -> list[ast.stmt]:
    """The statement list a comment at (line, indent) sits in: the module's, or the innermost
    function's or class's whose statements start at that indentation."""
    if indent == 0:
        return tree.body
    blocks = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.ClassDef)
        and node.lineno < line <= node.end_lineno
        and node.body[0].col_offset == indent
    ]
    return max(blocks, key=lambda node: node.lineno).body if blocks else []


def split_steps(source: str, where: str = "program") -> list[Step]:
    """The program's marked steps in source order (see the module docstring for the rules).

    Raises:
        TutorialPageError: a marker that is followed by no statement in its block.
    """
    lines = source.splitlines()
    markers = [
        (number, match)
        for number, line in enumerate(lines, start=1)
        if (match := MARKER.match(line))
    ]
    marker_lines = [number for number, _ in markers]
    tree = ast.parse(source)
    steps = []
    for number, match in markers:
        indent = len(match["indent"])
        body = _enclosing_body(tree, number, indent)
        following = [stmt for stmt in body if stmt.lineno > number]
        later = [line for line in marker_lines if line > number]
        if later:
            following = [stmt for stmt in following if stmt.lineno < later[0]]
        if not following:
            raise TutorialPageError(f"{where}, line {number}: {match['title']!r} marks no code")
        if not indent:
            following = following[:1]  # a module-level marker names one definition
        end = following[-1].end_lineno
        code = textwrap.dedent("\n".join(lines[number - 1 : end])).rstrip()
        steps.append(Step(match["key"], match["title"], code, top_level=not indent))
    return steps


def setup_code(source: str) -> str:
    """What comes before the steps: the module's imports and main()'s arguments and seeds.

    Module-level statements from the first after the docstring up to the first marker, then
    main()'s lines up to its first marker, so no line of the program stays off the page.
    """
    lines = source.splitlines()
    tree = ast.parse(source)
    markers = [number for number, line in enumerate(lines, start=1) if MARKER.match(line)]
    body = tree.body[1:] if ast.get_docstring(tree) is not None else tree.body
    main = next(
        (node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "main"),
        None,
    )
    first = body[0].lineno
    ends = [m for m in markers if m > first] + [main.lineno if main else len(lines) + 1]
    parts = [lines[first - 1 : min(ends) - 1]]
    if main is not None:
        inside = [m for m in markers if main.lineno < m <= main.end_lineno]
        parts.append(lines[main.lineno - 1 : (inside[0] if inside else main.end_lineno + 1) - 1])
    return "\n\n...\n\n".join("\n".join(part).strip("\n") for part in parts)


def check_twins(keras_steps: list[Step], torch_steps: list[Step]) -> list[str]:
    """The shared step titles, in order; raise unless both programs have the same steps.

    Raises:
        TutorialPageError: naming the first step where the two programs' main() markers differ,
            or a module-level marker whose step main() does not have.
    """
    orders = {
        name: [step.title for step in steps if not step.top_level]
        for name, steps in (("keras", keras_steps), ("torch", torch_steps))
    }
    for index in range(max(len(order) for order in orders.values())):
        keras_title, torch_title = (
            order[index] if index < len(order) else "(none)" for order in orders.values()
        )
        if keras_title != torch_title:
            raise TutorialPageError(
                f"the tutorial programs' step {index + 1} differs: keras_impl/tutorial.py has "
                f"{keras_title!r}, torch_impl/tutorial.py has {torch_title!r}"
            )
    for name, steps in (("keras", keras_steps), ("torch", torch_steps)):
        for step in steps:
            if step.top_level and step.title not in orders[name]:
                raise TutorialPageError(
                    f"{PROGRAMS[name]}: the definition marked {step.title!r} belongs to no step "
                    f"of main()"
                )
    return orders["keras"]


def program_sources() -> dict[str, str]:
    """Each tutorial program's source text, read from the installed modules now."""
    import importlib

    from compare.frameworks import both

    both()  # torch before TensorFlow, then each program
    return {
        name: inspect.getsource(importlib.import_module(module))
        for name, module in PROGRAMS.items()
    }


def _step_code(steps: list[Step], title: str) -> str:
    """The step's module-level definition(s) first, then its stretch of main()."""
    parts = [step.code for step in steps if step.title == title and step.top_level]
    parts += [step.code for step in steps if step.title == title and not step.top_level]
    return "\n\n...\n\n".join(parts)


def _columns(keras_code: str, torch_code: str) -> list[str]:
    """A two-column HTML table holding one fenced Python block per framework."""
    return [
        "<table><tr><th>Keras</th><th>PyTorch Lightning</th></tr><tr><td>",
        "",
        "```python",
        keras_code,
        "```",
        "",
        "</td><td>",
        "",
        "```python",
        torch_code,
        "```",
        "",
        "</td></tr></table>",
        "",
    ]


def render_page(
    sources: dict[str, str] | None = None,
    facts_markdown: str | None = None,
    explained: list[dict] | None = None,
) -> str:
    """The whole page as Markdown.

    Args:
        sources: {"keras": source, "torch": source}; the programs' current source when None.
        facts_markdown: what differs and why; measured now with both frameworks when None.
        explained: summaries of `explain` records, for the closing "Why they train
            differently" (`compare.learn.factor_notes`); None: each factor in words only.

    Raises:
        TutorialPageError: the programs' steps no longer pair up (see `check_twins`).
    """
    sources = sources if sources is not None else program_sources()
    steps = {name: split_steps(source, PROGRAMS[name]) for name, source in sources.items()}
    titles = check_twins(steps["keras"], steps["torch"])
    from compare.learn.factor_notes import why_they_differ

    if facts_markdown is None:
        from compare.learn.tutorial_facts import measure, render_facts

        facts_markdown = render_facts(measure())
    parts = [
        "# The tutorial in Keras and in PyTorch Lightning, side by side",
        "",
        "The tutorial *Understanding Simple Recurrent Neural Networks in Keras*, whole, as two "
        "short programs: `keras_impl/tutorial.py` and the program a PyTorch Lightning user "
        "writes for the same job, `torch_impl/tutorial.py`. Each step below is cut from their "
        "source when this page is generated (`rnn-parity walkthrough --side-by-side`), so it "
        "shows the code that runs. Run them yourself:",
        "",
        "```",
        *COMMANDS.values(),
        "```",
        "",
        "The project's own engine, with its parity machinery, has its own page: "
        "`rnn-parity walkthrough --side-by-side --engine`.",
        "",
    ]
    parts += [
        "## Setup: imports, arguments and seeds",
        "",
        "Each framework's imports, and its one call that seeds every random generator it uses.",
        "",
        *_columns(setup_code(sources["keras"]), setup_code(sources["torch"])),
    ]
    for title in titles:
        key = MARKER.match(f"# {title}")["key"]
        parts += [f"## {title}", ""]
        if key in STEP_NOTES:
            parts += [STEP_NOTES[key], ""]
        parts += _columns(_step_code(steps["keras"], title), _step_code(steps["torch"], title))
    closing = [facts_markdown.rstrip(), "", *why_they_differ(explained)]
    return "\n".join(parts + gated_tables() + closing)


def gated_tables() -> list[str]:
    """The LSTM and GRU mapping tables: which slice of which array is which canonical gate."""
    parts = [
        "## Gated layers: which slice is which gate",
        "",
        "The tutorial's SimpleRNN has one gate; LSTM and GRU keep theirs side by side in one "
        "array, in orders that differ between the frameworks. H is the number of units; Keras "
        "slices columns (`kernel` is (inputs, gates*H)), torch slices rows of (gates*H, inputs) "
        "and transposes (`.T`). `rnn-parity walkthrough --kind lstm|gru` prints these tables "
        "for a real model, checked against its arrays, and every gate by hand.",
        "",
    ]
    variants = [
        ("lstm", True, "LSTM: Keras i, f, c, o and one bias; torch i, f, g, o and two"),
        ("gru", True, "GRU, reset_after=True (Keras 3's default, equal to nn.GRU)"),
        ("gru", False, "GRU, reset_after=False: one bias, reset before the product; nn.GRU "
         "cannot run it, rnn-parity's torch side uses an exact loop"),
    ]  # fmt: skip
    for kind, reset_after, title in variants:
        parts += [f"### {title}", "", *table_markdown(kind, reset_after), ""]
    return parts
