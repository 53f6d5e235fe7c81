"""The docs' tables that are facts of the code, written from the declarations: the flags and
environment variables (``mockgraph.config.OPTIONS``), the permissions of each operation
(``mockgraph.calling.operations``), the control plane (each route's handler's docstring),
the scenario format (its JSON Schema's descriptions) and
the built-in scenarios (their files). ``python tools/docs_tables.py`` rewrites them in place;
``--check`` exits 1, naming the page, if one is out of date (the suite runs that check).

A generated table sits between ``<!-- generated: NAME ... -->`` and ``<!-- end of generated
NAME -->`` in its page; everything around it is written by hand.
"""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from mockgraph.calling.calls import CALL_STATES
from mockgraph.calling.operations import OPERATIONS, Operation, scenario_operations
from mockgraph.callrecords.operations import RECORD_OPERATIONS, RecordOperation
from mockgraph.config import OPTIONS, Option
from mockgraph.http.control_routes import CONTROL_ROUTES, ControlRoute
from mockgraph.identity.permissions import ANY_CALLING, NONE_NEEDED
from mockgraph.meetings.operations import MEETING_OPERATIONS, MeetingOperation
from mockgraph.presence.operations import PRESENCE_OPERATIONS, PresenceOperation
from mockgraph.scenarios.loader import load_library, scenario_schema
from mockgraph.scenarios.model import Exists, Scenario, Step
from mockgraph.subscriptions.operations import SUBSCRIPTION_OPERATIONS, SubscriptionOperation
from mockgraph.subscriptions.subscriptions import KINDS

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
    for declared in (*PRESENCE_OPERATIONS, *RECORD_OPERATIONS, *MEETING_OPERATIONS):
        allowed = ", ".join(f"`{name}`" for name in sorted(declared.permissions))
        rows.append(f"| `{declared.name}` | {allowed} |")
    for kind in KINDS.values():
        allowed = ", ".join(f"`{name}`" for name in sorted(kind.permissions))
        if not kind.application:
            allowed = f"none: {allowed} is delegated only (a 403)"
        rows.append(f"| a subscription to `{kind.name}` | {allowed} |")
    return "\n".join(["| operation | application permissions |", "|---|---|", *rows])


def _meaning(schema: dict[str, Any]) -> str:
    # markdownDescription is what editors show on hover; description is the plain fallback.
    return str(schema.get("markdownDescription") or schema.get("description", ""))


def scenario_keys() -> str:
    schema = scenario_schema()
    step = schema["$defs"]["step"]
    one_of = [name for choice in step.get("anyOf", ()) for name in choice.get("required", ())]
    either = "one of " + ", ".join(f"`{name}`" for name in one_of)
    rows = [
        f"| `{key}` | {'yes' if key in schema['required'] else 'no'} | {_cell(_meaning(value))} |"
        for key, value in schema["properties"].items()
    ]
    rows += [
        f"| `steps[].{key}` | {either if key in one_of else 'no'} | {_cell(_meaning(value))} |"
        for key, value in step["properties"].items()
    ]
    return "\n".join(["| key | required | meaning |", "|---|---|---|", *rows])


def _played(scenario: Scenario) -> str:
    rules = [
        f"`{path}` is {'set' if rule.present else 'absent'}"
        if isinstance(rule, Exists)
        else f"`{path}` is `{rule}`"
        for path, rule in scenario.when.items()
    ]
    if rules:
        return "when " + " and ".join(rules)
    return "by default" if scenario.default else "when pinned"


def _pause(seconds: float) -> str:
    if not seconds:
        return ""
    return f"{seconds * 1000:g} ms: " if seconds < 1 else f"{seconds:g} s: "


def _notified(notification: Any, about: str) -> str:
    data = notification.get("resourceData", {})
    if isinstance(data, list):
        return f"`{notification.get('changeType')}` the roster"
    parts = [f"`{notification.get('changeType')}`"]
    if about == "operation":
        parts.append("on the operation")
    for key in ("state", "status"):
        if isinstance(data.get(key), str):
            parts.append(data[key])
    result = data.get("resultInfo")
    if isinstance(result, dict):
        parts.append(f"{result.get('code')}/{result.get('subcode', 0)}")
    elif isinstance(result, str):
        parts.append("the given resultInfo")
    if isinstance(data.get("completionReason"), str):
        parts.append(data["completionReason"])
    if "mediaState" in data:
        parts.append("mediaState")
    return " ".join(parts)


def _step(step: Step) -> str:
    things = [_notified(n, step.about) for n in step.notify]
    if step.tones:
        things.append("keys " + " ".join(step.tones))
    if step.join:
        things.append("people join")
    if step.leave:
        things.append("people leave")
    if step.roster:
        things.append("the roster" + (" with the invitees" if step.roster == "invitees" else ""))
    if step.far_side:
        things.append(f"the far side: {step.far_side}")
    where = f" (to the call `{step.call}`)" if step.call else ""
    return _pause(step.after) + ", ".join(things) + where


def builtin_scenarios() -> str:
    order = {name: n for n, name in enumerate(scenario_operations())}
    library = sorted(load_library(()), key=lambda s: (order.get(s.operation, len(order)), s.name))
    rows = [
        f"| `{s.name}` | `{s.operation}` | {_cell(_played(s))} | {_cell(s.description)} | "
        f"{_cell(' → '.join(_step(step) for step in s.steps) or 'nothing')} |"
        for s in library
    ]
    header = "| name | operation | played | what it is | its steps |"
    return "\n".join([header, "|---|---|---|---|---|", *rows])


def _answer(operation: Operation) -> str:
    success = operation.success
    shown = [f"`{success.status}`"]
    if success.location:
        shown.append("`Location`")
    if operation.returns is not None:
        shown.append(f"a `{operation.returns.status}` {operation.returns.type}")
    elif success.body is not None:
        shown.append(success.body.doc)
    else:
        shown.append("no body")
    return ", ".join(shown)


def _allowed(operation: Operation) -> str:
    if not operation.on_call:
        return "(it makes a new call)"
    if operation.allowed_from is None:
        return "any, until the call ends"
    states = ", ".join(f"`{s}`" for s in CALL_STATES if s in operation.allowed_from)
    advice = "; ".join(f"`{state}`: {what}" for state, what in operation.advice.items())
    return f"{states} (else `409`{'; ' + advice if advice else ''})"


def _rules(operation: Operation) -> str:
    return " ".join(" ".join((inspect.getdoc(rule) or "").split()) for rule in operation.rules)


def _scenarios(operation: Operation, library: list[Scenario]) -> str:
    names = [operation.name]
    for other in (operation.fallback, operation.ends_on_tone):
        if other is not None:
            names.append(other.scenario)
    if operation.cancelled_scenario is not None:
        names.append(operation.cancelled_scenario)
    shown = [
        (f"{s.operation}: " if s.operation != operation.name else "")
        + (f"{_played(s)}: " if s.when else "")
        + f"[`{s.name}`](scenarios.md#built-in-library)"
        for name in names
        for s in library
        if s.operation == name and s.automatic
    ]
    return "; ".join(shown)


def graph_surface() -> str:
    library = list(load_library(()))
    rows = [
        f"| `{op.name}` | `{op.route.method} {op.route.documented}` | {_cell(_answer(op))} | "
        f"{_cell(_allowed(op))} | {_cell(_rules(op))} | {_cell(_scenarios(op, library))} |"
        for op in OPERATIONS
        if op.route is not None
    ]
    header = "| operation | request | answer | allowed from | its rules | then plays |"
    return "\n".join([header, "|---|---|---|---|---|---|", *rows])


def _resource_table(rows: Iterable[tuple[str, Iterable[str], str, Callable[..., Any]]]) -> str:
    """A table of resource operations: each one's name, its requests (method and path), its
    answer, and what it does (its domain method's docstring)."""
    lines = []
    for name, requests, answer, perform in rows:
        shown = "<br>".join(f"`{request}`" for request in requests)
        what = " ".join((inspect.getdoc(perform) or "").split())
        lines.append(f"| `{name}` | {shown} | {_cell(answer)} | {_cell(what)} |")
    header = "| operation | request (under `/v1.0` and `/beta`) | answer | what it does |"
    return "\n".join([header, "|---|---|---|---|", *lines])


def _presence_answer(operation: PresenceOperation) -> str:
    if operation.returns is None:
        return "`200`, no body"
    shown = '`{"value": [presence, …]}`' if operation.collection else "the presence"
    return f"`200`, {shown}"


def presence_surface() -> str:
    return _resource_table(
        (op.name, (f"{op.method} {path}" for path in op.paths), _presence_answer(op), op.perform)
        for op in PRESENCE_OPERATIONS
    )


def _record_answer(operation: RecordOperation) -> str:
    name = operation.returns.rpartition(".")[2]
    return f'`200`, `{{"value": [{name}, …]}}`' if operation.collection else f"`200`, the {name}"


def call_records_surface() -> str:
    return _resource_table(
        (op.name, (f"{op.method} {op.path}",), _record_answer(op), op.perform)
        for op in RECORD_OPERATIONS
    )


def _meeting_answer(operation: MeetingOperation) -> str:
    if operation.status == 204:
        return "`204`, no body"
    name = (operation.returns or "meetingAttendanceReport").rpartition(".")[2]
    if operation.collection:
        return f'`200`, `{{"value": [{name}, …]}}`'
    if operation.action:
        return f"`201` with the new {name}, `200` with the one found"
    return f"`{operation.status}`, the {name}"


def meetings_surface() -> str:
    return _resource_table(
        (op.name, (f"{op.method} {op.path}",), _meeting_answer(op), op.perform)
        for op in MEETING_OPERATIONS
    )


def _subscription_answer(operation: SubscriptionOperation) -> str:
    if operation.status == 204:
        return "`204`, no body"
    if operation.collection:
        return '`200`, `{"value": [subscription, …]}`'
    return f"`{operation.status}`, the subscription"


def subscriptions_surface() -> str:
    return _resource_table(
        (op.name, (f"{op.method} {op.path}",), _subscription_answer(op), op.perform)
        for op in SUBSCRIPTION_OPERATIONS
    )


def _request(route: ControlRoute) -> str:
    query = f" (query: {', '.join(f'`{name}`' for name in route.query)})" if route.query else ""
    return f"`{route.method} {route.path}`{query}"


def control_plane() -> str:
    # Routes one handler serves (the inspector's files, two spellings of a document) share a
    # row, in the order the table declares them.
    grouped: dict[str, list[ControlRoute]] = {}
    for route in CONTROL_ROUTES:
        grouped.setdefault(route.doc, []).append(route)
    rows = [
        f"| {', '.join(_request(r) for r in routes)} | {_cell(doc)} |"
        for doc, routes in grouped.items()
    ]
    return "\n".join(["| request | answer |", "|---|---|", *rows])


TABLES: dict[str, tuple[str, Callable[[], str]]] = {
    "flags": ("reference/command-line.md", flags),
    "permissions": ("how-to/real-credentials.md", permissions),
    "graph-surface": ("reference/graph-surface.md", graph_surface),
    "presence": ("reference/graph-surface.md", presence_surface),
    "call-records": ("reference/graph-surface.md", call_records_surface),
    "meetings": ("reference/graph-surface.md", meetings_surface),
    "subscriptions": ("reference/graph-surface.md", subscriptions_surface),
    "control-plane": ("reference/control-plane.md", control_plane),
    "scenario-keys": ("reference/scenarios.md", scenario_keys),
    "builtin-scenarios": ("reference/scenarios.md", builtin_scenarios),
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
