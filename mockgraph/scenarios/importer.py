"""Scenarios from traces of real Graph notifications: ``mockgraph import``.

A trace is a JSON Lines file (each line a commsNotifications body, or ``{"time", "body"}`` as
``GET /_mock/calls/{id}/trace`` writes them), a folder of ``.json`` notification files, or a
HAR file. Each POST becomes a step; the pauses come from the timestamps; the call's id, and an
operation's, become the placeholders mockgraph fills in; Microsoft's spellings (``resource``,
``subCode``, capitalised change types) become quirks; the result is checked like any file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from mockgraph.ids import named_call
from mockgraph.scenarios.loader import load_text, undeclared_properties
from mockgraph.scenarios.quirks import AFTER_SET_UP

CALL_TYPE = "#microsoft.graph.call"


class ImportProblem(ValueError):
    """A trace mockgraph cannot read, or a notification a scenario cannot express."""


@dataclass(frozen=True)
class Post:
    """One POST of a trace: when (seconds, if the trace says) and its body."""

    time: float | None
    body: dict[str, Any]
    source: str  # where it came from, for messages


def read_trace(path: Path) -> list[Post]:
    """The POSTs in a JSON Lines file, a folder of .json files or a HAR file, in order."""
    if path.is_dir():
        return [post for file in sorted(path.glob("*.json")) for post in _json_file(file)]
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix == ".har":
        return _har(text, str(path))
    posts = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            posts.append(_post(_parse(line, f"{path}:{number}"), f"{path}:{number}"))
    return posts


def _parse(text: str, source: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as error:
        raise ImportProblem(f"{source}: not JSON ({error})") from None


def _json_file(file: Path) -> list[Post]:
    return [_post(_parse(file.read_text(encoding="utf-8-sig"), str(file)), str(file))]


def _post(value: Any, source: str) -> Post:
    if isinstance(value, dict) and isinstance(value.get("body"), dict):
        return Post(_seconds(value.get("time"), source), value["body"], source)
    if isinstance(value, dict) and isinstance(value.get("value"), list):
        return Post(None, value, source)
    raise ImportProblem(f"{source}: neither a commsNotifications body nor {{time, body}}")


def _seconds(time: Any, source: str) -> float | None:
    if time is None:
        return None
    if isinstance(time, int | float):
        return float(time)
    try:
        return datetime.fromisoformat(str(time).replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise ImportProblem(f"{source}: {time!r} is not an ISO 8601 time") from None


def _har(text: str, source: str) -> list[Post]:
    """The POSTs of a HAR whose bodies are commsNotifications (what Graph sent the bot)."""
    try:
        entries = json.loads(text)["log"]["entries"]
    except (ValueError, KeyError, TypeError):
        raise ImportProblem(f"{source}: not a HAR file (no log.entries)") from None
    posts = []
    for index, entry in enumerate(entries):
        request = entry.get("request", {})
        body = (request.get("postData") or {}).get("text")
        if request.get("method") != "POST" or not body:
            continue
        value = _parse(body, f"{source} entry {index}")
        if isinstance(value, dict) and isinstance(value.get("value"), list):
            when = _seconds(entry.get("startedDateTime"), f"{source} entry {index}")
            posts.append(Post(when, value, f"{source} entry {index}"))
    return posts


def scenario_from(
    posts: list[Post],
    *,
    name: str,
    operation: str,
    description: str,
    started: float | None = None,
    when: Mapping[str, Any] | None = None,
    default: bool = False,
) -> str:
    """The scenario YAML that plays ``posts`` back; ImportProblem names what it cannot say.
    ``started``: when the operation was answered (the first pause counts from it), else the
    first POST; ``when`` and ``default`` as in any scenario file."""
    if not posts and started is None:
        raise ImportProblem("the trace holds no notification")
    call_id = _call_of(posts[0]) if posts else ""
    steps = []
    step_quirks: list[set[str]] = []
    previous = started if started is not None else posts[0].time
    for post in posts:
        quirks: set[str] = set()
        step_quirks.append(quirks)
        step: dict[str, Any] = {}
        if post.time is not None and previous is not None and post.time > previous:
            step["after"] = f"{round((post.time - previous) * 1000)}ms"
        previous = post.time if post.time is not None else previous
        step.update(_step(post, call_id, quirks))
        if undeclared := undeclared_properties(step, operation) if "notify" in step else []:
            step["undeclared"] = undeclared  # real Graph sent them: kept, and said so
        steps.append(step)
    # A spelling every POST had is the scenario's; one that only some had is theirs.
    common = set.intersection(*step_quirks) if step_quirks else set()
    for step, quirks in zip(steps, step_quirks, strict=True):
        if quirks - common:
            step["quirks"] = sorted(quirks - common)
    document: dict[str, Any] = {"name": name, "description": description, "operation": operation}
    if when:
        document["when"] = dict(when)
    if default:
        document["default"] = True
    document["steps"] = steps
    if common:
        document["quirks"] = sorted(common)
    text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
    _, problems = load_text(text, f"<{name}>")
    if problems:
        raise ImportProblem(
            "the scenario would not load: " + "; ".join(p.message for p in problems)
        )
    return text


def _step(post: Post, call_id: str, quirks: set[str]) -> dict[str, Any]:
    """What one POST becomes: key presses, the roster, or notifications (about the call or
    about the operation the scenario plays for)."""
    items = post.body["value"]
    tones = [_tone(item) for item in items]
    if all(tones):
        return {"tones": tones}
    if all(_roster(item, call_id) for item in items):
        return {"roster": "current"}  # mockgraph sends the call's own roster
    converted = [_item(item, call_id, post.source, quirks) for item in items]
    step: dict[str, Any] = {}
    about = {about for about, _ in converted}
    if len(about) > 1:
        raise ImportProblem(f"{post.source}: one POST about the call and an operation both")
    if about == {"operation"}:
        step["about"] = "operation"
    notify = [notification for _, notification in converted]
    step["notify"] = notify[0] if len(notify) == 1 else notify
    return step


def _tone(item: dict[str, Any]) -> str | None:
    """The tone a key-press notification names (``tone1``), else None."""
    data = item.get("resourceData")
    info = data.get("toneInfo") if isinstance(data, dict) else None
    tone = info.get("tone") if isinstance(info, dict) else None
    return tone if isinstance(tone, str) else None


def _roster(item: dict[str, Any], call_id: str) -> bool:
    named = named_call(str(item.get("resourceUrl", "")))
    return (
        named is not None
        and named == (call_id, ["participants"])
        and isinstance(item.get("resourceData"), list)
    )


def _call_of(post: Post) -> str:
    url = str(post.body["value"][0].get("resourceUrl", ""))
    named = named_call(url)
    if named is None:
        raise ImportProblem(f"{post.source}: resourceUrl {url!r} names no call")
    return named[0]


def _item(
    item: dict[str, Any], call_id: str, source: str, quirks: set[str]
) -> tuple[str, dict[str, Any]]:
    """(what it is about, the step's notification) for one commsNotification."""
    rest = {key: value for key, value in item.items() if key != "@odata.type"}
    url = str(rest.pop("resourceUrl", ""))
    if rest.pop("resource", None) is None:  # real Graph sends it; a doc example may not
        quirks.add("noResource")
    change = str(rest.pop("changeType", ""))
    if change[:1].isupper():
        quirks.add("capitalChangeType")
    named = named_call(url)
    if named is None or named[0] != call_id:
        raise ImportProblem(
            f"{source}: a notification about {url!r}, not call {call_id!r}: a scenario plays "
            "one call's notifications (write a step with 'call:' by hand)"
        )
    tail = named[1]
    about = "call"
    operation_id = None
    if tail[:1] == ["operations"] and len(tail) == 2:
        about, operation_id = "operation", tail[1]
    elif tail:
        raise ImportProblem(f"{source}: {url!r} is neither the call nor one of its operations")
    data = rest.pop("resourceData", {})
    if not isinstance(data, dict):
        raise ImportProblem(f"{source}: resourceData is a list (a roster); write it by hand")
    if data.get("@odata.type") == CALL_TYPE or about == "operation":
        data = {key: value for key, value in data.items() if key != "@odata.type"}
    if about == "call":  # mockgraph fills these in, as real Graph sends them
        data.pop("callChainId", None)
        for key, value in AFTER_SET_UP.items():
            if data.get(key) == value:
                del data[key]
    if about == "operation":  # mockgraph fills these in for the operation it plays for
        data = {k: v for k, v in data.items() if k not in ("id", "@odata.id", "clientContext")}
    data = _templated(data, call_id, operation_id, quirks)
    notification = {"changeType": change.lower(), "resourceData": data, **rest}
    return about, notification


def _templated(value: Any, call_id: str, operation_id: str | None, quirks: set[str]) -> Any:
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            if key == "subCode":
                quirks.add("subCode")
                key = "subcode"
            result[key] = _templated(item, call_id, operation_id, quirks)
        return result
    if isinstance(value, list):
        return [_templated(item, call_id, operation_id, quirks) for item in value]
    if isinstance(value, str):
        if operation_id:
            value = value.replace(operation_id, "{{ operation.id }}")
        return value.replace(call_id, "{{ call.id }}")
    return value
