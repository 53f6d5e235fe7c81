"""The control operations behind ``/_mock``: what a test does to the fake calling service.

Every body a test sends is checked here against a declared shape (``SEED``, ``RING`` and the
small ones below), worded as Graph bodies are; the HTTP layer only parses and renders.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from mockgraph.calling.bots import Bots, CallDefaults
from mockgraph.calling.calls import Call, CallRegistry, CommsOperation, Participant
from mockgraph.calling.graph_service import GraphService
from mockgraph.calling.operations import HANG_UP as HANG_UP_OPERATION
from mockgraph.calling.operations import MEDIA_FAILURE, MEETING_ENDED
from mockgraph.calling.playback import Player, TimeSettings
from mockgraph.calling.shapes import (
    ADVANCE,
    BOT,
    HANG_UP,
    JOIN,
    PIN,
    PRESS,
    RING,
    SEED,
    SHARE,
    TIME,
    WAIT,
    checked,
)
from mockgraph.clock import iso
from mockgraph.delivery.notifier import Notifier
from mockgraph.errors import BadRequest, Conflict, ResourceNotFound, WaitTimedOut
from mockgraph.faults import Fault, Faults
from mockgraph.identity.apps import App, Apps, app_from_spec
from mockgraph.journal import Journal, NotificationRecord
from mockgraph.meetings.meetings import OnlineMeetings
from mockgraph.scenarios.library import ScenarioLibrary
from mockgraph.scenarios.loader import load
from mockgraph.scenarios.model import Scenario
from mockgraph.schema.validation import did_you_mean
from mockgraph.signals import Changes
from mockgraph.tones import tone_names


class ControlService:
    def __init__(
        self,
        calls: CallRegistry,
        library: ScenarioLibrary,
        player: Player,
        notifier: Notifier,
        journal: Journal,
        changes: Changes,
        graph: GraphService,
        bots: Bots,
        defaults: CallDefaults,
        faults: Faults,
        apps: Apps,
        meetings: OnlineMeetings,
        *,
        callback_url: str | None,
        start_time: TimeSettings,
        webhooks_busy: Callable[[], bool] = lambda: False,
    ) -> None:
        self._calls = calls
        self._library = library
        self._player = player
        self._notifier = notifier
        self._start_time = start_time
        self._journal = journal
        self._changes = changes
        self._graph = graph
        self._bots = bots
        self._defaults = defaults
        self._callback_url = callback_url
        self._faults = faults
        self._apps = apps
        self._meetings = meetings
        self._webhooks_busy = webhooks_busy  # change notifications in flight

    # --- calls -------------------------------------------------------------------------------

    def _callback(self, body: Mapping[str, Any]) -> str:
        callback_uri = body.get("callbackUri") or self._callback_url
        if not callback_uri:
            raise BadRequest(
                "'callbackUri' is required: give it in the body, "
                "or start mockgraph with --callback-url."
            )
        return str(callback_uri)

    def seed_call(self, body: Mapping[str, Any]) -> Call:
        """Add a call the bot already has (``POST /_mock/calls``)."""
        SEED.check(body)
        return self._calls.seed(
            self._callback(body),
            call_id=body.get("id"),
            state=body.get("state", "established"),
            properties={"tenantId": self._defaults.tenant_id, **SEED.graph_properties(body)},
            application_instance=body.get(
                "applicationInstance", self._defaults.application_instance
            ),
            cause="seeded",
            bot=self._defaults.bot,
        )

    def ring(self, body: Mapping[str, Any]) -> Call:
        """Ring the bot (``POST /_mock/calls/incoming``)."""
        RING.check(body)
        return self._graph.ring(
            self._callback(body),
            RING.graph_properties(body),
            call_id=body.get("id"),
            timeout=body.get("timeout"),
            application_instance=body.get("applicationInstance"),
        )

    def call(self, call_id: str) -> Call:
        return self._calls.get(call_id)

    def calls(self) -> dict[str, Any]:
        return {
            "value": [call.to_json() for call in self._calls],
            "forgotten": self._calls.forgotten,
            "limit": self._calls.limit,
        }

    def pin_scenario(self, call_id: str, body: Mapping[str, Any]) -> Call:
        """The scenario the call's next operation plays (``{"name": null}`` unpins)."""
        name = checked(PIN, body)["name"]
        call = self._calls.get(call_id)
        if name is not None and self._library.get(name) is None:
            loaded = ", ".join(self._library.names()) or "none"
            raise BadRequest(f"No scenario named '{name}' is loaded (loaded: {loaded}).")
        call.pin(name)
        return call

    # --- the far side --------------------------------------------------------------------------

    def hang_up(self, call_id: str, body: Mapping[str, Any]) -> Call:
        """The far side hangs up: what plays for the call stops (its prompts and recordings
        end with no notification of their own, as public logs show none), and the bot gets
        ``deleted``, ``terminated``, with the resultInfo ``body`` gives (``{code, subcode?,
        message?}``), else 200/5002 as Graph sends when the other party hangs up. An ended
        call is Graph's 404."""
        self._graph.perform(HANG_UP_OPERATION, "v1.0", call_id, checked(HANG_UP, body))
        return self._calls.get(call_id)

    def fail_media(self, call_id: str) -> Call:
        """The call's media path fails: what plays for it stops, and the bot gets
        ``deleted``, ``terminated``, 410/301005. An ended call is Graph's 404."""
        self._graph.perform(MEDIA_FAILURE, "v1.0", call_id, None)
        return self._calls.get(call_id)

    def end_meeting(self, call_id: str) -> Call:
        """The organiser ends the meeting: everyone but the bot leaves, and the bot gets that
        roster, with no ``deleted`` for its call (as a capture shows). 400 for a call that is
        not a meeting."""
        self._graph.perform(MEETING_ENDED, "v1.0", call_id, None)
        return self._calls.get(call_id)

    # --- media -------------------------------------------------------------------------------

    def press_tones(self, call_id: str, body: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The caller presses keys (``{"tones": "12#"}``): one ``updated`` notification with
        ``toneInfo`` each, in order; 409 unless the bot subscribed to tones, or the first key
        ends a running recording (one of its stopTones), which works unsubscribed too."""
        tones = checked(PRESS, body)["tones"]
        try:
            names = tone_names(tones)
        except ValueError as error:
            raise BadRequest(f"'tones': {error}.") from None
        call = self._calls.get(call_id, ended_ok=False)
        if not call.subscribed_to_tones and not self._graph.stops_on(call, names[0]):
            raise Conflict(
                f"The bot has not subscribed to tones on call '{call.id}': Graph sends key "
                "presses only after POST .../subscribeToTone (a recording's stopTones end it "
                "without one)."
            )
        return self._player.press(call, names)

    def add_participant(self, call_id: str, body: Mapping[str, Any]) -> Participant:
        """Someone joins the call (``{"identity": {...}, "isMuted"?: bool}``); the bot gets
        the roster update."""
        checked(JOIN, body)
        call = self._calls.get(call_id, ended_ok=False)
        joined = call.admit(body["identity"], is_muted=body.get("isMuted", False))
        self._player.send_roster(call)
        return joined

    def remove_participant(self, call_id: str, participant_id: str) -> None:
        """Someone leaves the call; the bot gets the roster update."""
        call = self._calls.get(call_id, ended_ok=False)
        call.leave(participant_id)
        self._player.send_roster(call)

    # --- people in meetings ---------------------------------------------------------------

    def meetings(self) -> list[dict[str, Any]]:
        return self._meetings.known()

    def join_meeting(self, meeting_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Someone joins a meeting (``{"identity": {...}}``), and so every call into it: each
        call's bot gets the roster. A call that joins later finds them there."""
        checked(JOIN, body)
        person_id, calls = self._meetings.join(meeting_id, body["identity"])
        for call in calls:
            self._player.send_roster(call)
        return {"id": person_id, "identity": body["identity"], "calls": [c.id for c in calls]}

    def leave_meeting(self, meeting_id: str, person_id: str) -> None:
        """Someone leaves a meeting, and every call into it; each call's bot gets the roster."""
        for call in self._meetings.leave(meeting_id, person_id):
            self._player.send_roster(call)

    def share_content(self, call_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Someone in the call starts sharing content (``{"id"?}``): a contentSharingSession
        that the bot can list and get."""
        session_id = checked(SHARE, body).get("id")
        return self._calls.get(call_id, ended_ok=False).share_content(session_id)

    def operations(self, call_id: str) -> list[dict[str, Any]]:
        """Every operation the call's actions returned, ended ones included."""
        return [operation.to_json() for operation in self._calls.get(call_id).operations.values()]

    def operation(self, call_id: str, operation_id: str) -> CommsOperation:
        return self._calls.get(call_id).operation(operation_id, ended_ok=True)

    async def wait_for_operation(
        self, call_id: str, operation_id: str, timeout: float
    ) -> CommsOperation:
        """The operation once it has an outcome (its status is neither notStarted nor
        running); 408 after ``timeout`` seconds."""
        operation = self.operation(call_id, operation_id)
        if not await self._changes.wait_until(lambda: not operation.running, timeout):
            raise WaitTimedOut(
                f"Operation '{operation_id}' ({operation.action}) of call '{call_id}' is "
                f"still {operation.status} after {timeout:g} s.",
                operation=operation.to_json(),
            )
        return operation

    # --- bots --------------------------------------------------------------------------------

    def bots(self) -> list[dict[str, str]]:
        return self._bots.listing()

    def register_bot(self, identity_id: str, body: Mapping[str, Any]) -> dict[str, str]:
        """Transfers to ``identity_id`` ring the bot at ``callbackUri``."""
        checked(BOT, body)
        if body.get("id", identity_id) != identity_id:
            raise BadRequest(
                f"'id' {body['id']!r} is not the path's {identity_id!r}: the path names the "
                "bot; leave 'id' out, or send the same."
            )
        callback_uri = str(body["callbackUri"])
        self._bots.register(identity_id, callback_uri)
        return {"id": identity_id, "callbackUri": callback_uri}

    # --- scenarios and the journal ------------------------------------------------------------

    def scenarios(self) -> list[Scenario]:
        return list(self._library)

    def scenario(self, name: str) -> Scenario:
        """One loaded scenario; 404 (with a did-you-mean) if none has that name."""
        found = self._library.get(name)
        if found is None:
            hint = did_you_mean([name], self._library.names())
            raise ResourceNotFound(f"No scenario is named {name!r}{hint}.")
        return found

    def load_scenarios(
        self, text: str, source: str = "request"
    ) -> tuple[list[Scenario], list[Fault]]:
        """Add the scenarios in YAML ``text``, and set the faults it holds until the next
        reset; adds nothing if anything is invalid (400 lists every problem as
        ``source:line:col: message``)."""
        loaded = load(text, source)
        if loaded.problems:
            raise BadRequest(
                "Invalid scenario: " + "; ".join(map(str, loaded.problems)) + _flattened(text),
                problems=[str(problem) for problem in loaded.problems],
            )
        if not loaded.scenarios and not loaded.faults:
            raise BadRequest("The body holds no scenario; send the YAML of one or more scenarios.")
        faults = self._faults.add_all(loaded.faults)
        self._library.add(loaded.scenarios)
        return loaded.scenarios, faults

    def trace(self, call_id: str) -> list[dict[str, Any]]:
        """The call's notifications that went out, as ``{time, body}``: what ``mockgraph
        import`` reads back."""
        self._calls.get(call_id)
        return [
            {"time": iso(entry.time), "body": entry.body}
            for entry in self._journal.entries(call_id)
            if isinstance(entry, NotificationRecord)
            and entry.outcome in ("delivered", "failed", "rejected")
        ]

    def journal(
        self, call_id: str | None = None, subscription_id: str | None = None
    ) -> dict[str, Any]:
        chosen = self._journal.entries(call_id, subscription_id=subscription_id)
        entries = [entry.to_json() for entry in chosen]
        return {"value": entries, "dropped": self._journal.dropped, "limit": self._journal.limit}

    # --- apps the identity platform knows ------------------------------------------------------

    def apps(self) -> list[App]:
        return list(self._apps)

    def register_app(self, client_id: str, spec: Mapping[str, Any]) -> App:
        """Register (or replace) the app ``client_id``: its secret or certificate, and the
        application permissions its tokens carry; until the next reset."""
        return self._apps.register(app_from_spec(spec, client_id))

    def remove_app(self, client_id: str) -> None:
        self._apps.remove(client_id)

    # --- faults on Graph requests --------------------------------------------------------------

    def add_fault(self, spec: Mapping[str, Any]) -> Fault:
        """Set a fault (``mockgraph.faults``); a 400 naming the field if it is wrong."""
        return self._faults.add(spec)

    def faults(self) -> list[Fault]:
        return list(self._faults)

    def remove_fault(self, fault_id: str) -> None:
        self._faults.remove(fault_id)

    def clear_faults(self) -> None:
        self._faults.clear()

    # --- time --------------------------------------------------------------------------------

    def time(self) -> TimeSettings:
        return self._player.time

    def set_time(self, body: Mapping[str, Any]) -> TimeSettings:
        """``{"scale": 0}`` collapses every pause, ``{"step": true}`` holds each notification
        until released; until the next reset."""
        scale, step = self._checked_time(body)
        now = self._player.time
        self._player.time = TimeSettings(
            now.scale if scale is None else float(scale), now.step if step is None else step
        )
        if step is False:  # leaving step mode lets every waiting step go
            for call in self._calls:
                if call.waiting_step is not None:
                    self._player.advance(call.id)
        return self.time()

    @staticmethod
    def _checked_time(body: Mapping[str, Any]) -> tuple[float | None, bool | None]:
        checked(TIME, body)
        scale, step = body.get("scale"), body.get("step")
        if scale is not None and not 0 <= scale < math.inf:  # NaN fails too (JSON allows it)
            raise BadRequest("'scale' must be 0 or more (0 collapses every pause).")
        return scale, step

    def advance(self, call_id: str, body: Mapping[str, Any]) -> Call:
        """Step mode: let the call's next ``steps`` (default 1) notifications go out."""
        steps = checked(ADVANCE, body).get("steps", 1)
        call = self._calls.get(call_id)
        if steps < 1:
            raise BadRequest("'steps' must be 1 or more.")
        self._player.advance(call.id, steps)
        return call

    # --- reset and idle ----------------------------------------------------------------------

    async def reset(self, time: Mapping[str, Any] | None = None) -> None:
        """Forget calls, journal and faults, stop what is playing, restore the start-up time
        settings, then apply ``time`` (``{"scale": 0}``), if given, in one step. Scenarios
        stay."""
        if time:
            self._checked_time(time)  # a bad body resets nothing
        await self._player.cancel_all("reset")
        await self._notifier.cancel_all("reset")
        self._graph.reset()
        self._calls.clear()
        self._journal.clear()
        self._faults.reset()
        self._apps.reset()
        self._player.time = self._start_time
        if time:
            self.set_time(time)
        self._changes.notify()

    @property
    def idle(self) -> bool:
        """Nothing scheduled, queued or in flight."""
        return not self._player.busy and not self._notifier.busy and not self._webhooks_busy()

    async def wait_idle(self, timeout: float) -> None:
        """Return once nothing is scheduled, queued or in flight; 408 after ``timeout`` s."""
        if not await self._changes.wait_until(lambda: self.idle, timeout):
            raise WaitTimedOut(f"Still busy after {timeout:g} s.", idle=False)

    # --- long polls --------------------------------------------------------------------------

    async def wait_for_state(self, call_id: str, state: str, timeout: float) -> Call:
        """The call once it is, or has been, in ``state``; 408 after ``timeout`` seconds."""
        checked(WAIT, {"state": state})
        call = self._calls.get(call_id)
        if not await self._changes.wait_until(lambda: call.reached(state), timeout):
            raise WaitTimedOut(
                f"Call '{call.id}' did not reach {state} within {timeout:g} s; it is "
                f"{call.state} (history: {' -> '.join(c.state for c in call.history)}).",
                call=call.to_json(),
            )
        return call

    async def wait_for_step(self, call_id: str, step: int | None, timeout: float) -> Call:
        """Step mode: the call once it holds a step for ``advance`` (step ``step``, if given)."""
        call = self._calls.get(call_id)

        def held() -> bool:
            return call.waiting_step is not None and step in (None, call.waiting_step)

        if not await self._changes.wait_until(held, timeout):
            wanted = "a step" if step is None else f"step {step}"
            raise WaitTimedOut(
                f"Call '{call.id}' did not hold {wanted} for advance within {timeout:g} s; "
                f"it holds {call.waiting_step or 'none'} and is {call.state}.",
                call=call.to_json(),
            )
        return call

    async def wait_for_notifications(
        self, call_id: str, count: int, timeout: float
    ) -> list[NotificationRecord]:
        """The call's notifications once ``count`` of them are no longer pending."""
        call = self._calls.get(call_id)

        def finished() -> list[NotificationRecord]:
            return [
                entry
                for entry in self._journal.entries(call.id)
                if isinstance(entry, NotificationRecord) and entry.outcome != "pending"
            ]

        await self._changes.wait_until(lambda: len(finished()) >= count, timeout)
        records = finished()
        if len(records) < count:
            raise WaitTimedOut(
                f"Call '{call.id}' has {len(records)} finished notification(s), not {count}, "
                f"after {timeout:g} s; it is {call.state}.",
                value=[record.to_json() for record in records],
            )
        return records


def _flattened(text: str) -> str:
    """A hint for YAML that lost its line breaks on the way: ``curl -d @file`` strips them."""
    if "\n" in text.strip() or ": " not in text:
        return ""
    return (
        ". The body holds no line break: `curl -d @file` strips them; send the file with "
        "`curl --data-binary @file`"
    )
