"""The docs' generated tables are as the declarations say (tools/docs_tables.py): a flag, an
environment variable, an operation, a control route, a scenario key or a built-in scenario
changed in the code and not in the docs fails here, with the command that writes them. And
what generation cannot know: that each declaration was given its words."""

from __future__ import annotations

import inspect

import pytest

from mockgraph.calling.operations import OPERATIONS
from mockgraph.config import OPTIONS
from mockgraph.http.control_routes import CONTROL_ROUTES
from mockgraph.scenarios.loader import load_library, scenario_schema
from tests.docs import page
from tools.docs_tables import TABLES, written


@pytest.mark.parametrize("name", sorted(TABLES))
def test_a_generated_table_is_as_its_declarations_say(name: str) -> None:
    where, _ = TABLES[name]
    text = page(where)
    assert written(name, text) == text, f"docs/{where}: run python tools/docs_tables.py"


def test_every_flag_has_its_row_and_its_words() -> None:
    """What generation cannot know: that each option was given its docs."""
    for option in OPTIONS:
        assert option.doc, f"{option.flag} has no doc"
        assert f"`{option.env}" in page("reference/command-line.md")


def test_every_control_route_says_what_it_answers() -> None:
    for route in CONTROL_ROUTES:
        assert route.doc, f"{route.method} {route.path}: its handler has no docstring"


def test_every_rule_and_answer_of_an_operation_has_its_words() -> None:
    for operation in OPERATIONS:
        for rule in operation.rules:
            assert inspect.getdoc(rule), f"{operation.name}: a rule with no docstring"
        body = operation.success.body
        assert body is None or body.doc, f"{operation.name}: its answer's view has no doc"


def test_every_scenario_key_has_its_words() -> None:
    schema = scenario_schema()
    for where in (schema["properties"], schema["$defs"]["step"]["properties"]):
        for key, value in where.items():
            assert value.get("markdownDescription"), f"scenario key {key} has no words"


def test_every_builtin_scenario_says_what_it_is() -> None:
    for scenario in load_library(()):
        assert scenario.description, f"{scenario.name} has no description"
