"""The forms a Graph path beyond the calls (presence, call records) is served at: under each
API version, and a bound action also by its namespace-qualified name. Their operations declare
paths below the version; the router and the OpenAPI description serve these forms."""

from __future__ import annotations

from collections.abc import Iterable

from mockgraph.calling.operations import NAMESPACE, Form
from mockgraph.schema.validation import API_VERSIONS


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
