"""Scenarios as plain values: what to notify, when, and for which requests."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from mockgraph.scenarios.templating import MISSING, has_placeholder, lookup


@dataclass(frozen=True)
class Exists:
    """A ``when`` rule that holds when the path is present (or absent)."""

    present: bool


Matcher = Exists | str | int | float | bool | None


@dataclass(frozen=True)
class Step:
    after: float  # seconds since the previous step went out
    notify: tuple[Mapping[str, Any], ...]  # each: changeType, resourceData, envelope overrides
    call: str | None = None  # template naming another call; None = the operation's call
    fault: str | None = None  # "duplicate", "drop" or "outOfOrder"
    jitter: float = 0.0  # seconds either way
    quirks: tuple[str, ...] = ()
    about: str = "call"  # "operation": the notifications are about the operation it plays for
    tones: tuple[str, ...] = ()  # key presses (Graph tone names) after the notifications
    roster: str | None = None  # "current": the roster goes out; "invitees": they join first
    join: tuple[Mapping[str, Any], ...] = ()  # identitySets that join; the roster goes out
    leave: tuple[str, ...] = ()  # identity ids of participants who leave; the roster goes out
    far_side: str | None = None  # last, the far side acts: hangUp, mediaFailure, meetingEnded

    def to_json(self) -> dict[str, Any]:
        """The step as it plays: its pause in seconds, and only what it has."""
        shown: dict[str, Any] = {"after": self.after}
        optional = {
            "notify": [dict(n) for n in self.notify],
            "call": self.call,
            "fault": self.fault,
            "jitter": self.jitter or None,
            "quirks": list(self.quirks),
            "about": self.about if self.about != "call" else None,
            "tones": list(self.tones),
            "roster": self.roster,
            "join": [dict(i) for i in self.join],
            "leave": list(self.leave),
            "farSide": self.far_side,
        }
        shown.update({key: value for key, value in optional.items() if value})
        return shown

    @cached_property
    def templated(self) -> bool:
        """Whether any value has a placeholder: steps without one skip rendering."""
        return any(has_placeholder(n) for n in self.notify) or self.call is not None


@dataclass(frozen=True)
class Scenario:
    name: str
    operation: str
    steps: tuple[Step, ...]
    description: str = ""
    when: Mapping[str, Matcher] = field(default_factory=dict)
    default: bool = False
    jitter: float = 0.0  # seconds either way, for every step without its own
    quirks: tuple[str, ...] = ()
    source: str = "<memory>"  # file:line:col of the scenario
    recording: str | None = None  # the audio a recording it finishes downloads as

    @property
    def automatic(self) -> bool:
        """Whether selection may choose it without a pin."""
        return self.default or bool(self.when)

    def matches(self, request: Mapping[str, Any]) -> bool:
        for path, rule in self.when.items():  # noqa: SIM110 (all() and its generator cost more on every request)
            if not _holds(lookup(request, path), rule):
                return False
        return True

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "operation": self.operation,
            "default": self.default,
            "when": {
                path: {"exists": rule.present} if isinstance(rule, Exists) else rule
                for path, rule in self.when.items()
            },
            "steps": len(self.steps),
            "quirks": list(self.quirks),
            "source": self.source,
        }

    def to_json(self) -> dict[str, Any]:
        """The summary, with its steps as they play in place of their count."""
        return {**self.summary(), "steps": [step.to_json() for step in self.steps]}


def _holds(found: Any, rule: Matcher) -> bool:
    if isinstance(rule, Exists):
        return (found is not MISSING) == rule.present
    if found is MISSING:
        return False
    if isinstance(rule, bool) or isinstance(found, bool):  # true must not match 1
        return found is rule
    return bool(found == rule)
