"""Loading scenario files: YAML, the scenario JSON Schema, and the Graph types of payloads.

Every problem is reported as ``file:line:col: message``; a file with any problem loads nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mockgraph.errors import GraphError
from mockgraph.scenarios.library import ScenarioLibrary
from mockgraph.scenarios.model import Exists, Matcher, Scenario, Step
from mockgraph.scenarios.templating import is_template, placeholder_problems, placeholders
from mockgraph.schema.validation import (
    describe,
    did_you_mean,
    extra_properties,
    most_specific,
    names_nothing,
    shown_error,
    validator_for,
)
from mockgraph.tones import tone_names

if TYPE_CHECKING:  # imported when a file is checked; the built-ins come checked (a test)
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

    # Imported when a file is read: the built-ins come from their index (builtin.json), so a
    # start with no scenario file of its own imports no PyYAML.
    from mockgraph.scenarios.yamlpos import Document
    from mockgraph.scenarios.yamlpos import Path as YamlPath

SCENARIO_SUFFIXES = (".yaml", ".yml")
BUILTIN_INDEX = "builtin.json"  # in mockgraph.scenarios, made from the built-in files
_PACKAGE = Path(__file__).resolve().parents[1]
BUILTIN_FOLDERS = (_PACKAGE / "builtin_scenarios", _PACKAGE.parent / "scenarios")
# Notifications are validated against beta, the superset: it declares terminationReason and
# the ringing state, which v1.0 bots receive as dynamic properties.
PAYLOAD_VERSION = "beta"
OPERATION_TYPE = "microsoft.graph.commsOperation"
MAX_PROBLEMS = 50  # per file: every error is told, up to this many
DURATION = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(ms|s)$")


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        # one line each, whatever a library's message held
        return f"{self.file}:{self.line}:{self.column}: {' '.join(self.message.split())}"


class ScenarioError(Exception):
    """One or more scenario files are invalid."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(map(str, problems)))
        self.problems = problems


@cache
def scenario_schema() -> dict[str, Any]:
    """The JSON Schema of a scenario document (``mockgraph schema`` prints it)."""
    text = resources.files("mockgraph.scenarios").joinpath("scenario.schema.json")
    schema: dict[str, Any] = json.loads(text.read_text(encoding="utf-8"))
    return schema


@cache
def _scenario_validator() -> Draft202012Validator:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(scenario_schema())


def scenario_files(paths: Iterable[str | Path]) -> list[Path]:
    """Files named, and every ``*.yaml``/``*.yml`` in folders named, in a stable order."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.suffix in SCENARIO_SUFFIXES))
        else:
            files.append(path)
    return files


@dataclass(frozen=True)
class Loaded:
    """What scenario files hold: scenarios, and faults on Graph requests (a document whose
    key is ``fault``), or the problems that keep them from loading (then nothing else)."""

    scenarios: list[Scenario] = field(default_factory=list)
    faults: list[Mapping[str, Any]] = field(default_factory=list)  # as POST /_mock/faults takes
    problems: list[Problem] = field(default_factory=list)


def load_text(text: str, filename: str) -> tuple[list[Scenario], list[Problem]]:
    """The scenarios in one file's text, or the problems that keep it from loading."""
    loaded = load(text, filename)
    return loaded.scenarios, loaded.problems


def load(text: str, filename: str) -> Loaded:
    """What one file's text holds, or the problems that keep it from loading."""
    from mockgraph.scenarios.yamlpos import YamlProblem, load_documents

    try:
        documents = load_documents(text)
    except YamlProblem as error:
        position = error.position
        return Loaded(problems=[Problem(filename, position.line, position.column, error.message)])
    scenarios: list[Scenario] = []
    faults: list[Mapping[str, Any]] = []
    problems: list[Problem] = []
    for document in documents:
        if document.value is None:  # an empty document, e.g. a trailing ---
            continue
        if isinstance(document.value, dict) and "fault" in document.value:
            found_in_fault = list(_fault_problems(document, filename))
            problems.extend(found_in_fault)
            if not found_in_fault:
                faults.append(document.value["fault"])
            continue
        found = sorted(_document_problems(document, filename), key=lambda p: (p.line, p.column))
        if found:
            problems.extend(found)
        else:
            position = document.position(())
            scenarios.append(_scenario(document.value, filename, position.line, position.column))
    names: dict[str, Scenario] = {}
    for scenario in scenarios:
        if scenario.name in names:
            line, column = scenario.source.rsplit(":", 2)[1:]
            problems.append(
                Problem(
                    filename,
                    int(line),
                    int(column),
                    f"scenario '{scenario.name}' is defined twice "
                    f"(first at {names[scenario.name].source})",
                )
            )
        names[scenario.name] = scenario
    if not scenarios and not faults and not problems:
        problems.append(
            Problem(filename, 1, 1, "the file holds no scenario (it is empty, or only comments)")
        )
    if len(problems) > MAX_PROBLEMS:  # a file of the wrong kind must not bury the terminal
        shown = sorted(problems, key=lambda p: (p.line, p.column))[:MAX_PROBLEMS]
        last = shown[-1]
        more = f"and {len(problems) - MAX_PROBLEMS} more problem(s) after this line, not shown"
        problems = [*shown, Problem(filename, last.line, last.column, more)]
    return Loaded(scenarios, faults) if not problems else Loaded(problems=problems)


def load_paths(paths: Iterable[str | Path]) -> tuple[list[Scenario], list[Problem]]:
    """The scenarios in files and folders; problems of every file, not just the first."""
    loaded = load_files(paths)
    return loaded.scenarios, loaded.problems


def load_files(paths: Iterable[str | Path]) -> Loaded:
    """What files and folders hold; problems of every file, not just the first."""
    everything = Loaded()
    for path in scenario_files(paths):
        try:
            text = _read(path)
        except _Unreadable as error:
            everything.problems.append(Problem(str(path), error.line, error.column, str(error)))
            continue
        loaded = load(text, str(path))
        everything.scenarios.extend(loaded.scenarios)
        everything.faults.extend(loaded.faults)
        everything.problems.extend(loaded.problems)
    return everything


MAX_FILE_BYTES = 1024 * 1024  # as a request body: a scenario is a few hundred bytes


class _Unreadable(Exception):
    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.line, self.column = line, column


def _read(path: Path) -> str:
    """A scenario file's text: UTF-8 (a BOM is allowed), at most ``MAX_FILE_BYTES``."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise _Unreadable(f"the file is {size / 1e6:.1f} MB; a scenario file is at most 1 MiB")
        data = path.read_bytes()
    except OSError as error:
        raise _Unreadable(f"cannot read: {error.strerror or error}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise _Unreadable(
            f"not UTF-8: byte 0x{data[error.start]:02x} cannot start or continue a character",
            line,
            column,
        ) from None


def builtin_paths() -> list[Path]:
    """The built-in library's files: the copy a wheel installs as ``mockgraph/builtin_scenarios``,
    else (a checkout, or an editable install, which maps no folder without ``__init__.py``) the
    top-level ``scenarios/`` it is built from."""
    return sorted(path for path in _builtin_folder().iterdir() if path.suffix in SCENARIO_SUFFIXES)


def _builtin_folder() -> Path:
    return next(folder for folder in BUILTIN_FOLDERS if folder.is_dir())


def load_library(paths: Iterable[str | Path]) -> ScenarioLibrary:
    """The built-ins, then ``paths`` (which may redefine a built-in by name) with the faults
    they set; raises ``ScenarioError`` with every problem if any file is invalid."""
    loaded = load_files(paths)
    if loaded.problems:
        raise ScenarioError(loaded.problems)
    return ScenarioLibrary([*_builtins(), *loaded.scenarios], faults=loaded.faults)


def builtin_index(paths: Iterable[Path]) -> list[dict[str, Any]]:
    """What ``builtin.json`` holds, made from the built-in files: each scenario's value, its
    file's name and where in it the scenario begins (``make builtin-index`` writes it, and a
    test holds it to the files)."""
    from mockgraph.scenarios.yamlpos import load_documents

    index = []
    for path in paths:
        for document in load_documents(_read(path)):
            if document.value is not None:
                position = document.position(())
                index.append(
                    {
                        "file": path.name,
                        "line": position.line,
                        "column": position.column,
                        "scenario": document.value,
                    }
                )
    return index


@cache
def _builtins() -> tuple[Scenario, ...]:
    """Parsed once per process, and from their index: they ship with mockgraph, scenarios are
    immutable, and reading the YAML itself (PyYAML's import, then composing 45 files with
    positions) was a tenth of ``serve``'s start (BENCHMARKS.md). Each keeps its file's path as
    its source, as if read from it."""
    folder = _builtin_folder()
    text = resources.files("mockgraph.scenarios").joinpath(BUILTIN_INDEX).read_text("utf-8")
    return tuple(
        _scenario(entry["scenario"], str(folder / entry["file"]), entry["line"], entry["column"])
        for entry in json.loads(text)
    )


def parse_duration(value: int | str) -> float:
    """Seconds from ``50`` (ms), ``"50ms"`` or ``"1.5s"``."""
    if isinstance(value, int):
        return value / 1000
    match = DURATION.match(value)
    if not match:
        raise ValueError(f"not a duration: {value!r}")
    number = float(match.group(1))
    return number / 1000 if match.group(2) == "ms" else number


def _document_problems(document: Document, filename: str) -> Iterator[Problem]:
    def at(path: YamlPath, message: str, *, key: bool = False) -> Problem:
        position = document.position(path, key=key)
        return Problem(filename, position.line, position.column, message)

    errors = sorted(_scenario_validator().iter_errors(document.value), key=_error_order)
    broken: set[Any] = set()  # the top-level keys, and ("steps", n), that the schema refused
    for error in errors:
        deepest = most_specific(error)
        path = tuple(deepest.absolute_path)
        unknown_key = deepest.validator == "additionalProperties"
        if unknown_key and (extra := extra_properties(deepest)):
            path = (*path, extra[0])
        yield at(path, describe(error, whole="the scenario"), key=unknown_key)
        broken.add(path[:3] if path[:1] == ("steps",) else path[:1])
    # Every problem of the file, not only the schema's: the steps the schema took are checked
    # further, as long as what they are checked against (the operation, the list) holds.
    value = document.value
    if not isinstance(value, dict) or not {(), ("operation",), ("steps",)}.isdisjoint(broken):
        return
    if "recording" in value and ("recording",) not in broken:
        audio = _recording_path(value["recording"], filename)
        if not audio.is_file():
            yield at(("recording",), f"'recording': cannot read {str(audio)!r} (no such file)")
    steps = value.get("steps")
    if not isinstance(steps, list) or "operation" not in value:
        return
    for index, step in enumerate(steps):
        base: YamlPath = ("steps", index)
        # A step the schema refused as a whole, or whose notifications it refused, is not
        # checked further; one with another key wrong still is (every error of an object).
        if base in broken or (*base, "notify") in broken or not isinstance(step, dict):
            continue
        for path, message in placeholder_problems(step):
            yield at((*base, *path), message)
        for path, message in _reference_problems(step, document.value["operation"]):
            yield at((*base, *path), message)
        for path, message in _payload_problems(step, base, document.value["operation"]):
            yield at(path, message)
        tones = step.get("tones", [])
        try:
            if (*base, "tones") not in broken:
                tone_names(tones)
        except ValueError as error:
            yield at((*base, "tones"), f"'steps[{index}].tones': {error}")
        if step.get("fault") == "outOfOrder" and index == len(steps) - 1:
            yield at(
                (*base, "fault"), "outOfOrder sends a step after the next one; this step is last"
            )


FAULT_DOCUMENT_KEYS = ("fault", "description")
LEADING_FIELD = re.compile(r"^'([\w.]+)'")


def _fault_problems(document: Document, filename: str) -> Iterator[Problem]:
    """A fault document: ``fault`` as ``POST /_mock/faults`` takes it, and a ``description``."""
    # Imported here: the operation table imports the scenarios (a cycle at import time).
    from mockgraph.calling.operations import ROUTED_OPERATIONS
    from mockgraph.faults import check

    def at(path: YamlPath, message: str, *, key: bool = False) -> Problem:
        position = document.position(path, key=key)
        return Problem(filename, position.line, position.column, message)

    for key in document.value:
        if key not in FAULT_DOCUMENT_KEYS:
            hint = did_you_mean([str(key)], FAULT_DOCUMENT_KEYS)
            yield at(
                (key,),
                f"'{key}': a fault holds only 'fault' and 'description'{hint}",
                key=True,
            )
    if not isinstance(document.value.get("description", ""), str):
        yield at(("description",), "'description' must be text")
    spec = document.value["fault"]
    if not isinstance(spec, dict):
        yield at(("fault",), "'fault' must be a mapping, as POST /_mock/faults takes it")
        return
    try:
        check(spec, ROUTED_OPERATIONS)
    except GraphError as error:
        field_name = LEADING_FIELD.match(error.message)
        path = ("fault", *field_name.group(1).split(".")) if field_name else ("fault",)
        message = LEADING_FIELD.sub(r"'fault.\1'", error.message).rstrip(".")
        yield at(path, message if field_name else f"'fault': {message}")


def _reference_problems(step: Mapping[str, Any], operation: str) -> Iterator[tuple[YamlPath, str]]:
    """A ``{{ request.x }}`` that names nothing in the operation's request type."""
    request_type = operation_types(operation).get("request")
    for path, reference in placeholders(step):
        root, _, rest = reference.partition(".")
        if root != "request" or not rest or request_type is None:
            continue
        why = names_nothing(PAYLOAD_VERSION, request_type, rest.split("."))
        if why is not None:
            yield path, f"'{{{{ {reference} }}}}' {why}"


def _notifications(step: Mapping[str, Any], base: YamlPath) -> list[tuple[YamlPath, Any]]:
    """A step's notifications with their paths: ``notify`` is one, or a list sent together."""
    notify = step.get("notify", [])
    if isinstance(notify, list):
        return [((*base, "notify", i), item) for i, item in enumerate(notify)]
    return [((*base, "notify"), notify)]


def operation_types(operation: str) -> Mapping[str, str]:
    """The Graph types a scenario for ``operation`` deals in: its ``request`` and the
    ``operation`` it returns (``x-operations`` in the scenario schema)."""
    found: Mapping[str, str] = scenario_schema()["x-operations"].get(operation, {})
    return found


def _payload_errors(
    step: Mapping[str, Any], base: YamlPath, operation: str, allowed: Iterable[str] = ()
) -> Iterator[tuple[YamlPath, YamlPath, ValidationError]]:
    """Each way a step's notifications are not their Graph types (commsNotification and call,
    or, for a step about an operation, the type ``operation`` returns, or the one its
    ``@odata.type`` names), leaving out the ``allowed`` undeclared properties: (where the
    checked value sits, where that is within the notification, the error)."""
    resource = "microsoft.graph.call"
    if step.get("about") == "operation":
        resource = operation_types(operation).get("operation", OPERATION_TYPE)
    for path, sent in _notifications(step, base):
        notify = _without(sent, allowed)
        envelope = {"resourceUrl": "/communications/calls/x", **notify, "resourceData": {}}
        checks: list[tuple[YamlPath, str, Any]] = [
            ((), "microsoft.graph.commsNotification", envelope),
            (("resourceData",), resource, notify["resourceData"]),
        ]
        for within, definition, value in checks:
            validator = validator_for(PAYLOAD_VERSION, definition)
            for error in sorted(validator.iter_errors(value), key=_error_order):
                if is_template(error.instance):  # a value known only at playback
                    continue
                yield (*path, *within), within, error


def _undeclared(within: YamlPath, error: ValidationError) -> list[str]:
    """The properties an error is about when it is only that the metadata does not declare
    them as sent (none of its types has them, or it says members are required that real Graph
    leaves out: an empty meetingCapability), as ``undeclared`` names them (dotted paths into
    the notification)."""
    deepest = most_specific(error)  # a nullable type's error sits under its anyOf
    at = (*within, *deepest.absolute_path)
    if deepest.validator == "required" and at[len(within) :]:
        return [".".join(str(part) for part in at)]
    if deepest.validator != "additionalProperties":
        return []
    return [".".join(str(part) for part in (*at, extra)) for extra in extra_properties(deepest)]


def undeclared_properties(step: Mapping[str, Any], operation: str) -> list[str]:
    """The properties of a step's notifications that no Graph type declares."""
    return sorted(
        {
            name
            for _, within, error in _payload_errors(step, (), operation)
            for name in _undeclared(within, error)
        }
    )


def _payload_problems(
    step: Mapping[str, Any], base: YamlPath, operation: str
) -> Iterator[tuple[YamlPath, str]]:
    """What is wrong with a step's notifications, less the properties its ``undeclared``
    names (real Graph sends some that its metadata does not declare)."""
    for prefix, _, error in _payload_errors(step, base, operation, step.get("undeclared", ())):
        yield (*prefix, *shown_error(error).absolute_path), describe(error, prefix)


def _without(value: Any, paths: Iterable[str]) -> Any:
    """``value`` less what each dotted path names (a number is a list index): a copy."""
    for path in paths:
        *parents, last = path.split(".")
        value = _dropped(value, parents, last)
    return value


def _dropped(value: Any, parents: list[str], last: str) -> Any:
    if parents:
        head, *rest = parents
        if isinstance(value, dict) and head in value:
            return {**value, head: _dropped(value[head], rest, last)}
        if isinstance(value, list) and head.isdigit() and int(head) < len(value):
            index = int(head)
            return [*value[:index], _dropped(value[index], rest, last), *value[index + 1 :]]
        return value
    if isinstance(value, dict):
        return {key: item for key, item in value.items() if key != last}
    return value


def _error_order(error: ValidationError) -> tuple[int, list[str]]:
    return len(error.absolute_path), [str(p) for p in error.absolute_path]


def _scenario(data: Mapping[str, Any], filename: str, line: int, column: int) -> Scenario:
    """A checked scenario document's value, from ``filename``, beginning at ``line``:``column``."""
    when: dict[str, Matcher] = {}
    for path, rule in data.get("when", {}).items():
        when[path] = Exists(rule["exists"]) if isinstance(rule, dict) else rule
    steps = tuple(
        Step(
            after=parse_duration(step.get("after", 0)),
            notify=tuple(notify for _, notify in _notifications(step, ())),
            call=step.get("call"),
            fault=step.get("fault"),
            jitter=parse_duration(step.get("jitter", 0)),
            quirks=tuple(step.get("quirks", ())),
            about=step.get("about", "call"),
            tones=tuple(tone_names(step.get("tones", []))),
            roster=step.get("roster"),
            join=tuple(step.get("join", ())),
            leave=tuple(step.get("leave", ())),
            far_side=step.get("farSide"),
        )
        for step in data["steps"]
    )
    return Scenario(
        name=data["name"],
        operation=data["operation"],
        steps=steps,
        description=data.get("description", ""),
        when=when,
        default=data.get("default", False),
        jitter=parse_duration(data.get("jitter", 0)),
        quirks=tuple(data.get("quirks", ())),
        source=f"{filename}:{line}:{column}",
        recording=str(_recording_path(data["recording"], filename))
        if "recording" in data
        else None,
    )


def _recording_path(value: str, filename: str) -> Path:
    """A scenario's audio file, relative to the scenario file (or, for a scenario sent over
    HTTP, to mockgraph's working directory)."""
    path = Path(value)
    return path if path.is_absolute() else Path(filename).parent / path
