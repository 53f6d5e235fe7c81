"""The recording's domain, without HTTP: which operation a request is, which operation a
notification belongs to, and the scenario each becomes."""

from __future__ import annotations

from typing import Any

import yaml

from mockgraph.recording import Capture, Pseudonyms, operation_of, redacted
from mockgraph.scenarios.loader import load_text

CALL = "/communications/calls/c1"


def note(url: str, change: str, data: Any) -> dict[str, Any]:
    return {"value": [{"changeType": change, "resourceUrl": url, "resourceData": data}]}


class Folder:
    def __init__(self) -> None:
        self.files: dict[str, str] = {}
        self.problems: list[str] = []

    def write(self, name: str, text: str) -> None:
        self.files[name] = text

    def scenario(self, name: str) -> dict[str, Any]:
        _, problems = load_text(self.files[name], name)
        assert problems == []
        document: dict[str, Any] = yaml.safe_load(self.files[name])
        return document


def recording(pseudonymise: bool = False) -> tuple[Capture, Folder]:
    folder = Folder()
    made = Capture(
        source="https://graph.example",
        when="2026-12-01 15:00 UTC",
        write=folder.write,
        problem=folder.problems.append,
        pseudonyms=Pseudonyms(pseudonymise),
    )
    return made, folder


def test_requests_are_the_operations_of_the_table() -> None:
    transfer = operation_of("POST", "/v1.0/communications/calls/c1/transfer")
    assert transfer is not None and (transfer[0].name, transfer[1]) == ("transfer", "c1")
    beta = operation_of("POST", "/beta/app/calls/c1/transfer")
    assert beta is not None and beta[0].name == "transfer"
    create = operation_of("POST", "/v1.0/communications/calls")
    assert create is not None and (create[0].name, create[1]) == ("create", None)
    assert operation_of("POST", "/v1.0/communications/calls/c1/keepAlive") is None  # plays none
    assert operation_of("GET", "/v1.0/communications/calls/c1") is None


def test_a_notification_about_an_operation_belongs_to_it_after_another_began() -> None:
    made, folder = recording()
    prompt = {"prompts": [{"mediaInfo": {"uri": "https://bot/menu.wav"}}]}
    made.request(
        "POST", "/v1.0/communications/calls/c1/playPrompt", prompt, 200, {"id": "op1"}, 10.0
    )
    made.request(
        "POST", "/v1.0/communications/calls/c1/transfer", {"transferTarget": {}}, 202, None, 10.5
    )
    made.notification(note(CALL + "/operations/op1", "deleted", {"status": "completed"}), 11.0)
    made.notification(note(CALL, "updated", {"state": "transferring"}), 11.1)
    made.save_changed()
    played = folder.scenario("recorded-001-playPrompt.yaml")
    assert played["when"] == {"prompts.0.mediaInfo.uri": "https://bot/menu.wav"}
    assert played["steps"] == [
        {
            "after": "1000ms",
            "about": "operation",
            "notify": {"changeType": "deleted", "resourceData": {"status": "completed"}},
        }
    ]
    transfer = folder.scenario("recorded-002-transfer.yaml")
    assert transfer["default"] is True and "when" not in transfer  # nothing told it apart
    assert transfer["steps"][0]["after"] == "600ms"


def test_an_unanswered_ring_becomes_a_ring_timeout() -> None:
    made, folder = recording()
    assert made.notification(note(CALL, "created", {"state": "incoming"}), 5.0) is None
    made.notification(
        note(
            CALL, "deleted", {"state": "terminated", "resultInfo": {"code": 408, "subcode": 10057}}
        ),
        20.0,
    )
    made.save_changed()
    (name,) = folder.files
    timed_out = folder.scenario(name)
    assert timed_out["operation"] == "ringTimeout"
    assert timed_out["steps"][0]["after"] == "15000ms"


def test_tones_and_rosters_become_their_steps() -> None:
    made, folder = recording()
    made.request("POST", "/v1.0/communications/calls/c1/mute", {}, 200, {"id": "op2"}, 1.0)
    made.notification(note(CALL + "/participants", "updated", [{"id": "p1"}]), 1.2)
    made.notification(note(CALL, "updated", {"toneInfo": {"tone": "pound", "sequenceId": 1}}), 1.5)
    made.save_changed()
    steps = folder.scenario("recorded-001-mute.yaml")["steps"]
    assert steps == [
        {"after": "200ms", "roster": "current"},
        {"after": "300ms", "tones": ["pound"]},
    ]


def test_ids_that_change_every_run_match_by_presence() -> None:
    made, folder = recording()
    body = {"transferTarget": {"identity": {"user": {"id": "u1"}}, "replacesCallId": "c9"}}
    made.request("POST", "/v1.0/communications/calls/c1/transfer", body, 202, None, 1.0)
    made.save_changed()
    assert folder.scenario("recorded-001-transfer.yaml")["when"] == {
        "transferTarget.identity.user.id": "u1",
        "transferTarget.replacesCallId": {"exists": True},
    }


def test_a_refused_request_records_nothing() -> None:
    made, folder = recording()
    assert made.request("POST", "/v1.0/communications/calls/c1/transfer", {}, 409, {}, 1.0) is None
    made.save_changed()
    assert folder.files == {}


def test_what_cannot_be_a_scenario_is_a_problem_not_a_file() -> None:
    made, folder = recording()
    made.request("POST", "/v1.0/communications/calls/c1/transfer", {}, 202, None, 1.0)
    made.save_changed()
    both = note(CALL, "updated", {"state": "transferring"})
    both["value"].append(
        {"changeType": "deleted", "resourceUrl": CALL + "/operations/x", "resourceData": {}}
    )
    made.notification(both, 1.1)
    made.save_changed()
    assert folder.problems and "recorded-001-transfer" in folder.problems[0]
    assert folder.scenario("recorded-001-transfer.yaml")["steps"] == []  # as it was


def test_secrets_are_redacted_or_become_placeholders() -> None:
    data = {
        "recordingLocation": "https://r/1",
        "recordingAccessToken": "tok",
        "other": {"recordingAccessToken": ""},
    }
    assert redacted(data) == {
        "recordingLocation": "https://r/1",
        "recordingAccessToken": "[redacted]",
        "other": {"recordingAccessToken": ""},
    }
    placeholders = {"recordingAccessToken": "{{ recording.token }}"}
    assert redacted(data, placeholders)["recordingAccessToken"] == "{{ recording.token }}"


def test_pseudonyms_are_stable_within_a_recording_and_differ_between_two() -> None:
    first, second = Pseudonyms(True), Pseudonyms(True)
    body = {"source": {"identity": {"user": {"id": "alice", "tenantId": "t1"}}}, "tenantId": "t1"}
    for names in (first, second):
        names.learn(body)
    renamed = first.apply({"a": "alice", "b": "calls for alice", "c": "t1"})
    assert "alice" not in str(renamed) and "t1" not in str(renamed)
    assert renamed["b"] == f"calls for {renamed['a']}"
    assert second.apply("alice") != renamed["a"]
    assert Pseudonyms(False).apply("alice") == "alice"


def test_what_real_graph_adds_beyond_its_metadata_is_kept_and_named() -> None:
    made, folder = recording()
    made.request("POST", "/v1.0/communications/calls/c1/answer", {}, 202, None, 1.0)
    extra = {"state": "established", "mediaState": {"audio": "active", "videoFrozen": False}}
    made.notification(note(CALL, "updated", extra), 1.1)
    made.save_changed()
    (step,) = folder.scenario("recorded-001-answer.yaml")["steps"]
    assert step["undeclared"] == ["resourceData.mediaState.videoFrozen"]
    assert step["notify"]["resourceData"]["mediaState"]["videoFrozen"] is False


def test_an_undeclared_property_that_is_not_named_is_still_a_typo() -> None:
    text = """\
name: typo
operation: answer
steps:
  - notify:
      changeType: updated
      resourceData: {mediaState: {audio: active, videoFrozen: false, audo: x}}
    undeclared: [resourceData.mediaState.videoFrozen]
"""
    _, problems = load_text(text, "typo.yaml")
    assert [p.message for p in problems] == [
        "'steps[0].notify.resourceData.mediaState': microsoft.graph.callMediaState has no "
        "property 'audo'; did you mean 'audio'? (it declares: audio)"
    ]
    fixed, problems = load_text(text.replace(", audo: x", ""), "typo.yaml")
    assert problems == [] and fixed[0].steps[0].notify[0]["resourceData"]["mediaState"] == {
        "audio": "active",
        "videoFrozen": False,
    }
