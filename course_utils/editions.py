"""Two editions made from the executed notebooks: a student edition and a static HTML edition.

Student edition (`make student`): every exercise solution, written between the lines
`### BEGIN SOLUTION` and `### END SOLUTION` (nbgrader's convention), is replaced by a stub that
raises NotImplementedError; outputs are cleared; the checks stay, so each one fails until the
learner fills in the exercise.

HTML edition (`make html`): every notebook rendered with its outputs and figures (widgets keep
their last image; static figures stand beside them), with previous/next links and an index page
in course order.
"""
from __future__ import annotations

import html
import re
from pathlib import Path

from course_utils import course

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB_MESSAGE = "Exercise: replace this line with your solution"
_MARKER = re.compile(r"^(?P<indent>[ \t]*)### (?P<kind>BEGIN|END) SOLUTION[ \t]*$")


def strip_solutions(source: str) -> tuple[str, int]:
    """Replace each solution block of a code cell's source by a stub; return (new source, blocks replaced).

    The stub keeps the indentation of the BEGIN line, so a solution inside a function body
    becomes a function that raises. Unpaired or nested markers raise ValueError.
    """
    out: list[str] = []
    inside = False
    blocks = 0
    for number, line in enumerate(source.split("\n"), start=1):
        match = _MARKER.match(line)
        if match and match["kind"] == "BEGIN":
            if inside:
                raise ValueError(f"line {number}: {BEGIN} inside another solution block")
            inside = True
            indent = match["indent"]
            out += [f"{indent}# YOUR CODE HERE", f'{indent}raise NotImplementedError("{STUB_MESSAGE}")']
        elif match:
            if not inside:
                raise ValueError(f"line {number}: {END} without a {BEGIN} before it")
            inside = False
            blocks += 1
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"a {BEGIN} block is never closed with {END}")
    return "\n".join(out), blocks


def student_notebook(nb):
    """A copy of `nb` with solutions stubbed, outputs cleared and a note in the title cell."""
    import copy

    student = copy.deepcopy(nb)
    total = 0
    for cell in student.cells:
        if cell.cell_type != "code":
            continue
        cell.source, blocks = strip_solutions(cell.source)
        total += blocks
        cell.outputs = []
        cell.execution_count = None
        cell.metadata.pop("execution", None)
    student.metadata.pop("widgets", None)
    if total and student.cells and student.cells[0].cell_type == "markdown":
        student.cells[0].source += (f"\n\n> **Student edition.** The {total} exercise solution(s) are replaced by "
                                    "`raise NotImplementedError(...)`: write your own, then run the check below each one.")
    return student


def write_student_edition(paths: list[Path], out_dir: Path) -> list[Path]:
    """Write the student edition of each notebook to out_dir (same file names) and a README; return the paths."""
    import nbformat

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in paths:
        target = out_dir / path.name
        nbformat.write(student_notebook(nbformat.read(path, as_version=4)), target)
        written.append(target)
    (out_dir / "README.md").write_text(
        "# Student edition\n\n"
        "These notebooks are the course's notebooks with every exercise solution replaced by a stub that\n"
        "raises `NotImplementedError`, and with outputs cleared. Each exercise's check fails until the\n"
        "exercise is filled in.\n\n"
        "Give them to learners in place of `notebooks/` in a copy of the course (so that `make lab` and the\n"
        "setup cell find `course_utils` and the data), or open them from here in the course's environment.\n"
        "Made by `make student`; do not edit them here: edit the full notebooks and run it again.\n",
        encoding="utf-8")
    return written


# --- the static HTML edition -----------------------------------------------------------------

def _nav(prev_page: tuple[str, str] | None, next_page: tuple[str, str] | None) -> str:
    parts = []
    if prev_page:
        parts.append(f'<a rel="prev" href="{prev_page[0]}">&larr; {html.escape(prev_page[1])}</a>')
    parts.append('<a href="index.html">Course map</a>')
    if next_page:
        parts.append(f'<a rel="next" href="{next_page[0]}">{html.escape(next_page[1])} &rarr;</a>')
    return ('<nav class="course-nav" style="display:flex;gap:2em;justify-content:center;padding:0.8em;'
            'font-family:sans-serif;border-bottom:1px solid #ddd">' + "".join(parts) + "</nav>")


def _page_title(stem: str) -> str:
    entry = next((nb for nb in course.NOTEBOOKS if nb.stem == stem), None)
    return f"{entry.number:02d} · {entry.title}" if entry else stem


def write_html_edition(paths: list[Path], out_dir: Path) -> list[Path]:
    """Render each executed notebook to out_dir/<stem>.html with navigation, plus out_dir/index.html."""
    import nbformat
    from nbconvert import HTMLExporter

    out_dir.mkdir(parents=True, exist_ok=True)
    exporter = HTMLExporter(template_name="lab")
    pages = [(f"{p.stem}.html", _page_title(p.stem)) for p in paths]
    written = []
    for i, path in enumerate(paths):
        body, _ = exporter.from_notebook_node(nbformat.read(path, as_version=4))
        nav = _nav(pages[i - 1] if i > 0 else None, pages[i + 1] if i + 1 < len(pages) else None)
        body = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + nav, body, count=1)
        body = body.replace("</body>", nav + "</body>", 1)
        target = out_dir / pages[i][0]
        target.write_text(body, encoding="utf-8")
        written.append(target)
    rows = []
    available = {p.stem for p in paths}
    for nb in course.NOTEBOOKS:
        name = html.escape(f"{nb.number:02d} · {nb.title}")
        link = f'<a href="{nb.stem}.html">{name}</a>' if nb.stem in available else f"{name} <em>(in preparation)</em>"
        rows.append(f"<tr><td>{link}</td><td>{html.escape(nb.summary)}</td><td>{html.escape(nb.without_gpu)}</td></tr>")
    first = f'<p><a rel="next" href="{pages[0][0]}">Start with {html.escape(pages[0][1])} &rarr;</a></p>' if pages else ""
    index = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(course.COURSE_TITLE)}</title>"
             "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.5}"
             "td{padding:0.3em 0.8em;vertical-align:top;border-bottom:1px solid #eee}</style></head><body>"
             f"<h1>{html.escape(course.COURSE_TITLE)}</h1>"
             "<p>The static edition: every notebook with its outputs, as executed by the course's test suite. "
             f'To run them, open them in JupyterLab (<code>make lab</code>) or in Colab (<a href="{course.REPO_URL}">'
             "the repository</a>).</p>"
             f"{first}<table><tr><th>notebook</th><th>what it teaches</th><th>without a GPU</th></tr>"
             + "".join(rows) + "</table></body></html>")
    (out_dir / "index.html").write_text(index, encoding="utf-8")
    return written
