"""The documentation the suite holds to its word: the README and every page under ``docs/``.
Tests find an example by its marker wherever it lives (``DOCS``), or read one page (``page``)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def page(name: str) -> str:
    """One page of ``docs/``, e.g. ``page("reference/scenarios.md")``."""
    return (ROOT / "docs" / name).read_text(encoding="utf-8")


PAGES = {
    path.relative_to(ROOT / "docs").as_posix(): path.read_text(encoding="utf-8")
    for path in sorted((ROOT / "docs").rglob("*.md"))
}
DOCS = "\n\n".join([README, *PAGES.values()])
