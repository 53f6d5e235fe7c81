"""Media on a call: the queue that plays prompts and recordings one after another, and the
recordings a bot downloads.

Graph queues ``playPrompt`` and ``recordResponse`` per call and runs them in order;
``cancelMediaProcessing`` ends the running one and empties the queue, and a recording with
``bargeInAllowed`` does the same before it starts. Each operation's scenario plays when its
turn comes; the next one starts when that scenario has played its last step.
"""

from __future__ import annotations

import array
import io
import logging
import math
import secrets
import sys
import wave
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import cache, partial
from pathlib import Path
from typing import Any

from mockgraph.calling.calls import Call, CommsOperation
from mockgraph.calling.playback import After, then
from mockgraph.errors import ResourceNotFound, Unauthenticated

log = logging.getLogger("mockgraph")


@dataclass(frozen=True, slots=True)
class Queued:
    """An operation's scenario, waiting for its turn, with what it needs (``operation``:
    the commsOperation it plays for, if it returned one)."""

    operation: CommsOperation | None
    scenario_operation: str
    cancelled_scenario: str | None
    request: Mapping[str, Any]
    values: Mapping[str, Any]  # more template roots, e.g. its recording
    stop_tones: frozenset[str] = frozenset()  # Graph tone names that end it while it runs
    stopped_scenario: str | None = None  # what plays when one of them is pressed


# What plays a media operation's scenario: (queued, call, what follows) -> whether it plays.
Start = Callable[[Queued, Call, After], bool]
Stop = Callable[[str, str], None]  # (operation id, reason)
Cancelled = Callable[[Queued, Call], None]


class MediaQueue:
    """One FIFO lane per call for prompts and recordings."""

    def __init__(self, start: Start, stop: Stop, cancelled: Cancelled) -> None:
        self._start = start
        self._stop = stop
        self._cancelled = cancelled
        self._waiting: dict[str, deque[Queued]] = {}
        self._current: dict[str, Queued] = {}

    def add(self, queued: Queued, call: Call) -> None:
        """Play ``queued`` now if the lane is free, else after those before it."""
        self._waiting.setdefault(call.id, deque()).append(queued)
        if call.id not in self._current:
            self._next(call)

    def cancel(self, call: Call, reason: str) -> None:
        """End the running media operation and every queued one: each gets its cancelled
        notification, in queue order."""
        current = self._current.pop(call.id, None)
        waiting = list(self._waiting.pop(call.id, ()))
        if current is not None and current.operation is not None:
            self._stop(current.operation.id, reason)
        for queued in [*([current] if current else []), *waiting]:
            self._cancelled(queued, call)

    def stops_on(self, call: Call, tone: str) -> bool:
        """Whether pressing ``tone`` now ends the running operation (a recording's stopTones)."""
        current = self._current.get(call.id)
        return current is not None and tone in current.stop_tones

    def pressed(self, call: Call, tone: str) -> None:
        """The caller pressed ``tone``: if the running operation stops on it (a recording's
        stopTones), what it plays stops, its stopped scenario plays instead, and the next one's
        turn comes after that."""
        current = self._current.get(call.id)
        if current is None or current.operation is None or tone not in current.stop_tones:
            return
        assert current.stopped_scenario is not None
        self._stop(current.operation.id, f"stop tone {tone} pressed")
        stopped = replace(
            current, scenario_operation=current.stopped_scenario, stop_tones=frozenset()
        )
        self._current[call.id] = stopped
        if not self._start(stopped, call, then(partial(self._ended, stopped, call))):
            self._ended(stopped, call)

    def drop(self, call: Call) -> None:
        """Forget the call's lane without notifying anything (the call is gone)."""
        self._waiting.pop(call.id, None)
        self._current.pop(call.id, None)

    def clear(self) -> None:
        self._waiting.clear()
        self._current.clear()

    def _next(self, call: Call) -> None:
        waiting = self._waiting.get(call.id)
        while waiting:
            queued = waiting.popleft()
            self._current[call.id] = queued
            if self._start(queued, call, then(partial(self._ended, queued, call))):
                return
            self._current.pop(call.id, None)  # nothing to play: the next one's turn
        self._waiting.pop(call.id, None)

    def _ended(self, queued: Queued, call: Call) -> None:
        if self._current.get(call.id) is queued:
            del self._current[call.id]
            self._next(call)


@dataclass(frozen=True)
class Recording:
    location: str
    token: str

    def values(self) -> dict[str, Any]:
        """As a scenario's ``{{ recording.location }}`` and ``{{ recording.token }}``."""
        return {"recording": {"location": self.location, "token": self.token}}


class Recordings:
    """The audio of finished recordings, each behind its own access token."""

    PATH = "/recordings/{id}"

    def __init__(self, audio_file: Path | None = None) -> None:
        self._audio_file = audio_file
        self._tokens: dict[str, str] = {}  # recording id -> its access token
        self._audio: dict[str, Path] = {}  # recording id -> its scenario's own audio file

    def mint(self, operation: CommsOperation, origin: str) -> Recording:
        """A location and token for ``operation``'s recording, served from mockgraph."""
        token = secrets.token_urlsafe(32)
        self._tokens[operation.id] = token
        return Recording(f"{origin}{self.PATH.format(id=operation.id)}", token)

    def download(self, recording_id: str, bearer: str) -> bytes:
        """The audio, for the bearer of the recording's access token only."""
        token = self._tokens.get(recording_id)
        if token is None:
            raise ResourceNotFound(f"No recording '{recording_id}'.")
        if not secrets.compare_digest(token, bearer):
            raise Unauthenticated(
                f"Recording '{recording_id}' needs its recordingAccessToken as the bearer token."
            )
        audio = self._audio.get(recording_id, self._audio_file)
        if audio is None:
            return generated_wav()
        try:
            return audio.read_bytes()
        except OSError as error:  # the file went away after it was checked at start
            raise ResourceNotFound(
                f"Recording '{recording_id}': its audio {str(audio)!r} cannot be read "
                f"({error.strerror or error})."
            ) from None

    def use(self, recording_id: str, audio_file: str) -> None:
        """The recording downloads as ``audio_file`` (its scenario's ``recording``)."""
        self._audio[recording_id] = Path(audio_file)

    def clear(self) -> None:
        self._tokens.clear()
        self._audio.clear()


@cache
def generated_wav(seconds: float = 1.0) -> bytes:
    """A WAV file as Graph's recordings are: 16 kHz, mono, 16-bit; a quiet 440 Hz tone."""
    rate = 16_000
    samples = array.array(
        "h",
        (int(3000 * math.sin(2 * math.pi * 440 * n / rate)) for n in range(int(rate * seconds))),
    )
    if sys.byteorder == "big":  # WAV samples are little-endian
        samples.byteswap()
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return buffer.getvalue()
