"""Turning a learner's notebook into one Python file, the way the kernel would run it."""

from __future__ import annotations

from grader.runner.source import SubmissionError


def _neutralise(line: str) -> str:
    stripped = line.lstrip()
    if stripped.startswith(("%", "!")):
        indent = line[: len(line) - len(stripped)]
        return f"{indent}pass  # grade: IPython line left out: {stripped[:60]}"
    return line


def notebook_source(text: str) -> str:
    """Code cells joined in order; magics and shell escapes become `pass` with a note."""
    import nbformat

    try:
        notebook = nbformat.reads(text, as_version=4)
    except Exception as exc:  # nbformat raises many kinds for a non-notebook
        raise SubmissionError(
            f"this is not a readable Jupyter notebook ({type(exc).__name__}); "
            "open it in Jupyter and save it again"
        ) from None
    cells = [c.source for c in notebook.cells if c.cell_type == "code"]
    joined = []
    for cell in cells:
        if cell.lstrip().startswith("%%"):
            joined.append("# grade: a %% cell magic cell was left out")
            continue
        joined.append("\n".join(_neutralise(line) for line in cell.splitlines()))
    return "\n\n".join(joined) + "\n"
