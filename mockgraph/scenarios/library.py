"""The loaded scenarios, and which one an operation plays."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from mockgraph.scenarios.model import Scenario


class ScenarioLibrary:
    """Scenarios by name. A scenario loaded later replaces an earlier one of the same name,
    so a tester's file can redefine a built-in."""

    def __init__(
        self, scenarios: Iterable[Scenario] = (), *, faults: Iterable[Mapping[str, Any]] = ()
    ) -> None:
        self._by_name: dict[str, Scenario] = {}
        self.faults = tuple(faults)  # what the files set on Graph requests, as --fault does
        self.add(scenarios)

    def add(self, scenarios: Iterable[Scenario]) -> None:
        for scenario in scenarios:
            self._by_name.pop(scenario.name, None)  # re-insert: load order decides ties
            self._by_name[scenario.name] = scenario
        # Per operation, the automatic scenarios best first: most rules, then loaded last.
        self._candidates: dict[str, list[Scenario]] = {}
        for scenario in reversed(self._by_name.values()):
            if scenario.automatic:
                self._candidates.setdefault(scenario.operation, []).append(scenario)
        for candidates in self._candidates.values():
            candidates.sort(key=lambda s: len(s.when), reverse=True)  # stable: keeps load order

    def __iter__(self) -> Iterator[Scenario]:
        return iter(self._by_name.values())

    def __len__(self) -> int:
        return len(self._by_name)

    def get(self, name: str) -> Scenario | None:
        return self._by_name.get(name)

    def names(self) -> list[str]:
        return list(self._by_name)

    def select(
        self, operation: str, request: Mapping[str, Any], pinned: str | None = None
    ) -> Scenario | None:
        """The pinned scenario if it is for this operation; else the most specific automatic
        scenario whose ``when`` rules all hold (most rules wins; a tie goes to the one loaded
        last); else ``None``."""
        if pinned is not None:
            scenario = self._by_name.get(pinned)
            if scenario is not None and scenario.operation == operation:
                return scenario
        for scenario in self._candidates.get(operation, ()):
            if scenario.matches(request):
                return scenario
        return None
