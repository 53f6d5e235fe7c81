"""What plays on a call, and what plays next: the scenario each operation plays (chosen from the
library by its request, or pinned by a test), and each call's media queue, where prompts and
recordings wait their turn. The Player plays what it is given; the Director gives it."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from mockgraph.calling.calls import Call, CommsOperation
from mockgraph.calling.media import MediaQueue, Queued, Recordings
from mockgraph.calling.operations import Operation
from mockgraph.calling.playback import NOTHING_MORE, RELEASE_CALL, After, Player
from mockgraph.scenarios.library import ScenarioLibrary

log = logging.getLogger("mockgraph")


class Director:
    def __init__(self, library: ScenarioLibrary, player: Player, recordings: Recordings) -> None:
        self._library = library
        self._player = player
        self._recordings = recordings
        self._media = MediaQueue(self._start_media, player.stop_operation, self._cancelled)
        player.listen_to_keys(self._media.pressed)

    def play_claiming(self, operation: Operation, name: str, call: Call, body: Any) -> None:
        """Play the scenario for ``name`` (the operation's, or its fallback's), the operation
        claiming the call until its last step."""
        call.begin(operation.name)
        if not self._play_for(name, call, RELEASE_CALL, body):
            call.finish()

    def play_beside(self, name: str, call: Call, body: Any) -> None:
        """Play the scenario for ``name`` beside what claims the call (a roster change)."""
        self._play_for(name, call, NOTHING_MORE, body)

    def play_media(self, queued: Queued, call: Call, *, queue: bool) -> None:
        """Play a commsOperation's scenario: in the call's media queue, or now."""
        if queue:
            self._media.add(queued, call)
        else:
            self._start_media(queued, call, NOTHING_MORE)

    def cancel_media(self, call: Call, reason: str) -> None:
        self._media.cancel(call, reason)

    def interrupt(self, call: Call, reason: str) -> None:
        """Stop whatever plays for the call, its prompts included."""
        self._player.stop(call.id, reason)
        self._media.drop(call)
        call.finish()

    def _start_media(self, queued: Queued, call: Call, after: After) -> bool:
        """Play an operation's scenario; whether one plays."""
        return self._play_queued(queued, queued.scenario_operation, call, after)

    def _cancelled(self, queued: Queued, call: Call) -> None:
        """A cancelled media operation gets its own scenario's failure, if it declares one."""
        if queued.cancelled_scenario is not None:
            self._play_queued(queued, queued.cancelled_scenario, call, NOTHING_MORE)

    def _play_queued(
        self, queued: Queued, scenario_operation: str, call: Call, after: After
    ) -> bool:
        """``_play_for`` with what a queued media operation carries."""
        return self._play_for(
            scenario_operation,
            call,
            after,
            queued.request,
            operation=queued.operation,
            values=queued.values,
        )

    def _play_for(
        self,
        scenario_operation: str,
        call: Call,
        after: After,
        request: Mapping[str, Any],
        *,
        operation: CommsOperation | None = None,
        values: Mapping[str, Any] | None = None,
    ) -> bool:
        """Play the scenario for ``scenario_operation``, chosen by ``request``; whether there
        is one. ``after``: what follows its last step; ``operation``: the commsOperation it
        plays for, if any; ``values``: more template roots."""
        scenario = self._library.select(scenario_operation, request, call.pinned_scenario)
        if scenario is None:
            log.warning(
                "no scenario for %s of call %s: nothing will be notified",
                scenario_operation,
                call.id,
            )
            return False
        if scenario.name == call.pinned_scenario:
            call.pin(None)  # a pin is for the next operation only
        if scenario.recording is not None and operation is not None:
            self._recordings.use(operation.id, scenario.recording)
        self._player.play(scenario, call, request, operation=operation, values=values, after=after)
        return True

    def stops_on(self, call: Call, tone: str) -> bool:
        """Whether pressing ``tone`` now ends what runs on the call (a recording's stopTones)."""
        return self._media.stops_on(call, tone)

    def reset(self) -> None:
        self._media.clear()
