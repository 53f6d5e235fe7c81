"""The docs' generated tables are as the declarations say (tools/docs_tables.py): a flag, an
environment variable or an operation's permission changed in the code and not in the docs
fails here, with the command that writes them."""

from __future__ import annotations

import pytest

from tests.docs import page
from tools.docs_tables import TABLES, written


@pytest.mark.parametrize("name", sorted(TABLES))
def test_a_generated_table_is_as_its_declarations_say(name: str) -> None:
    where, _ = TABLES[name]
    text = page(where)
    assert written(name, text) == text, f"docs/{where}: run python tools/docs_tables.py"


def test_every_flag_has_its_row_and_its_words() -> None:
    """What generation cannot know: that each option was given its docs."""
    from mockgraph.config import OPTIONS

    for option in OPTIONS:
        assert option.doc, f"{option.flag} has no doc"
        assert f"`{option.env}" in page("reference/command-line.md")
