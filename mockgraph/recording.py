"""What ``mockgraph record`` saw, turned into scenarios: no HTTP here (``mockgraph.http.recorder``
is the proxy that feeds it).

Each request the bot made that plays a scenario in mockgraph (a transfer, an answer, a prompt)
is a recorded operation of its call. Each notification that Graph then POSTed about the call
belongs to the call's latest operation, except one about an operation resource
(``/operations/{id}``), which belongs to the operation with that id, and the notifications of
a call the bot has made no request on yet: the incoming call itself is rung in mockgraph with
``POST /_mock/calls/ring``, not played, and what follows it unanswered is a ``ringTimeout``.
Key presses and roster changes become ``tones`` and ``roster`` steps of the operation they
followed. Every time a recorded operation gains a notification, its scenario file is written
again, whole (``save_changed``), so a proxy killed mid-run leaves each operation's scenario
as far as it got.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mockgraph.calling.operations import NAMESPACE, OPERATIONS, RING_TIMEOUT, Operation
from mockgraph.ids import named_call
from mockgraph.scenarios.importer import ImportProblem, Post, scenario_from
from mockgraph.scenarios.templating import MISSING, lookup

REDACTED = "[redacted]"
# Values that grant access: never written to a file (a recording's is a placeholder instead).
SECRETS = frozenset({"recordingAccessToken"})
# In a scenario, mockgraph's own recording stands in for the one Graph made.
PLACEHOLDERS = {
    "recordingLocation": "{{ recording.location }}",
    "recordingAccessToken": "{{ recording.token }}",
}


def _pattern(path: str) -> re.Pattern[str]:
    """A served form as a pattern: its ids as groups, its namespace (if any) in any case."""
    escaped = re.escape(path).replace(re.escape(NAMESPACE), f"(?i:{re.escape(NAMESPACE)})")
    return re.compile(re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", escaped) + "$")


# The routes of the operations that play a scenario, as patterns of the request path.
ROUTES = [
    (form.method, _pattern(form.path), operation)
    for operation in OPERATIONS
    if operation.plays and operation.route
    for form in operation.route.forms()
]


def operation_of(method: str, path: str) -> tuple[Operation, str | None] | None:
    """The operation a request is, and the call its path names (None for create)."""
    for route_method, pattern, operation in ROUTES:
        matched = pattern.match(path) if route_method == method else None
        if matched:
            return operation, matched.groupdict().get("id")
    return None


class Pseudonyms:
    """Tenant and user ids replaced by GUIDs that stay the same within one recording and
    cannot be traced back (a random namespace per recording). Off: everything as it was."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._namespace = uuid.uuid4()
        self._names: dict[str, str] = {}

    def learn(self, value: Any) -> None:
        """Note the tenant and user ids in a request or notification body."""
        if not self.enabled:
            return
        if isinstance(value, dict):
            for key, item in value.items():
                if isinstance(item, str) and item and key == "tenantId":
                    self._name(item)
                elif key == "user" and isinstance(item, dict):
                    for inner in ("id", "tenantId"):
                        if isinstance(item.get(inner), str) and item[inner]:
                            self._name(item[inner])
                self.learn(item)
        elif isinstance(value, list):
            for item in value:
                self.learn(item)

    def _name(self, real: str) -> None:
        self._names.setdefault(real, str(uuid.uuid5(self._namespace, real)))

    def apply(self, value: Any) -> Any:
        if not self._names:
            return value
        if isinstance(value, dict):
            return {key: self.apply(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.apply(item) for item in value]
        if isinstance(value, str):
            for real, fake in self._names.items():
                value = value.replace(real, fake)
        return value


def redacted(value: Any, replacements: Mapping[str, str] | None = None) -> Any:
    """``value`` with every secret ``[redacted]``; a non-empty value of a key in
    ``replacements`` becomes that (a placeholder) instead, secret or not."""
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            if replacements and key in replacements and item:
                result[key] = replacements[key]
            elif key in SECRETS and item:
                result[key] = REDACTED
            else:
                result[key] = redacted(item, replacements)
        return result
    if isinstance(value, list):
        return [redacted(item, replacements) for item in value]
    return value


@dataclass
class RecordedOperation:
    """One request the bot made, and the notifications that followed it."""

    number: int  # in order of recording, from 1
    operation: Operation
    call_id: str
    method: str
    path: str
    body: Mapping[str, Any]
    answered: float  # time.time() when the answer came back
    operation_id: str | None = None  # of the commsOperation it answered with
    posts: list[Post] = field(default_factory=list)

    @property
    def scenario_operation(self) -> str:
        return self.operation.name

    @property
    def name(self) -> str:
        # Zero-padded, so that files sort (and load, and win ties) in the order recorded.
        return f"recorded-{self.number:03d}-{self.scenario_operation}"

    def when(self) -> dict[str, Any]:
        """The rules that match this request again: its distinguishing fields."""
        rules: dict[str, Any] = {}
        for match in self.operation.matched_by:
            found = lookup(self.body, match.path)
            if found is MISSING:
                continue
            if match.presence:
                rules[match.path] = {"exists": True}
            elif isinstance(found, str | int | float | bool):
                rules[match.path] = found
        return rules


class Capture:
    """The operations and notifications ``mockgraph record`` saw, by call, as they become
    scenario files: a capture of real traffic (a recorded call's audio is media's Recording).
    ``write(name, text)`` is given each scenario file as it changes; ``problem(message)`` what
    cannot be a scenario."""

    def __init__(
        self,
        *,
        source: str,
        when: str,
        write: Callable[[str, str], None],
        problem: Callable[[str], None],
        pseudonyms: Pseudonyms | None = None,
    ) -> None:
        self.source = source  # the upstream, for descriptions
        self.when = when  # the recording's date and time, for descriptions
        self._write = write
        self._problem = problem
        self.pseudonyms = pseudonyms or Pseudonyms(False)
        self.operations: list[RecordedOperation] = []
        self._latest: dict[str, RecordedOperation] = {}  # by call id
        self._by_operation_id: dict[str, RecordedOperation] = {}
        self._incoming: dict[str, float] = {}  # call id -> when Graph announced it
        self._changed: dict[int, RecordedOperation] = {}  # by number, not yet written

    def request(
        self,
        method: str,
        path: str,
        body: Any,
        status: int,
        answer: Any,
        answered: float,
    ) -> RecordedOperation | None:
        """A request the bot made and its answer; the operation it recorded, if it plays
        a scenario and Graph accepted it."""
        found = operation_of(method, path.split("?", 1)[0])
        if found is None or not 200 <= status < 300:
            return None
        operation, call_id = found
        if call_id is None and isinstance(answer, dict):
            call_id = answer.get("id")
        if not isinstance(call_id, str):
            return None
        self.pseudonyms.learn(body)
        recorded = RecordedOperation(
            len(self.operations) + 1,
            operation,
            call_id,
            method,
            path,
            body if isinstance(body, dict) else {},
            answered,
        )
        if operation.returns is not None and isinstance(answer, dict):
            operation_id = answer.get("id")
            if isinstance(operation_id, str):
                recorded.operation_id = operation_id
                self._by_operation_id[operation_id] = recorded
        self.operations.append(recorded)
        self._latest[call_id] = recorded
        self._changed[recorded.number] = recorded  # on disk with no steps until Graph sends some
        return recorded

    def save_changed(self) -> None:
        """Write the scenario of each operation that changed since the last time. Apart from
        ``request`` and ``notification``, so that a caller can answer first: making and
        checking a scenario takes milliseconds that the bot should not wait for."""
        changed, self._changed = self._changed, {}
        for recorded in changed.values():
            self._save(recorded)

    def flush(self) -> None:
        """Write every recorded operation's scenario again."""
        self._changed = {}
        for recorded in self.operations:
            self._save(recorded)

    def notification(self, body: Any, received: float) -> RecordedOperation | None:
        """A POST Graph made to the bot; the operation it was recorded under, if any."""
        items = body.get("value") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items or not isinstance(items[0], dict):
            return None
        self.pseudonyms.learn(body)
        named = named_call(str(items[0].get("resourceUrl", "")))
        if named is None:
            return None
        call_id, tail = named
        owner = self._owner(call_id, tail, items[0], received)
        if owner is None:
            return None
        owner.posts.append(Post(received, body, f"{self.source} at {received:.3f}"))
        self._changed[owner.number] = owner
        return owner

    def _owner(
        self, call_id: str, tail: list[str], item: dict[str, Any], received: float
    ) -> RecordedOperation | None:
        if tail[:1] == ["operations"] and len(tail) == 2 and tail[1] in self._by_operation_id:
            return self._by_operation_id[tail[1]]
        if call_id in self._latest:
            return self._latest[call_id]
        data = item.get("resourceData")
        if isinstance(data, dict) and data.get("state") == "incoming":
            self._incoming[call_id] = received  # rung with POST /_mock/calls/ring on replay
            return None
        # Graph ended an incoming call the bot never answered: its ring timed out.
        recorded = RecordedOperation(
            len(self.operations) + 1,
            RING_TIMEOUT,
            call_id,
            "",
            "",
            {},
            self._incoming.get(call_id, received),
        )
        self.operations.append(recorded)
        self._latest[call_id] = recorded
        return recorded

    def _save(self, recorded: RecordedOperation) -> None:
        posts = [Post(post.time, self._cleaned(post.body), post.source) for post in recorded.posts]
        what = f"{recorded.method} {recorded.path}" if recorded.method else "an unanswered ring"
        when = self.pseudonyms.apply(recorded.when())
        try:
            text = scenario_from(
                posts,
                name=recorded.name,
                operation=recorded.scenario_operation,
                description=f"Recorded from {self.source} on {self.when}: {what}.",
                started=recorded.answered,
                when=when,
                default=not when,
            )
        except ImportProblem as error:
            self._problem(f"{recorded.name}: {error}")
            return
        self._write(f"{recorded.name}.yaml", text)

    def _cleaned(self, body: dict[str, Any]) -> dict[str, Any]:
        cleaned: dict[str, Any] = self.pseudonyms.apply(redacted(body, PLACEHOLDERS))
        return cleaned
