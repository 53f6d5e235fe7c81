"""Faults on Graph requests: Graph throttling, failing, or answering late, on demand.

A test adds a fault (``POST /_mock/faults``); each Graph request, once its bearer token is
checked and before anything else, is offered to the faults in the order they were added, and
the first that matches and fires answers it instead of mockgraph (or, with ``delayMs`` and no
``status``, only makes the real answer late). A faulted request changes nothing: no call, no
operation, no notification. Each fault says:

- ``match``: which requests (``operation`` from the operation table, ``callId``, ``method``,
  ``path`` as a glob), any of them; none matches every Graph request;
- ``status`` (with Graph's error body for it; ``code`` and ``message`` override) and
  ``retryAfter`` (seconds, for a ``Retry-After`` header), and ``delayMs``;
- how often: every matching request, or ``times`` (the next N), ``every`` (every Nth), ``rate``
  with a ``seed`` (a share of them, the same ones on every run), or ``budget`` (``requests``
  per ``windowSeconds``; past it, Graph's throttling: ``429`` with ``Retry-After`` set to when
  the window frees).

A request that comes again before the ``Retry-After`` it was given has passed is an early
retry: the journal marks it so that a test can assert that a bot backs off.
"""

from __future__ import annotations

import fnmatch
import math
import random
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol

from mockgraph.clock import Clock
from mockgraph.errors import BadRequest, GraphError, ResourceNotFound
from mockgraph.ids import new_id
from mockgraph.schema.validation import Shape, did_you_mean

# Graph's error for a status, where the fault names only the status: its code and message.
# 429: concepts/throttling.md; 403 7504 and 404 8522: the calling service's, in real logs
# (graph-faults-facts.md §5); the rest: the codes of concepts/errors.md.
GRAPH_ERRORS: Mapping[int, tuple[str, str]] = {
    400: ("BadRequest", "The request is invalid."),
    401: ("InvalidAuthenticationToken", "Access token validation failure."),
    403: ("7504", "Insufficient enterprise tenant permissions, cannot access this API."),
    404: ("8522", "Call not found."),
    409: ("Conflict", "The request conflicts with the state of the resource."),
    429: ("TooManyRequests", "Please retry again later."),
    500: ("generalException", "An internal server error occurred."),
    501: ("notSupported", "The requested feature isn't implemented."),
    502: ("badGateway", "The server received an invalid response from upstream."),
    503: ("serviceNotAvailable", "The service is temporarily unavailable. Please retry later."),
    504: ("gatewayTimeout", "The server, acting as a proxy, didn't receive a timely response."),
    507: ("quotaLimitReached", "Insufficient storage."),
    509: ("activityLimitReached", "Bandwidth limit exceeded."),
}
# A status the table does not name: Graph's general code for its class.
OTHER_ERRORS = {4: ("BadRequest", "The request failed."), 5: GRAPH_ERRORS[500]}

NUMBER = {"type": "number", "minimum": 0}
COUNT = {"type": "integer", "minimum": 1}
FAULT = Shape(
    {
        "title": "a fault",
        "type": "object",
        "properties": {
            "id": {"type": "string", "minLength": 1},
            "match": {
                "title": "a fault's match",
                "type": "object",
                "properties": {
                    "operation": {"type": "string"},  # checked against the table below
                    "callId": {"type": "string", "minLength": 1},
                    "method": {"enum": ["GET", "POST", "PUT", "PATCH", "DELETE"]},
                    "path": {"type": "string", "pattern": "^/"},
                },
                "additionalProperties": False,
            },
            "status": {
                "type": "integer",
                "minimum": 400,
                "maximum": 599,
                "x-messages": {
                    "minimum": "is not an error status (400 to 599)",
                    "maximum": "is not an error status (400 to 599)",
                },
            },
            "code": {"type": "string", "minLength": 1},
            "message": {"type": "string"},
            "retryAfter": NUMBER,
            "delayMs": NUMBER,
            "times": COUNT,
            "every": COUNT,
            "rate": {
                "type": "number",
                "minimum": 0,
                "maximum": 1,
                "x-messages": {
                    "minimum": "is not a share from 0 to 1",
                    "maximum": "is not a share from 0 to 1",
                },
            },
            "seed": {"type": "integer"},
            "budget": {
                "title": "a budget",
                "type": "object",
                "required": ["requests", "windowSeconds"],
                "properties": {
                    "requests": COUNT,
                    "windowSeconds": {"type": "number", "exclusiveMinimum": 0},
                },
                "additionalProperties": False,
            },
        },
        "additionalProperties": False,
    }
)
HOW_OFTEN = ("times", "every", "rate", "budget")


@dataclass(frozen=True, slots=True)
class Asked:
    """A Graph request, as faults see it: its operation (None on a path no route takes), the
    call its path names, its method and path."""

    operation: str | None
    call_id: str | None
    method: str
    path: str


@dataclass(frozen=True, slots=True)
class Match:
    operation: str | None = None
    call_id: str | None = None
    method: str | None = None
    path: str | None = None  # a glob: /v1.0/communications/calls/*/transfer

    def holds(self, asked: Asked) -> bool:
        return (
            (self.operation is None or self.operation == asked.operation)
            and (self.call_id is None or self.call_id == asked.call_id)
            and (self.method is None or self.method == asked.method)
            and (self.path is None or fnmatch.fnmatchcase(asked.path, self.path))
        )


class Injected(GraphError):
    """The error a fault answers with."""

    def __init__(self, status: int, code: str, message: str, headers: Mapping[str, str]) -> None:
        super().__init__(message)
        self.status, self.code = status, code
        self.headers = MappingProxyType(dict(headers))


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a fault does to one request: ``delay`` seconds first, then ``error`` (None: the
    real answer, late)."""

    fault_id: str
    delay: float
    error: Injected | None
    retry_after: float | None


def _retry_after(seconds: float) -> str:
    """A Retry-After value: whole seconds as Graph writes them (a fraction is kept as given,
    though Kiota's Python retry handler then ignores it)."""
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"


class HowOften(Protocol):
    """When a fault fires, of the matching requests offered to it in turn."""

    def fires(self, now: float) -> tuple[bool, float | None]:
        """Whether it fires on this one, and (a budget past its limit) the seconds until its
        window frees."""
        ...


class Always:
    def fires(self, now: float) -> tuple[bool, float | None]:
        return True, None


class Times:
    """The next ``count`` matching requests."""

    def __init__(self, count: int) -> None:
        self._left = count

    def fires(self, now: float) -> tuple[bool, float | None]:
        if self._left <= 0:
            return False, None
        self._left -= 1
        return True, None


class Every:
    """Every ``nth`` matching request."""

    def __init__(self, nth: int) -> None:
        self._nth, self._seen = nth, 0

    def fires(self, now: float) -> tuple[bool, float | None]:
        self._seen += 1
        return self._seen % self._nth == 0, None


class Rate:
    """A ``share`` of the matching requests, drawn from ``seed``: the same ones every run."""

    def __init__(self, share: float, seed: int | None) -> None:
        self._share, self._random = share, random.Random(seed)

    def fires(self, now: float) -> tuple[bool, float | None]:
        return self._random.random() < self._share, None


class Budget:
    """Graph's throttling: ``requests`` per window of ``seconds``, the window starting with the
    first request after the last one ended; past it, every request until the window frees
    (they count too, as Graph counts immediate retries)."""

    def __init__(self, requests: int, seconds: float) -> None:
        self._requests, self._seconds = requests, seconds
        self._start, self._used = 0.0, 0
        self._open = False

    def fires(self, now: float) -> tuple[bool, float | None]:
        if not self._open or now >= self._start + self._seconds:
            self._start, self._used, self._open = now, 0, True
        self._used += 1
        if self._used <= self._requests:
            return False, None
        return True, self._start + self._seconds - now


def how_often(spec: Mapping[str, Any]) -> HowOften:
    if "times" in spec:
        return Times(spec["times"])
    if "every" in spec:
        return Every(spec["every"])
    if "rate" in spec:
        return Rate(spec["rate"], spec.get("seed"))
    if "budget" in spec:
        return Budget(spec["budget"]["requests"], float(spec["budget"]["windowSeconds"]))
    return Always()


class Fault:
    """One fault: which requests it matches, how often it fires, and what it answers."""

    def __init__(self, fault_id: str, spec: Mapping[str, Any]) -> None:
        self.id = fault_id
        self.spec = dict(spec)  # as it was given, for GET /_mock/faults
        match = spec.get("match", {})
        self.match = Match(
            match.get("operation"), match.get("callId"), match.get("method"), match.get("path")
        )
        self._how_often = how_often(spec)
        self._status: int | None = spec.get("status")
        self._retry_after: float | None = spec.get("retryAfter")
        self._delay = float(spec.get("delayMs", 0)) / 1000
        self.hits = 0  # requests it answered (or made late)

    def verdict(self, now: float) -> Verdict | None:
        """What it does to a matching request: None if it does not fire on this one."""
        fires, frees_in = self._how_often.fires(now)
        if not fires:
            return None
        self.hits += 1
        retry_after = self._retry_after
        if frees_in is not None and retry_after is None:
            retry_after = max(1.0, float(math.ceil(frees_in)))
        error = None
        if self._status is not None or frees_in is not None:
            status = self._status or 429
            code, message = GRAPH_ERRORS.get(status) or OTHER_ERRORS[status // 100]
            headers = {} if retry_after is None else {"Retry-After": _retry_after(retry_after)}
            code, message = self.spec.get("code", code), self.spec.get("message", message)
            error = Injected(status, code, message, headers)
        return Verdict(self.id, self._delay, error, retry_after)

    def to_json(self) -> dict[str, Any]:
        return {**self.spec, "id": self.id, "hits": self.hits}


def check(spec: Mapping[str, Any], operations: frozenset[str]) -> None:
    """A 400 naming the field if ``spec`` is not a fault; ``operations``: the names a match
    may give."""
    wrong = FAULT.problem(spec)
    if wrong is not None:
        raise BadRequest(f"{wrong}.")
    given = [key for key in HOW_OFTEN if key in spec]
    if len(given) > 1:
        raise BadRequest(
            f"'{given[1]}' and '{given[0]}' both say how often the fault fires; give one."
        )
    if "seed" in spec and "rate" not in spec:
        raise BadRequest("'seed' makes a 'rate' repeatable; give it with one.")
    if "status" not in spec and "delayMs" not in spec and "budget" not in spec:
        raise BadRequest("A fault needs a 'status', a 'delayMs' or a 'budget'.")
    operation = spec.get("match", {}).get("operation")
    if operation is not None and operation not in operations:
        hint = did_you_mean([operation], sorted(operations))
        raise BadRequest(f"'match.operation': no operation is named {operation!r}{hint}.")


class Faults:
    """The faults in force, in the order they were added; ``operations``: the names a match
    may give; ``start``: the faults set at start-up (``--fault``), which a reset sets again."""

    def __init__(
        self,
        clock: Clock,
        operations: frozenset[str],
        start: Iterable[Mapping[str, Any]] = (),
    ) -> None:
        self._clock = clock
        self._operations = operations
        self._faults: dict[str, Fault] = {}
        self._retry_after: dict[tuple[str, str], float] = {}  # (method, path): when it may
        # Each with its id now, so that a reset sets it again under the same one.
        self._start = [{**spec, "id": spec.get("id") or new_id()} for spec in start]
        self.reset()

    @property
    def active(self) -> bool:
        """Whether any request needs offering (the request path's only cost without faults)."""
        return bool(self._faults) or bool(self._retry_after)

    def add(self, spec: Mapping[str, Any]) -> Fault:
        """A fault from its JSON form; a 400 naming the field if it is wrong."""
        check(spec, self._operations)
        fault_id = spec.get("id") or new_id()
        if fault_id in self._faults:
            raise BadRequest(f"'id': a fault '{fault_id}' is already set.")
        return self._set(fault_id, spec)

    def _set(self, fault_id: str, spec: Mapping[str, Any]) -> Fault:
        fault = self._faults[fault_id] = Fault(fault_id, spec)
        return fault

    def add_all(self, specs: Iterable[Mapping[str, Any]]) -> list[Fault]:
        """Faults from their JSON forms, all or none: a 400 for the first that is wrong."""
        specs = list(specs)
        ids = [spec["id"] for spec in specs if spec.get("id")]
        for spec in specs:
            check(spec, self._operations)
        taken = sorted({i for i in ids if i in self._faults or ids.count(i) > 1})
        if taken:
            raise BadRequest(f"'id': a fault '{taken[0]}' is already set, or given twice.")
        return [self._set(spec.get("id") or new_id(), spec) for spec in specs]

    def __iter__(self) -> Iterator[Fault]:
        return iter(list(self._faults.values()))

    def remove(self, fault_id: str) -> None:
        if self._faults.pop(fault_id, None) is None:
            raise ResourceNotFound(f"No fault '{fault_id}' is set.")

    async def wait(self, verdict: Verdict) -> None:
        """The latency a fault adds, on the service's clock."""
        if verdict.delay > 0:
            await self._clock.sleep(verdict.delay)

    def clear(self) -> None:
        """No fault, start-up ones included, until the next reset."""
        self._faults.clear()
        self._retry_after.clear()

    def reset(self) -> None:
        """The start-up faults only, each as new (its count and window start again)."""
        self.clear()
        for spec in self._start:
            self.add(spec)

    def offer(self, asked: Asked) -> tuple[Verdict | None, bool]:
        """What the first fault that matches and fires does to ``asked`` (None: nothing), and
        whether it came before the Retry-After its last faulted answer gave."""
        now = self._clock.monotonic()
        key = (asked.method, asked.path)
        early = False
        if self._retry_after:
            early = now < self._retry_after.get(key, now)
            for passed in [k for k, at in self._retry_after.items() if at <= now]:
                del self._retry_after[passed]
        for fault in self._faults.values():
            if not fault.match.holds(asked):
                continue
            verdict = fault.verdict(now)
            if verdict is not None:
                if verdict.retry_after is not None and verdict.error is not None:
                    self._retry_after[key] = now + verdict.retry_after
                return verdict, early
        return None, early
