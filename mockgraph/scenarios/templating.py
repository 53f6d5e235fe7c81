"""``{{ call.id }}``-style substitution into scenario values. Substitution only, never evaluation.

A string that is exactly one placeholder takes the referenced value as it is (an object, a
number, ``null`` when missing); a placeholder inside a longer string is replaced by its text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
DOTTED = re.compile(r"[A-Za-z0-9_@$-]+(\.[A-Za-z0-9_@$-]+)*")
ROOTS = ("call", "request", "operation", "recording")
MISSING: Any = object()


def lookup(value: Any, path: str) -> Any:
    """Follow a dotted path through nested mappings and lists (``prompts.0.mediaInfo.uri``);
    ``MISSING`` where it leads nowhere."""
    for part in path.split("."):
        # dict first: every request body is one, and `when` matching runs on each request
        if type(value) is dict or isinstance(value, Mapping):
            if part not in value:
                return MISSING
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return MISSING
    return value


def render(value: Any, context: Mapping[str, Any]) -> Any:
    """``value`` with every placeholder replaced from ``context`` (``{"call":…, "request":…}``)."""
    if isinstance(value, str):
        return _render_string(value, context)
    if isinstance(value, dict):
        return {key: render(item, context) for key, item in value.items()}
    if isinstance(value, list):
        return [render(item, context) for item in value]
    return value


def has_placeholder(value: Any) -> bool:
    """Whether ``value`` (a string, or nested mappings and lists) holds any placeholder."""
    if isinstance(value, str):
        return PLACEHOLDER.search(value) is not None
    if isinstance(value, Mapping):
        return any(has_placeholder(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(has_placeholder(item) for item in value)
    return False


def is_template(value: Any) -> bool:
    return isinstance(value, str) and PLACEHOLDER.search(value) is not None


def placeholder_problems(value: Any) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """(path, message) for each placeholder that cannot refer to the call or the request."""
    yield from _walk(value, ())


def placeholders(value: Any) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """(path, the dotted reference) of each well-formed placeholder in ``value``."""
    if isinstance(value, str):
        for match in PLACEHOLDER.finditer(value):
            if DOTTED.fullmatch(match.group(1)):
                yield (), match.group(1)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from (((key, *path), ref) for path, ref in placeholders(item))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from (((index, *path), ref) for path, ref in placeholders(item))


def _walk(value: Any, path: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], str]]:
    if isinstance(value, str):
        rest = PLACEHOLDER.sub("", value)
        if "{{" in rest:
            start = rest[rest.index("{{") :].split("}}")[0]
            yield path, f"'{start}' opens a placeholder that never closes: end it with }}}}"
        for match in PLACEHOLDER.finditer(value):
            expression = match.group(1)
            root = expression.split(".", 1)[0]
            if not DOTTED.fullmatch(expression):
                yield path, f"'{match.group(0)}' is not a dotted path such as {{{{ call.id }}}}"
            elif root not in ROOTS:
                yield (
                    path,
                    (
                        f"'{match.group(0)}' must start with {_roots()} (values come from the "
                        "call, the request, the operation it started or its recording, nothing "
                        "else)"
                    ),
                )
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, (*path, index))


def _roots() -> str:
    names = [f"'{root}.'" for root in ROOTS]
    return ", ".join(names[:-1]) + " or " + names[-1]


def _render_string(text: str, context: Mapping[str, Any]) -> Any:
    whole = PLACEHOLDER.fullmatch(text)
    if whole:
        found = lookup(context, whole.group(1))
        return None if found is MISSING else found

    def substitute(match: re.Match[str]) -> str:
        found = lookup(context, match.group(1))
        if found is MISSING or found is None:
            return ""
        return found if isinstance(found, str) else json.dumps(found)

    return PLACEHOLDER.sub(substitute, text)
