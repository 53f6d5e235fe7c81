"""An OpenAPI 3.1 description of everything mockgraph serves, derived from the operation
declarations (the Graph surface, both versions) and the control routes: ``GET
/_mock/openapi.json``. Request bodies are the Graph JSON Schemas themselves (OpenAPI 3.1 speaks
JSON Schema 2020-12), so a tool that reads it checks bodies as mockgraph does."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from mockgraph.calling.operations import OPERATIONS, Form, Operation
from mockgraph.callrecords.operations import RECORD_OPERATIONS, RecordOperation
from mockgraph.http.control_routes import CONTROL_ROUTES, ControlRoute
from mockgraph.http.identity_routes import IDENTITY_ROUTES, IdentityRoute
from mockgraph.meetings.operations import MEETING_OPERATIONS, MeetingOperation
from mockgraph.presence.operations import PRESENCE_OPERATIONS, PresenceOperation
from mockgraph.schema.validation import API_VERSIONS, graph_schema
from mockgraph.subscriptions.operations import SUBSCRIPTION_OPERATIONS, SubscriptionOperation

JSON = dict[str, Any]
ERROR = {"$ref": "#/components/schemas/graphError"}
# What any Graph path may answer besides its own status (the checking order).
GRAPH_ERRORS = {
    "400": "the body breaks the schema or a rule",
    "401": "no bearer token",
    "404": "no such call (or operation, participant, group)",
    "405": "another method",
    "409": "the call's state does not allow it",
    "413": "a body over 1 MiB",
    "415": "a body that is not JSON",
}


def description(origin: str) -> JSON:
    return {**_document(), "servers": [{"url": origin}]}


@cache
def _document() -> JSON:
    paths: dict[str, JSON] = {}
    for operation in OPERATIONS:
        for form in operation.route.forms() if operation.route else ():
            path = form.path.replace("{id}", "{callId}")
            paths.setdefault(path, {})[form.method.lower()] = _graph(operation, form, path)
    for presence in PRESENCE_OPERATIONS:
        for presence_form in presence.forms():
            described = _presence(presence, presence_form)
            paths.setdefault(presence_form.path, {})[presence_form.method.lower()] = described
    for record in RECORD_OPERATIONS:
        for record_form in record.forms():
            described = _record(record, record_form)
            paths.setdefault(record_form.path, {})[record.method.lower()] = described
    for meeting in MEETING_OPERATIONS:
        for meeting_form in meeting.forms():
            described = _meeting(meeting, meeting_form)
            paths.setdefault(meeting_form.path, {})[meeting.method.lower()] = described
    for subscription in SUBSCRIPTION_OPERATIONS:
        for subscription_form in subscription.forms():
            described = _subscription(subscription, subscription_form)
            paths.setdefault(subscription_form.path, {})[subscription.method.lower()] = described
    for control in CONTROL_ROUTES:
        if not control.streams:  # a fuzzer or client generator would wait on it for ever
            paths.setdefault(control.path, {})[control.method.lower()] = _control(control)
    for identity in IDENTITY_ROUTES:
        paths.setdefault(identity.path, {})[identity.method.lower()] = _identity(identity)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "mockgraph",
            "version": "1",
            "description": "A local fake of Microsoft Graph's calling API, and its control "
            "plane under /_mock. Graph paths need a bearer token; /_mock needs the "
            "--control-token, if the server has one.",
        },
        "paths": paths,
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def _parameters(path: str) -> list[JSON]:
    return [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"\{(\w+)\}", path)
    ]


def _graph(operation: Operation, form: Form, path: str) -> JSON:
    version = form.version
    answer = operation.success
    success: JSON = {"description": f"{operation.name} accepted"}
    view = answer.body
    if view is not None and view.graph_type is not None:
        schema = {"$ref": f"#/components/schemas/{version}.{view.graph_type}"}
        success["content"] = {"application/json": {"schema": schema}}
    elif view is not None:
        success["content"] = {"application/json": {"schema": {"type": "object"}}}
    responses: JSON = {str(answer.status): success}
    for status, why in GRAPH_ERRORS.items():
        responses[status] = {
            "description": why,
            "content": {"application/json": {"schema": ERROR}},
        }
    described: JSON = {
        "operationId": f"{operation.name}.{version}.{path}",
        "summary": operation.name,
        "deprecated": form.deprecated,
        "parameters": _parameters(path),
        "security": [{"bearer": []}],
        "responses": responses,
    }
    if operation.request is not None:
        schema = {"$ref": f"#/components/schemas/{version}.{operation.request.type}"}
        described["requestBody"] = {
            "required": not operation.request.may_be_empty,
            "content": {"application/json": {"schema": schema}},
        }
    return described


# What a presence path may answer besides its 200.
PRESENCE_ERRORS = {
    "400": "the body breaks the schema or a rule",
    "401": "no bearer token",
    "404": "no such user (or, for clearPresence, no such session)",
    "405": "another method",
    "413": "a body over 1 MiB",
    "415": "a body that is not JSON",
}


def _resource(
    name: str,
    form: Form,
    responses: JSON,
    errors: dict[str, str],
    *,
    request: str | None = None,
    body_required: bool = True,
    query: tuple[str, ...] = (),
) -> JSON:
    """A presence, call-record or meeting path: its responses, then Graph's errors, its
    path and query parameters, and its body's schema."""
    for status, why in errors.items():
        responses[status] = {"description": why, "content": {"application/json": {"schema": ERROR}}}
    described: JSON = {
        "operationId": f"{name}.{form.version}.{form.path}",
        "summary": name,
        "parameters": [
            *_parameters(form.path),
            *(
                {"name": each, "in": "query", "required": False, "schema": {"type": "string"}}
                for each in query
            ),
        ],
        "security": [{"bearer": []}],
        "responses": responses,
    }
    if request is not None:
        schema = {"$ref": f"#/components/schemas/{form.version}.{request}"}
        described["requestBody"] = {
            "required": body_required,
            "content": {"application/json": {"schema": schema}},
        }
    return described


def _answer(schema: JSON, collection: bool) -> JSON:
    if collection:
        return {"type": "object", "properties": {"value": {"type": "array", "items": schema}}}
    return schema


def _success(name: str, form: Form, returns: str | None, collection: bool) -> JSON:
    """A success answer: Graph's type ``returns`` (or a list of it), or no body."""
    success: JSON = {"description": f"{name} done"}
    if returns is not None:
        schema = {"$ref": f"#/components/schemas/{form.version}.{returns}"}
        success["content"] = {"application/json": {"schema": _answer(schema, collection)}}
    return success


def _presence(operation: PresenceOperation, form: Form) -> JSON:
    success = _success(operation.name, form, operation.returns, operation.collection)
    return _resource(
        operation.name,
        form,
        {"200": success},
        PRESENCE_ERRORS,
        request=operation.request,
        body_required=not operation.may_be_empty,
    )


# What a call-record path may answer besides its 200.
RECORD_ERRORS = {
    "400": "a $select or $expand naming what the type does not have",
    "401": "no bearer token",
    "403": "no CallRecords.Read.All (strict auth)",
    "404": "no record: no such call chain, its call not over, or not yet filed",
    "405": "another method",
}
RECORD_QUERY = ("$select", "$expand")


def _record(operation: RecordOperation, form: Form) -> JSON:
    # The callRecords namespace is not in mockgraph's schemas (they check bodies, and these
    # operations take none): the answer is described as an object.
    answer = _answer({"type": "object", "description": operation.returns}, operation.collection)
    success: JSON = {
        "description": f"{operation.name} done",
        "content": {"application/json": {"schema": answer}},
    }
    return _resource(operation.name, form, {"200": success}, RECORD_ERRORS, query=RECORD_QUERY)


# What an online-meeting path may answer besides its own status.
MEETING_ERRORS = {
    "400": "the body breaks the schema or a rule; a list without a supported $filter",
    "401": "no bearer token",
    "403": "no OnlineMeetings permission (strict auth)",
    "404": "no such meeting for that user",
    "405": "another method",
    "413": "a body over 1 MiB",
    "415": "a body that is not JSON",
}


def _meeting(operation: MeetingOperation, form: Form) -> JSON:
    schema: JSON = {"type": "object", "description": "an attendance report"}
    if operation.returns is not None:
        schema = {"$ref": f"#/components/schemas/{form.version}.{operation.returns}"}
    success: JSON = {"description": f"{operation.name} done"}
    if operation.status != 204:
        answer = _answer(schema, operation.collection)
        success["content"] = {"application/json": {"schema": answer}}
    responses: JSON = {str(operation.status): success}
    if operation.action:  # createOrGet: 200 when the meeting was there
        responses["200"] = {"description": "found", "content": success["content"]}
    query = ("$filter",) if operation.collection else ()
    return _resource(
        operation.name, form, responses, MEETING_ERRORS, request=operation.request, query=query
    )


def _control(route: ControlRoute) -> JSON:
    responses: JSON = {str(route.status): {"description": route.summary}}
    if route.status != 204:
        responses[str(route.status)]["content"] = {route.content_type: {"schema": {}}}
    for status in ("400", "401", "404", "408", *(("409",) if route.conflicts else ())):
        responses[status] = {
            "description": "an error",
            "content": {"application/json": {"schema": ERROR}},
        }
    described: JSON = {
        "operationId": f"control.{route.method.lower()}.{route.path}",
        "summary": route.summary,
        "description": route.doc,
        "parameters": [
            *_parameters(route.path),
            *({"name": name, "in": "query", "schema": {"type": "string"}} for name in route.query),
        ],
        "responses": responses,
    }
    if route.body == "yaml":
        described["requestBody"] = {
            "required": True,
            "content": {"application/yaml": {"schema": {"type": "string"}}},
        }
    elif route.body is not None and route.body != "json":
        described["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": route.body.schema}},
        }
    return described


# A tenant as Entra takes it: an id, a domain name, or common/organizations/consumers.
TENANT = {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9.-]{0,99}$"}


def _identity(route: IdentityRoute) -> JSON:
    """An endpoint of the identity platform: Entra's answers, not Graph's."""
    json_object = {"application/json": {"schema": {"type": "object"}}}
    responses: JSON = {"200": {"description": route.summary, "content": json_object}}
    for status in route.refuses:
        responses[str(status)] = {
            "description": "Entra's error",
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/entraError"}}
            },
        }
    parameters: list[JSON] = [
        {"name": name, "in": "path", "required": True, "schema": TENANT}
        for name in re.findall(r"\{(\w+)\}", route.path)
    ]
    parameters += [
        {"name": name, "in": "query", "schema": {"type": "string"}} for name in route.query
    ]
    described: JSON = {
        "operationId": f"identity.{route.method.lower()}.{route.path}",
        "summary": route.summary,
        "parameters": parameters,
        "responses": responses,
    }
    if route.form:
        properties = {name: {"type": "string"} for name in route.form}
        described["requestBody"] = {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {"type": "object", "properties": properties}
                }
            },
        }
    return described


def _schemas() -> JSON:
    """Both versions' Graph schemas, each definition named ``{version}.{name}``, and Graph's
    error body."""
    schemas: JSON = {
        "entraError": {
            "type": "object",
            "required": ["error", "error_description", "error_codes"],
            "properties": {
                "error": {"type": "string"},
                "error_description": {"type": "string"},
                "error_codes": {"type": "array", "items": {"type": "integer"}},
            },
        },
        "graphError": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "innerError": {"type": "object"},
                    },
                }
            },
        },
    }
    for version in API_VERSIONS:
        for name, schema in graph_schema(version)["$defs"].items():
            schemas[f"{version}.{name}"] = _rebased(schema, version)
    return schemas


def _rebased(value: Any, version: str) -> Any:
    """``#/$defs/x`` as ``#/components/schemas/{version}.x``."""
    if isinstance(value, dict):
        return {
            key: (
                item.replace("#/$defs/", f"#/components/schemas/{version}.")
                if key == "$ref" and isinstance(item, str)
                else _rebased(item, version)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_rebased(item, version) for item in value]
    return value


# What a subscription path may answer besides its own status.
SUBSCRIPTION_ERRORS = {
    "400": "the body breaks the schema or a rule (resource, changeType, expiration, "
    "clientState, an http URL), or a URL failed the validation handshake",
    "401": "no bearer token",
    "403": "no permission for the resource (strict auth)",
    "404": "no such subscription",
    "405": "another method",
    "413": "a body over 1 MiB",
    "415": "a body that is not JSON",
}


def _subscription(operation: SubscriptionOperation, form: Form) -> JSON:
    success = _success(operation.name, form, operation.returns, operation.collection)
    return _resource(
        operation.name,
        form,
        {str(operation.status): success},
        SUBSCRIPTION_ERRORS,
        request=operation.request,
    )
