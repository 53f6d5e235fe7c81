"""Scenario files: every problem reported as file:line:col, nothing half-loaded."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from yaml.nodes import MappingNode, Node, SequenceNode

from mockgraph.scenarios import yamlpos
from mockgraph.scenarios.loader import (
    BUILTIN_INDEX,
    builtin_paths,
    load_library,
    load_paths,
    load_text,
    parse_duration,
    scenario_schema,
)
from mockgraph.scenarios.model import Exists
from tools.build_builtin_index import render

GOOD = """\
name: ok
operation: transfer
steps:
  - after: 10ms
    notify:
      changeType: updated
      resourceData: {state: transferring}
"""


def problems_of(text: str) -> list[str]:
    scenarios, problems = load_text(textwrap.dedent(text), "s.yaml")
    assert not (scenarios and problems)
    return [str(p) for p in problems]


def test_a_good_file_loads() -> None:
    [scenario], problems = load_text(GOOD, "s.yaml")
    assert problems == []
    assert scenario.name == "ok"
    assert scenario.steps[0].after == pytest.approx(0.010)
    assert scenario.source == "s.yaml:1:1"


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            GOOD.replace("state: transferring", "state: transfering"),
            "s.yaml:7:29: 'steps[0].notify.resourceData.state': \"transfering\" is not one of: inc",
        ),
        (
            GOOD.replace("changeType: updated", "changeType: changed"),
            "s.yaml:6:19: 'steps[0].notify.changeType': \"changed\" is not one of: created, upd",
        ),
        (
            GOOD.replace("after: 10ms", "after: soon"),
            "s.yaml:4:12: 'steps[0].after': \"soon\" is not a duration",
        ),
        (
            GOOD.replace("operation: transfer", "operation: transfr"),
            "s.yaml:2:12: 'operation': \"transfr\" is not one of: transfer",
        ),
        (
            GOOD + "colour: red\n",
            "s.yaml:8:1: scenario has no property 'colour' (it declares: $schema, default,",
        ),
        (
            GOOD.replace("    notify:", "    notfy:"),
            "s.yaml:4:5: 'steps[0]' needs 'notify', 'tones', 'roster', 'join', 'leave' or "
            "'farSide' (or more than one)",
        ),
        (GOOD.replace("name: ok\n", ""), "s.yaml:1:1: 'name' is required"),
        (
            GOOD.replace("name: ok", "name: ok\nname: again"),
            "s.yaml:2:1: duplicate key 'name' (first at line 1, column 1)",
        ),
        (GOOD.replace("steps:", "steps: ["), "s.yaml:"),
        (
            GOOD.replace(
                "{state: transferring}",
                "{state: established, resultInfo: {code: 500, subCode: 7000}}",
            ),
            "has no property 'subCode'; did you mean 'subcode'?",
        ),
        (
            GOOD.replace("{state: transferring}", "{state: terminated, resultInfo: {code: 0}}"),
            "s.yaml:7:53: 'steps[0].notify.resourceData.resultInfo.subcode' is required",
        ),
        (
            GOOD.replace("{state: transferring}", '{state: "{{ os.environ }}"}'),
            "must start with 'call.', 'request.', 'operation.' or 'recording.'",
        ),
        (
            GOOD.replace("{state: transferring}", '{state: "{{ call.id + 1 }}"}'),
            "is not a dotted path",
        ),
        (GOOD.replace("name: ok", "name: has space"), "'name': \"has space\" must be letters"),
        (
            GOOD.replace("  - after: 10ms", "  - After: 10ms"),
            "s.yaml:4:5: 'steps[0]': step has no property 'After'; did you mean 'after'?",
        ),
        (GOOD + "jitter: 5 ms\n", "s.yaml:8:9: 'jitter': \"5 ms\" is not a duration"),
        (GOOD + "---\n" + GOOD, "s.yaml:9:1: scenario 'ok' is defined twice (first at s.yaml:1:1)"),
        ("- just\n- a\n", 's.yaml:1:1: the scenario must be an object, not ["just", "a"]'),
    ],
)
def test_each_problem_is_reported_at_its_line_and_column(text: str, expected: str) -> None:
    problems = problems_of(text)
    assert problems, "expected a problem"
    assert any(expected in p for p in problems), problems


def test_all_problems_of_a_document_are_reported_together() -> None:
    text = GOOD.replace("state: transferring", "state: transfering").replace(
        "changeType: updated", "changeType: changed"
    )
    assert len(problems_of(text)) == 2


def test_templates_are_checked_at_playback_not_load() -> None:
    # What a placeholder names is checked at load; the value it takes, only at playback.
    text = GOOD.replace("{state: transferring}", '{state: "{{ request.clientContext }}"}')
    assert problems_of(text) == []


def test_schema_key_and_several_documents_are_accepted() -> None:
    text = "$schema: ./scenario.schema.json\n" + GOOD + "---\n" + GOOD.replace("ok", "ok2")
    scenarios, problems = load_text(text, "s.yaml")
    assert problems == [] and [s.name for s in scenarios] == ["ok", "ok2"]


def test_when_rules_are_parsed() -> None:
    text = GOOD + "when:\n  a.b: 5\n  c: {exists: false}\n"
    [scenario], _ = load_text(text, "s.yaml")
    assert scenario.when == {"a.b": 5, "c": Exists(False)}
    assert scenario.matches({"a": {"b": 5}})
    assert not scenario.matches({"a": {"b": 5}, "c": 1})
    assert not scenario.matches({"a": {"b": True}})


def test_folders_load_every_yaml_and_report_every_bad_file(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(GOOD)
    (tmp_path / "b.yml").write_text(GOOD.replace("ok", "bad").replace("after: 10ms", "after: x"))
    (tmp_path / "c.yaml").write_text("name: [\n")
    (tmp_path / "notes.txt").write_text("not a scenario")
    scenarios, problems = load_paths([tmp_path])
    assert [s.name for s in scenarios] == ["ok"]
    assert [Path(p.file).name for p in problems] == ["b.yml", "c.yaml"]


def test_a_missing_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    _, [problem] = load_paths([tmp_path / "missing.yaml"])
    assert "cannot read" in problem.message


def test_the_builtin_library_is_valid() -> None:
    scenarios, problems = load_paths(builtin_paths())
    assert problems == []
    assert len(scenarios) == len(builtin_paths())  # one scenario to a file, none skipped


def test_the_builtin_index_is_made_from_the_files_as_they_are() -> None:
    packaged = Path(__file__).parents[1] / "mockgraph" / "scenarios" / BUILTIN_INDEX
    assert packaged.read_text(encoding="utf-8") == render(), (
        f"run `make builtin-index`: {BUILTIN_INDEX} is stale"
    )


def test_the_builtins_served_are_the_files_read_and_checked() -> None:
    from_files, problems = load_paths(builtin_paths())
    assert problems == []
    served = list(load_library(()))
    assert served == from_files  # every field, the source's file:line:col too


def test_a_start_with_no_scenario_file_imports_no_yaml() -> None:
    # The built-ins come from their index: PyYAML's import was a tenth of serve's start.
    code = (
        "import sys; from mockgraph.http.app import Server; "
        "from mockgraph.scenarios.loader import load_library; load_library(()); "
        "print('yaml' in sys.modules)"
    )
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == "False"


@pytest.mark.parametrize(
    "value, seconds", [(0, 0.0), (250, 0.25), ("50ms", 0.05), ("1.5s", 1.5), ("0s", 0.0)]
)
def test_durations(value: int | str, seconds: float) -> None:
    assert parse_duration(value) == pytest.approx(seconds)


@pytest.mark.skipif(yamlpos.FAST_LOADER is None, reason="PyYAML is built without libyaml")
@pytest.mark.parametrize(
    "path",
    [*builtin_paths(), *sorted((Path(__file__).parent / "scenarios").glob("*.yaml"))],
    ids=lambda path: path.name,
)
def test_libyaml_composes_what_the_python_parser_does(path: Path) -> None:
    """Start-up composes with libyaml: same values, same positions for every problem."""

    def shape(node: Node) -> object:
        mark = (node.start_mark.line, node.start_mark.column)
        if isinstance(node, MappingNode):
            return mark, [(shape(key), shape(value)) for key, value in node.value]
        if isinstance(node, SequenceNode):
            return mark, [shape(item) for item in node.value]
        return mark, node.tag, node.value

    text = path.read_text()
    fast, slow = yamlpos._compose(text), yamlpos._compose(text, fast=False)
    assert [shape(node) for node in fast] == [shape(node) for node in slow]
    assert len(fast) >= 1


ALIAS_BOMB = "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
    f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n" for a, b in zip("abcde", "bcdef", strict=True)
)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("name: x\noperation: transfer\nsteps: &x [1, *x]\n", "s.yaml:3:15: aliases"),
        (
            "base: &b {changeType: updated}\nname: x\noperation: transfer\n"
            "steps:\n  - notify: {<<: *b, resourceData: {}}\n",
            "s.yaml:5:18: aliases",
        ),
        (ALIAS_BOMB, "s.yaml:2:8: aliases"),  # nine ways over six levels: 531,441 values
        ("a: " + "[" * 10_000 + "]" * 10_000 + "\n", "s.yaml:1:1003: nested too deeply"),
        (
            "".join("  " * i + f"k{i}:\n" for i in range(3000)),
            "s.yaml:1000:2003: nested too deeply",
        ),
    ],
    ids=["recursive", "merge", "fan-out", "deep-flow", "deep-block"],
)
def test_aliases_and_deep_nesting_are_refused_at_their_place(text: str, expected: str) -> None:
    scenarios, problems = load_text(text, "s.yaml")
    assert scenarios == [] and len(problems) == 1
    assert str(problems[0]).startswith(expected), problems


async def test_a_file_with_aliases_is_400_over_http() -> None:
    from mockgraph.testing import MockGraph, MockGraphError

    async with MockGraph() as graph:
        with pytest.raises(MockGraphError) as refused:
            await graph.load_scenarios("name: x\noperation: transfer\nsteps: &x [1, *x]\n")
    assert refused.value.status == 400 and "request:3:15: aliases" in str(refused.value)


def test_the_scenario_schema_knows_every_quirk_and_no_other() -> None:
    from mockgraph.config import QUIRKS

    assert scenario_schema()["$defs"]["quirk"]["enum"] == list(QUIRKS)


def test_the_scenario_schema_knows_each_operations_types_as_the_table_declares_them() -> None:
    from mockgraph.calling.operations import OPERATIONS

    derived: dict[str, dict[str, str]] = {}
    for op in OPERATIONS:
        types = {}
        if op.request is not None:
            types["request"] = op.request.type
        if op.returns is not None:
            types["operation"] = f"microsoft.graph.{op.returns.type}"
        names = [op.name if op.plays else None, op.cancelled_scenario]
        names += [op.fallback.scenario if op.fallback else None]
        names += [op.ends_on_tone.scenario if op.ends_on_tone else None]
        derived.update({name: types for name in names if name is not None})
    declared = {k: v for k, v in scenario_schema()["x-operations"].items() if k != "$comment"}
    assert declared == derived


TYPOS = """\
name: typo
operation: {operation}
steps:
  - about: operation
    notify:
      changeType: deleted
      resourceData:
        status: complete
        completionReason: {reason}
"""


@pytest.mark.parametrize(
    "operation, reason, hint",
    [
        ("playPrompt", "completedSucessfully", "did you mean 'completedSuccessfully'?"),
        ("sendDtmfTones", "completedSucessfully", "did you mean 'completedSuccessfully'?"),
        # recordOperation's own enumeration has no completedSuccessfully
        ("recordResponse", "completedSuccessfully", "is not one of: operationCanceled"),
        ("recordResponseStopTone", "stopToneDetectd", "did you mean 'stopToneDetected'?"),
    ],
)
def test_an_operation_notification_is_checked_against_its_own_type(
    operation: str, reason: str, hint: str
) -> None:
    text = TYPOS.format(operation=operation, reason=reason)
    _, problems = load_text(text, "t.yaml")
    messages = [str(p) for p in problems]
    assert any("status" in m and "did you mean 'completed'?" in m for m in messages), messages
    assert any("completionReason" in m and hint in m for m in messages), messages


@pytest.mark.parametrize(
    "value, message",
    [
        (
            "'{{ request.clientContext'",
            "'{{ request.clientContext' opens a placeholder that never closes",
        ),
        (
            "'{{ request.clientContxt }}'",
            "'{{ request.clientContxt }}' names nothing: transfer request body has no "
            "'clientContxt'; did you mean 'clientContext'?",
        ),
        (
            "'{{ request.transferTarget.identity.usr.id }}'",
            "names nothing: microsoft.graph.identitySet has no 'usr'; did you mean 'user'?",
        ),
        ("'{{ request.transferTarget.replacesCallId }}'", None),
        ("'{{ request.transferTarget.identity.anything.id }}'", None),  # an open type
    ],
)
def test_what_a_placeholder_names_is_checked_against_the_request_type(
    value: str, message: str | None
) -> None:
    text = GOOD.replace("{state: transferring}", f"{{state: transferring, subject: {value}}}")
    problems = problems_of(text)
    if message is None:
        assert problems == []
    else:
        assert len(problems) == 1 and message in problems[0], problems


@pytest.mark.parametrize(
    "text, where, plain",
    [
        ("name: x\noperation: transfer\nsteps:\n\t- notify: {}\n", "s.yaml:4:1:", "a tab here"),
        (
            "name: x\noperation: transfer\nsteps:\n  - notify:\n      changeType: updated\n"
            "     resourceData: {}\n",
            "s.yaml:6:6:",
            "not lined up with the lines above it",
        ),
        ("name: x\n  operation: transfer\nsteps: []\n", "s.yaml:2:12:", "indented under a value"),
    ],
)
def test_a_yaml_mistake_is_told_in_plain_words_at_its_line(
    text: str, where: str, plain: str
) -> None:
    [problem] = load_text(text, "s.yaml")[1]
    assert str(problem).startswith(where) and plain in str(problem)


async def test_a_scenario_body_that_lost_its_line_breaks_gets_the_data_binary_hint() -> None:
    from mockgraph.testing import MockGraph, MockGraphError

    flattened = "name: x operation: transfer steps: []"  # what curl -d @file sends
    async with MockGraph() as graph:
        with pytest.raises(MockGraphError, match="--data-binary") as raised:
            await graph.load_scenarios(flattened)
        assert raised.value.status == 400
        with pytest.raises(MockGraphError) as raised:  # broken, but not by curl: no such hint
            await graph.load_scenarios("name: x\n  operation: transfer\nsteps: []\n")
        assert "--data-binary" not in str(raised.value)


def test_several_mistyped_keys_each_get_their_guess() -> None:
    text = "name: x\noperation: transfer\nsteps:\n  - afer: 1s\n    notfy: {changeType: updated}\n"
    messages = [str(problem) for problem in load_text(text, "s.yaml")[1]]
    assert any("did you mean 'after' for 'afer', 'notify' for 'notfy'?" in m for m in messages)


def test_every_error_of_a_step_is_told_not_only_the_first() -> None:
    text = (
        "name: x\noperation: transfer\nsteps:\n  - after: soon\n"
        "    notify: {changeType: updatd, resourceData: {state: transfering}}\n"
    )
    messages = [str(problem) for problem in load_text(text, "s.yaml")[1]]
    assert len(messages) == 3, messages
    assert messages[0].startswith("s.yaml:4:12: 'steps[0].after'")
    assert "did you mean 'updated'?" in messages[1]
    assert "did you mean 'transferring'?" in messages[2]


def test_a_file_with_very_many_problems_tells_fifty_and_counts_the_rest() -> None:
    steps = "".join(f"  - after: soon{n}\n    notify: {{changeType: updated}}\n" for n in range(60))
    problems = load_text(f"name: x\noperation: transfer\nsteps:\n{steps}", "s.yaml")[1]
    assert len(problems) == 51
    assert problems[-1].message.startswith("and ") and "more problem(s)" in problems[-1].message


async def test_one_scenario_is_served_with_its_steps_and_a_wrong_name_is_a_404() -> None:
    from mockgraph.testing import MockGraph, MockGraphError

    async with MockGraph() as graph:
        scenario = await graph.scenario("transfer-success")
        # scenarios/transfer-success.yaml: 50 ms, then 100 ms, then 100 ms.
        assert [step["after"] for step in scenario["steps"]] == [0.05, 0.1, 0.1]
        states = [step["notify"][0]["resourceData"]["state"] for step in scenario["steps"]]
        assert states == ["transferring", "transferAccepted", "terminated"]
        with pytest.raises(MockGraphError) as raised:
            await graph.scenario("transfer-sucess")
        assert raised.value.status == 404 and "did you mean 'transfer-success'?" in str(
            raised.value
        )
