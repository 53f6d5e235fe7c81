"""Build mockgraph's Graph JSON Schemas from the CSDL metadata in ``shared/graph-schemas``.

The CSDL (``*.csdl.xml``) is the authority. One JSON Schema document (draft 2020-12) is written
per API version, with one ``$defs`` entry per Graph type (``microsoft.graph.call``) and one per
bound action's request body (``action.transfer``).

How CSDL maps to JSON Schema here:

* ``Nullable`` (the default) lets a property be ``null``; ``Nullable="false"`` on a property of a
  complex type, or on an action parameter, makes it required. Entity properties are never
  required, because notifications carry entities partially (``{"state": "transferring"}``).
* ``OpenType="true"`` types accept undeclared properties (OData dynamic properties); closed types
  reject them. Instance annotations (keys with an ``@``, such as ``@odata.type``) are always
  accepted.
* Base types are flattened into their derived types. Where a type has derived types, an
  ``@odata.type`` naming one of them validates the value as that derived type.
* ``identitySet`` must name at least one identity: Graph cannot route to an empty one.

Beta: the stored beta CSDL dates from 2021, so the beta document is the v1.0 one, widened by
every property the 2021 beta CSDL declares and every enum member the current beta Python SDK
knows (``sdk-derived-fields.json``). Beta is a superset of v1.0 in Graph, and this keeps it one.

Usage: ``python tools/build_graph_schemas.py SHARED_GRAPH_SCHEMAS_DIR OUTPUT_DIR``
"""

from __future__ import annotations

import json
import re
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

JSONSchema = dict[str, Any]
# Each fragment's first line says which namespace it is from.
NAMESPACE = re.compile(r"namespace ([A-Za-z.]+),")

# Every action in the metadata gets a request-body schema, named by what it is bound to:
# ``action.transfer`` (a call), ``action.participant.mute`` (one participant),
# ``action.participants.invite`` (the participants collection). The transfer body also takes
# the top-level clientContext that the docs send (beta docs: "Max limit is 256 chars").
BINDINGS = {
    "graph.call": "",
    "graph.participant": "participant.",
    "Collection(graph.participant)": "participants.",
}


def binding_prefix(binding: str) -> str:
    """How an action's schema name says what it is bound to: ``BINDINGS``, else the bound
    type's last name (``presence.``), plural for a collection (``onlineMeetings.``)."""
    if binding in BINDINGS:
        return BINDINGS[binding]
    collection = binding.startswith("Collection(")
    name = binding.removeprefix("Collection(").removesuffix(")").rpartition(".")[2]
    return f"{name}s." if collection else f"{name}."


CLIENT_CONTEXT: JSONSchema = {"type": ["string", "null"], "maxLength": 256}
EXTRA_ACTION_PARAMETERS: dict[str, dict[str, JSONSchema]] = {
    "transfer": {"clientContext": CLIENT_CONTEXT}
}
# Actions Graph v1.0 documents that the stored CSDL fragments do not hold, declared from their
# pages (learn.microsoft.com/graph/api/call-addlargegalleryview and
# call-logteleconferencedevicequality): name -> (parameters, required, returned type).
UNSTORED_ACTIONS: dict[str, tuple[dict[str, JSONSchema], list[str], str | None]] = {
    "addLargeGalleryView": (
        {"clientContext": CLIENT_CONTEXT},
        [],
        "addLargeGalleryViewOperation",
    ),
    "calls.logTeleconferenceDeviceQuality": (
        {
            "quality": {
                "type": "object",
                "required": ["callChainId", "mediaLegId", "participantId"],
                "properties": {
                    "callChainId": {"type": "string"},
                    "mediaLegId": {"type": "string"},
                    "participantId": {"type": "string"},
                    "mediaQualityList": {"type": ["array", "null"]},
                },
            }
        },
        ["quality"],
        None,
    ),
}
INT32 = {"type": "integer", "minimum": -(2**31), "maximum": 2**31 - 1}
PRIMITIVES: dict[str, JSONSchema] = {
    "Edm.String": {"type": "string"},
    "Edm.Boolean": {"type": "boolean"},
    "Edm.Int32": INT32,
    "Edm.Int64": {"type": "integer"},
    "Edm.DateTimeOffset": {"type": "string", "format": "date-time"},
}
SDK_ENUM_NAMES = {
    # sdk-derived-fields.json enum key -> CSDL enum name
    "CallState": "callState",
    "EndpointType": "endpointType",
    "MediaState": "mediaState",
    "Modality": "modality",
    "CallDirection": "callDirection",
    "OperationStatus": "operationStatus",
    "RejectReason": "rejectReason",
    "RoutingType": "routingType",
    "Tone": "tone",
    "CallTranscriptionState": "callTranscriptionState",
    "CallDisposition": "callDisposition",
    "RoutingPolicy": "routingPolicy",
}


@dataclass
class Property:
    name: str
    type: str
    nullable: bool


@dataclass
class StructuredType:
    name: str
    kind: str  # "ComplexType" or "EntityType"
    base: str | None = None
    open: bool = False
    abstract: bool = False
    properties: dict[str, Property] = field(default_factory=dict)


@dataclass
class Metadata:
    types: dict[str, StructuredType] = field(default_factory=dict)
    enums: dict[str, list[str]] = field(default_factory=dict)
    actions: dict[str, dict[str, Property]] = field(default_factory=dict)
    returns: dict[str, str] = field(default_factory=dict)  # action -> the type it returns


def strip_namespace(type_name: str) -> str:
    return type_name.removeprefix("graph.")


def read_metadata(folder: Path, version: str) -> Metadata:
    """Read every ``{version}-*.csdl.xml`` fragment in ``folder``."""
    metadata = Metadata()
    for path in sorted(folder.glob(f"{version}-*.csdl.xml")):
        text = path.read_text(encoding="utf-8")
        namespace = NAMESPACE.search(text)
        if namespace is None or namespace.group(1) != "microsoft.graph":
            continue  # another namespace's names (callRecords.participant) would shadow these
        element = ET.fromstring(text)
        name = element.attrib["Name"]
        if element.tag in ("ComplexType", "EntityType"):
            base = element.attrib.get("BaseType")
            structured = StructuredType(
                name=name,
                kind=element.tag,
                base=strip_namespace(base) if base else None,
                open=element.attrib.get("OpenType") == "true",
                abstract=element.attrib.get("Abstract") == "true",
            )
            for prop in element.findall("Property"):
                structured.properties[prop.attrib["Name"]] = Property(
                    name=prop.attrib["Name"],
                    type=prop.attrib["Type"],
                    nullable=prop.attrib.get("Nullable", "true") != "false",
                )
            metadata.types[name] = structured
        elif element.tag == "EnumType":
            metadata.enums[name] = [m.attrib["Name"] for m in element.findall("Member")]
        elif element.tag in ("Action", "Function"):
            parameters = element.findall("Parameter")
            binding = next(
                p.attrib["Type"] for p in parameters if p.attrib["Name"] == "bindingParameter"
            )
            key = binding_prefix(binding) + name
            metadata.actions[key] = {
                p.attrib["Name"]: Property(
                    name=p.attrib["Name"],
                    type=p.attrib["Type"],
                    nullable=p.attrib.get("Nullable", "true") != "false",
                )
                for p in parameters
                if p.attrib["Name"] != "bindingParameter"
            }
            returned = element.find("ReturnType")
            if returned is not None:
                metadata.returns[key] = strip_namespace(returned.attrib["Type"])
    return metadata


def widen(base: Metadata, wider: Metadata, sdk_enums: dict[str, list[str] | None]) -> Metadata:
    """Return ``base`` with every type, property, enum member and parameter of ``wider``."""
    merged = Metadata(
        types={
            n: StructuredType(t.name, t.kind, t.base, t.open, t.abstract, dict(t.properties))
            for n, t in base.types.items()
        },
        enums={n: list(m) for n, m in base.enums.items()},
        actions={n: dict(p) for n, p in base.actions.items()},
        returns={**base.returns, **wider.returns},
    )
    for name, structured in wider.types.items():
        target = merged.types.setdefault(
            name,
            StructuredType(
                name, structured.kind, structured.base, structured.open, structured.abstract
            ),
        )
        target.open = target.open or structured.open
        for prop_name, prop in structured.properties.items():
            target.properties.setdefault(prop_name, prop)
    for name, members in [*wider.enums.items(), *_sdk_enum_items(sdk_enums)]:
        target_members = merged.enums.setdefault(name, [])
        target_members.extend(m for m in members if m not in target_members)
    for name, parameters in wider.actions.items():
        target_parameters = merged.actions.setdefault(name, {})
        for param_name, param in parameters.items():
            target_parameters.setdefault(param_name, param)
    return merged


def _sdk_enum_items(sdk_enums: dict[str, list[str] | None]) -> list[tuple[str, list[str]]]:
    return [
        (SDK_ENUM_NAMES[key], members)
        for key, members in sdk_enums.items()
        if members and key in SDK_ENUM_NAMES
    ]


class SchemaBuilder:
    def __init__(self, metadata: Metadata) -> None:
        self.metadata = metadata
        self.derived: dict[str, list[str]] = {}
        for structured in metadata.types.values():
            for ancestor in self.ancestors(structured.name)[1:]:
                self.derived.setdefault(ancestor, []).append(structured.name)

    def ancestors(self, name: str) -> list[str]:
        """``name`` and its base types, nearest first."""
        chain = [name]
        while (base := self.metadata.types[chain[-1]].base) and base in self.metadata.types:
            chain.append(base)
        return chain

    def reference(self, type_name: str, nullable: bool) -> JSONSchema:
        if type_name.startswith("Collection("):
            items = self.reference(type_name[len("Collection(") : -1], nullable=False)
            schema: JSONSchema = {"type": "array", "items": items}
            return {"type": ["array", "null"], "items": items} if nullable else schema
        if type_name in PRIMITIVES:
            schema = dict(PRIMITIVES[type_name])
            if nullable:
                schema["type"] = [schema["type"], "null"]
            return schema
        name = strip_namespace(type_name)
        if name in self.metadata.enums:
            members: list[Any] = list(self.metadata.enums[name])
            # operationStatus is PascalCase in the CSDL; the docs and real traffic write it
            # camelCase ("running"), and the SDKs read both.
            members += [camel for m in members if (camel := m[:1].lower() + m[1:]) not in members]
            return {"enum": [*members, None] if nullable else members}
        if name in self.metadata.types:
            ref = {"$ref": f"#/$defs/microsoft.graph.{name}"}
            # $ref first: anyOf stops at the first branch that holds, and most values are set
            return {"anyOf": [ref, {"type": "null"}]} if nullable else ref
        # A type outside the stored metadata (navigation targets, newer enums): accept it.
        return {}

    def own_schema(self, name: str) -> JSONSchema:
        chain = self.ancestors(name)
        structured = self.metadata.types[name]
        properties: dict[str, JSONSchema] = {}
        required: list[str] = []
        is_open = False
        for type_name in reversed(chain):
            current = self.metadata.types[type_name]
            is_open = is_open or current.open
            for prop in current.properties.values():
                properties[prop.name] = self.reference(prop.type, prop.nullable)
                if not prop.nullable and structured.kind == "ComplexType":
                    required.append(prop.name)
        schema: JSONSchema = {
            "title": f"microsoft.graph.{name}",
            "type": "object",
            "properties": {"@odata.type": {"type": "string"}, **properties},
            # Instance annotations (@odata.type, @odata.id, ...) are legal on every type.
            "patternProperties": {"@": {}},
        }
        if required:
            schema["required"] = required
        if not is_open:
            schema["additionalProperties"] = False
        if name == "identitySet" or "identitySet" in chain:
            schema["not"] = {"propertyNames": {"pattern": "@"}}
            schema["x-messages"] = {
                "not": "must name at least one identity (user, application, phone, ...)"
            }
        return schema

    def type_schema(self, name: str) -> JSONSchema:
        """The schema of ``name``, dispatching on ``@odata.type`` to derived types. Values
        without ``@odata.type`` (most) skip the dispatch: one ``if`` instead of one per
        derived type, which is most of the cost of validating a transfer.

        The ``if`` holds for the untyped value (``@odata.type`` is absent), so the common case
        takes ``then``: fastjsonschema checks an ``if`` by raising and catching an exception
        when it fails, and an ``if`` that failed for every untyped value (the former
        ``required: ["@odata.type"]``) cost two exceptions per transfer, half of its check
        (BENCHMARKS.md, issue 24). The type named is a one-value ``enum``, which means what
        ``const`` does: fastjsonschema cannot compile ``const`` without its detailed exceptions,
        which mockgraph does without (``validation._compiled``)."""
        derived = sorted(self.derived.get(name, []), reverse=True)
        if not derived:
            return self.own_schema(name)
        chain: JSONSchema = {"$ref": f"#/$defs/microsoft.graph.{name}.own"}
        for subtype in derived:
            chain = {
                "if": {"properties": {"@odata.type": {"enum": [f"#microsoft.graph.{subtype}"]}}},
                "then": {"$ref": f"#/$defs/microsoft.graph.{subtype}.own"},
                "else": chain,
            }
        untyped = name
        if self.metadata.types[name].abstract and len(derived) == 1:
            # An abstract type with one concrete kind (prompt: mediaPrompt) can only mean that
            # kind, so a value that leaves out @odata.type is read as it.
            untyped = derived[0]
        return {
            # No @odata.type, or not an object (the own schema then says it must be one).
            "if": {"properties": {"@odata.type": False}},
            "then": {"$ref": f"#/$defs/microsoft.graph.{untyped}.own"},
            "else": chain,
        }

    def action_schema(self, name: str) -> JSONSchema:
        parameters = self.metadata.actions[name]
        properties = {p.name: self.reference(p.type, p.nullable) for p in parameters.values()}
        if "clientContext" in properties:  # every action's page: "a maximum of 256 characters"
            properties["clientContext"] = CLIENT_CONTEXT
        properties.update(EXTRA_ACTION_PARAMETERS.get(name, {}))
        schema: JSONSchema = {
            "title": f"{name} request body",
            "type": "object",
            "properties": properties,
        }
        required = [p.name for p in parameters.values() if not p.nullable]
        if required:
            schema["required"] = required
        if name in self.metadata.returns:  # what the action answers with, for mockgraph's tests
            schema["x-returns"] = f"microsoft.graph.{self.metadata.returns[name]}"
        return schema

    def document(self, version: str) -> JSONSchema:
        defs: dict[str, JSONSchema] = {}
        in_hierarchy = set(self.derived) | {d for ds in self.derived.values() for d in ds}
        for name in sorted(self.metadata.types):
            defs[f"microsoft.graph.{name}"] = self.type_schema(name)
            if name in in_hierarchy:
                defs[f"microsoft.graph.{name}.own"] = self.own_schema(name)
        for name in sorted(self.metadata.actions):
            defs[f"action.{name}"] = self.action_schema(name)
        for name, (properties, required, returns) in UNSTORED_ACTIONS.items():
            schema: JSONSchema = {
                "title": f"{name.rpartition('.')[2]} request body",
                "type": "object",
                "properties": properties,
            }
            if required:
                schema["required"] = required
            if returns:
                schema["x-returns"] = f"microsoft.graph.{returns}"
            defs[f"action.{name}"] = schema
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$comment": (
                f"Generated by tools/build_graph_schemas.py from the Graph {version} CSDL in "
                "shared/graph-schemas. Do not edit; run `make schemas`."
            ),
            "$defs": defs,
        }


def build(source: Path) -> dict[str, JSONSchema]:
    """The schema documents, keyed by API version."""
    v1 = read_metadata(source, "v1.0")
    beta_2021 = read_metadata(source, "beta")
    sdk = json.loads((source / "sdk-derived-fields.json").read_text(encoding="utf-8"))
    beta = widen(v1, beta_2021, sdk["msgraph_beta 1.66.0"]["enums"])
    return {
        "v1.0": SchemaBuilder(v1).document("v1.0"),
        "beta": SchemaBuilder(beta).document("beta"),
    }


def render(document: JSONSchema) -> str:
    return json.dumps(document, indent=1, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    source, output = Path(argv[0]), Path(argv[1])
    for version, document in build(source).items():
        (output / f"graph-{version}.json").write_text(render(document), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
