"""What Graph's resources beyond the calls (presence, call records, online meetings) share in
their declarations: the forms a path is served at (under each API version, and a bound action
also by its namespace-qualified name), and the schema check of a body, first of all."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from mockgraph.calling.operations import NAMESPACE, Form
from mockgraph.errors import BadRequest
from mockgraph.schema.validation import API_VERSIONS, problem


def versioned_forms(method: str, paths: Iterable[str], *, action: bool = False) -> tuple[Form, ...]:
    """``paths`` under ``/v1.0`` and ``/beta``; with ``action``, each also with its last
    segment qualified (``…/presence/microsoft.graph.setPresence``)."""
    forms = []
    for version in API_VERSIONS:
        for path in paths:
            forms.append(Form(method, f"/{version}{path}", version))
            if action:
                head, _, name = path.rpartition("/")
                qualified = f"/{version}{head}/{NAMESPACE}{name}"
                forms.append(Form(method, qualified, version, qualified=True))
    return tuple(forms)


def check_body(version: str, request: str | None, body: Mapping[str, Any] | None) -> None:
    """The 400 for a body that breaks Graph's schema of ``request`` (a type or an action's
    body), checked first, as the calls check theirs; nothing for an operation with no body."""
    if request is None:
        return
    wrong = problem(version, request, body or {})
    if wrong is not None:
        raise BadRequest(f"Invalid {request.rpartition('.')[2]} request: {wrong}.")
