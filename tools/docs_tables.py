"""The docs' tables that are facts of the code, written from the declarations: the flags and
environment variables (``mockgraph.config.OPTIONS``) and the permissions of each operation
(``mockgraph.calling.operations``). ``python tools/docs_tables.py`` rewrites them in place;
``--check`` exits 1, naming the page, if one is out of date (the suite runs that check).

A generated table sits between ``<!-- generated: NAME ... -->`` and ``<!-- end of generated
NAME -->`` in its page; everything around it is written by hand.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

from mockgraph.calling.operations import OPERATIONS
from mockgraph.config import OPTIONS, Option
from mockgraph.identity.permissions import ANY_CALLING, NONE_NEEDED

DOCS = Path(__file__).parents[1] / "docs"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _flag(option: Option) -> str:
    shown = f"{option.flag} {option.metavar}" if option.metavar else option.flag
    return _cell(f"`{shown}`")


def _env(option: Option) -> str:
    value = {"switch": "=1", "off-switch": "=0"}.get(option.kind, "")
    note = f" {option.env_doc}" if option.env_doc else ""
    return _cell(f"`{option.env}{value}`{note}")


def flags() -> str:
    rows = [
        f"| {_flag(o)} | {_env(o)} | {_cell(o.default_doc)} | {_cell(o.doc)} |" for o in OPTIONS
    ]
    return "\n".join(["| flag | env var | default | meaning |", "|---|---|---|---|", *rows])


def permissions() -> str:
    rows = []
    for operation in OPERATIONS:
        if operation.route is None:
            continue
        if operation.permissions == ANY_CALLING:
            allowed = "any calling permission (the page names none)"
        elif operation.permissions == NONE_NEEDED:
            allowed = "none"
        else:
            allowed = ", ".join(f"`{name}`" for name in sorted(operation.permissions))
        rows.append(f"| `{operation.name}` | {allowed} |")
    return "\n".join(["| operation | application permissions |", "|---|---|", *rows])


TABLES: dict[str, tuple[str, Callable[[], str]]] = {
    "flags": ("reference/command-line.md", flags),
    "permissions": ("how-to/real-credentials.md", permissions),
}


def _block(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"(<!-- generated: {name} [^\n]*-->\n)(.*?)(\n<!-- end of generated {name} -->)", re.S
    )


def written(name: str, text: str) -> str:
    """``text`` (a page) with its table ``name`` as the declarations say it now."""
    pattern = _block(name)
    if not pattern.search(text):
        raise ValueError(f"no '<!-- generated: {name}' block")
    table = TABLES[name][1]()
    return pattern.sub(lambda m: m.group(1) + table + m.group(3), text, count=1)


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for name, (page, _) in TABLES.items():
        path = DOCS / page
        text = path.read_text(encoding="utf-8")
        new = written(name, text)
        if new != text:
            if check:
                stale.append(f"{path}: the {name} table is out of date")
            else:
                path.write_text(new, encoding="utf-8")
    for line in stale:
        print(line, file=sys.stderr)
    if stale:
        print("run: python tools/docs_tables.py", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
