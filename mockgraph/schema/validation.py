"""Request-body validation against the Graph metadata, with messages that name the field.

The schemas in ``schemas/graph-{version}.json`` are generated from the Graph CSDL by
``tools/build_graph_schemas.py``; see that module for how CSDL maps to JSON Schema.

jsonschema is the authority. When the optional ``fastjsonschema`` is installed
(``pip install mockgraph[fast]``), it compiles the same schema into Python code and checks
valid bodies about nine times faster (see BENCHMARKS.md); whatever it rejects is checked again
by jsonschema, which decides and writes the message.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported when first needed: importing jsonschema is a fifth of start-up
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

API_VERSIONS = ("v1.0", "beta")
SHOWN = 120  # characters of a value a problem shows, at most


@cache
def graph_schema(version: str) -> dict[str, Any]:
    """The generated schema document for an API version (``v1.0`` or ``beta``)."""
    text = resources.files("mockgraph.schema").joinpath(f"graph-{version}.json")
    document: dict[str, Any] = json.loads(text.read_text(encoding="utf-8"))
    return document


@cache
def declared(version: str, definition: str) -> frozenset[str]:
    """The properties a Graph type declares in ``version`` (``microsoft.graph.call``)."""
    entry = (
        graph_schema(version)["$defs"].get(f"{definition}.own")
        or graph_schema(version)["$defs"][definition]
    )
    return frozenset(entry.get("properties", ()))


def names_nothing(version: str, definition: str, parts: Sequence[str]) -> str | None:
    """Why the dotted path ``parts`` names nothing in the Graph type ``definition``, or None
    if it may name something. The type's own names are all there are at its root (an
    action's parameters) and in a closed type; an open type takes any other name, but one a
    letter or two from a declared name reads as a typo of it."""
    defs = graph_schema(version)["$defs"]
    schema: Any = defs[definition]
    title = str(schema.get("title", definition))
    for depth, part in enumerate(parts):
        schema = _concrete(schema, defs)
        if "items" in schema:
            if not part.isdigit():
                where = ".".join(parts[:depth]) or title
                return f"names nothing: {where} is a list; name an item by its index (.0)"
            schema = schema["items"]
            continue
        properties = schema.get("properties")
        if properties is None:
            where = ".".join(parts[:depth])
            return f"names nothing: {where} has no properties" if depth else None
        if part in properties:
            schema = properties[part]
            continue
        declared = [name for name in properties if "@" not in name]
        hint = did_you_mean([part], declared)
        closed = depth == 0 or schema.get("additionalProperties") is False
        if closed or hint:
            owner = schema.get("title", ".".join(parts[:depth]))
            return f"names nothing: {owner} has no '{part}'{hint}"
        return None
    return None


def _concrete(schema: Any, defs: dict[str, Any]) -> dict[str, Any]:
    """A schema with its references followed: ``$ref``, a nullable ``anyOf``'s other branch,
    and a type's dispatch on ``@odata.type`` (the untyped branch: its ``then``)."""
    while isinstance(schema, dict):
        if "$ref" in schema:
            schema = defs[schema["$ref"].removeprefix("#/$defs/")]
        elif "anyOf" in schema:
            schema = next(b for b in schema["anyOf"] if b.get("type") != "null")
        elif "if" in schema and "then" in schema:
            schema = schema["then"]
        else:
            return schema
    return {}


def _root(version: str, definition: str, optional: frozenset[str]) -> dict[str, Any]:
    """A schema whose root is one ``$defs`` entry, less the ``optional`` required names."""
    defs = graph_schema(version)["$defs"]
    if definition not in defs:
        raise KeyError(f"no Graph schema definition {definition!r} for {version}")
    if not optional:
        return {"$defs": defs, "$ref": f"#/$defs/{definition}"}
    entry = defs[definition]
    required = [name for name in entry.get("required", ()) if name not in optional]
    return {**entry, "required": required, "$defs": defs}


@cache
def validator_for(
    version: str, definition: str, optional: frozenset[str] = frozenset()
) -> Draft202012Validator:
    """A compiled validator for one ``$defs`` entry, e.g. ``action.transfer``; ``optional``
    names properties the CSDL requires that are not required here."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(_root(version, definition, optional))


@cache
def _compiled(
    version: str, definition: str, optional: frozenset[str] = frozenset()
) -> Callable[[Any], Any] | None:
    """fastjsonschema's compiled check of one definition, or None without the extra. It only
    says yes or no (jsonschema words every rejection), so it is compiled without the detailed
    exceptions that embed each rule's schema in the code: the transfer's compiled in 8.6 ms
    instead of 27.6, at a request's first use of it, and checked in 5.2 µs instead of 5.8
    (BENCHMARKS.md)."""
    try:
        import fastjsonschema
    except ImportError:
        return None
    # Draft 7 has every keyword the generated schemas use; $defs is only a JSON pointer target.
    schema = {"$schema": "http://json-schema.org/draft-07/schema#"}
    compiled: Callable[[Any], Any] = fastjsonschema.compile(
        {**schema, **_root(version, definition, optional)}, detailed_exceptions=False
    )
    return compiled


def _compile(schema: dict[str, Any]) -> Callable[[Any], Any] | None:
    """fastjsonschema's check of a schema of mockgraph's own, or None without the extra."""
    try:
        import fastjsonschema
    except ImportError:
        return None
    compiled: Callable[[Any], Any] = fastjsonschema.compile(
        {"$schema": "http://json-schema.org/draft-07/schema#", **schema}, detailed_exceptions=False
    )
    return compiled


def is_valid(
    version: str, definition: str, instance: Any, optional: frozenset[str] = frozenset()
) -> bool:
    """Whether ``instance`` is valid; the compiled check first when it is installed."""
    compiled = _compiled(version, definition, optional)
    if compiled is not None:
        try:
            compiled(instance)
            return True
        except Exception:  # JsonSchemaException, or anything its generated code raises
            pass  # jsonschema decides (e.g. formats, which fastjsonschema checks and we don't)
    return validator_for(version, definition, optional).is_valid(instance)


def problem(
    version: str, definition: str, instance: Any, optional: frozenset[str] = frozenset()
) -> str | None:
    """What is wrong with ``instance`` as the Graph type ``definition``, in one sentence; None
    if nothing is."""
    if is_valid(version, definition, instance, optional):  # the common case, and the fast path
        return None
    return _worded(validator_for(version, definition, optional), instance) or "invalid"


def _worded(validator: Draft202012Validator, instance: Any) -> str | None:
    """The sentence for the error a user should read first, if there is one."""
    error = first_error(list(validator.iter_errors(instance)))
    return describe(error) if error else None


class Shape:
    """A small JSON Schema of mockgraph's own (a control-plane body), checked and worded as
    Graph bodies are."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        self._validator: Draft202012Validator | None = None
        self._fast: Callable[[Any], Any] | bool | None = False  # False: not compiled yet

    def problem(self, instance: Any) -> str | None:
        # The fast path, as for Graph bodies: a control-plane call is in every test's path
        # (seeding a call took 0.4 ms of jsonschema).
        if self._fast is False:
            self._fast = _compile(self.schema)
        if callable(self._fast):
            try:
                self._fast(instance)
                return None
            except Exception:  # jsonschema decides, and words it
                pass
        if self._validator is None:
            from jsonschema import Draft202012Validator

            self._validator = Draft202012Validator(self.schema)
        return _worded(self._validator, instance)


def dotted(path: Iterable[Any]) -> str:
    """``["transferTarget", "identity"]`` -> ``transferTarget.identity``; list indexes as [i]."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def describe(
    error: ValidationError, prefix: Sequence[str | int] = (), whole: str = "the body"
) -> str:
    """One sentence naming the field (under ``prefix``) and what is wrong with it; ``whole``
    names the document when the error is at its root.

    A schema words a failure itself with ``x-messages`` (keyword -> sentence), checked before
    an ``anyOf`` is searched for its deepest failure, so a duration written ``"soon"`` reads
    "is not a duration" rather than "does not match the second branch"."""
    error = shown_error(error)
    where = dotted([*prefix, *error.absolute_path])
    subject = f"'{where}'" if where else whole
    schema = error_schema(error)
    declared_message = schema.get("x-messages", {}).get(error.validator)
    if declared_message:
        shown = error.instance
        if isinstance(shown, dict | list):  # a structure would drown the sentence
            return f"{subject} {declared_message}"
        return f"{subject}: {_shown(shown)} {declared_message}"
    if error.validator == "required":
        missing = str(error.message).split("'")[1] if "'" in error.message else "?"
        field = f"{where}.{missing}" if where else missing
        return f"'{field}' is required"
    if error.validator == "additionalProperties":
        extra = [name for name in extra_properties(error) if "@" not in name]
        declared = ", ".join(sorted(p for p in schema.get("properties", {}) if "@" not in p))
        title = schema.get("title", "this type")
        names = ", ".join(f"'{name}'" for name in extra)
        hint = did_you_mean(extra, schema.get("properties", {}))
        owner = f"{subject}: {title}" if where else title
        return f"{owner} has no property {names}{hint} (it declares: {declared})"
    if error.validator == "enum":
        members = [str(v) for v in _listed(error.validator_value) if v is not None]
        hint = did_you_mean([str(error.instance)], members)
        return f"{subject}: {_shown(error.instance)} is not one of: {', '.join(members)}{hint}"
    if error.validator == "type":
        expected = error.validator_value
        if isinstance(expected, list):
            expected = " or ".join(t for t in expected if t != "null")
        return f"{subject} must be {_article(str(expected))}, not {_shown(error.instance)}"
    if error.validator == "maxLength":
        return f"{subject} is longer than {error.validator_value} characters"
    return f"{subject}: {error.message}"


def shown_error(error: ValidationError) -> ValidationError:
    """The failure ``describe`` words: the one whose place a problem should point at."""
    return _declared(error) or most_specific(error)


def _shown(value: Any) -> str:
    """A value as JSON, cut short: a sentence names it, it does not reprint a file."""
    text = json.dumps(value)
    return text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"


def _declared(error: ValidationError) -> ValidationError | None:
    """The outermost failure, down an anyOf/oneOf chain, whose schema words it itself."""
    while True:
        if error.validator in error_schema(error).get("x-messages", {}):
            return error
        if error.validator not in ("anyOf", "oneOf") or not error.context:
            return None
        error = most_specific_branch(error)


def error_schema(error: ValidationError) -> dict[str, Any]:
    """The (sub)schema that failed, as a mapping."""
    return error.schema if isinstance(error.schema, dict) else {}


def extra_properties(error: ValidationError) -> list[str]:
    """For an ``additionalProperties`` failure: the keys the schema does not declare."""
    declared = error_schema(error).get("properties", {})
    instance = error.instance if isinstance(error.instance, dict) else {}
    return sorted(str(key) for key in instance if key not in declared)


def _listed(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def first_error(errors: Sequence[ValidationError]) -> ValidationError | None:
    """The error a user should read first: the shallowest path, then document order."""
    if not errors:
        return None
    return min(errors, key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))


def most_specific(error: ValidationError) -> ValidationError:
    """For an anyOf/oneOf failure, the deepest failure inside it: with anyOf [null, $ref]
    the interesting failure is inside the non-null branch."""
    while error.validator in ("anyOf", "oneOf") and error.context:
        error = most_specific_branch(error)
    return error


def most_specific_branch(error: ValidationError) -> ValidationError:
    """One level down an anyOf/oneOf failure: its deepest failing branch, not null's."""
    context = error.context or []
    branches = [e for e in context if e.validator != "type" or e.validator_value != "null"]
    return min(branches or context, key=lambda e: -len(e.absolute_path))


def did_you_mean(extra: list[str], declared: Iterable[str]) -> str:
    """``; did you mean 'x'?`` for each of ``extra`` that is a declared name in another case
    or with a typo (difflib's close match), else nothing."""
    names = list(declared)
    by_case = {name.lower(): name for name in names}
    guesses: list[tuple[str, str]] = []
    for name in extra:
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.75)
        guess = by_case.get(name.lower()) or (close[0] if close else None)
        if guess is not None and guess != name:
            guesses.append((name, guess))
    if len(guesses) == 1:
        return f"; did you mean '{guesses[0][1]}'?"
    if guesses:  # several mistyped at once: say which is which
        listed = ", ".join(f"'{guess}' for '{name}'" for name, guess in guesses)
        return f"; did you mean {listed}?"
    return ""


def _article(noun: str) -> str:
    return f"an {noun}" if noun[:1] in "aeiou" else f"a {noun}"
