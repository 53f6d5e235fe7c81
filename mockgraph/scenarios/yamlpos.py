"""YAML to plain Python values, remembering where each value and key stands in the file.

PyYAML's ``safe_load`` forgets positions and silently keeps the last of two equal keys; a
tester needs ``file:line:col`` for every problem, and a duplicate key is one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

Path = tuple[str | int, ...]
# libyaml's parser, when PyYAML was built with it, composes the same nodes with the same
# positions ~10x faster (start-up reads every built-in scenario). Syntax errors are still
# reported by the pure-Python parser, whose messages are the ones documented and tested.
FAST_LOADER = yaml.CSafeLoader if yaml.__with_libyaml__ else None


@dataclass(frozen=True)
class Position:
    line: int  # 1-based
    column: int  # 1-based

    @classmethod
    def of(cls, mark: Any) -> Position:
        """From a PyYAML or libyaml mark (0-based), or None."""
        return cls(mark.line + 1, mark.column + 1) if mark else cls(1, 1)


class YamlProblem(Exception):
    def __init__(self, position: Position, message: str) -> None:
        super().__init__(message)
        self.position = position
        self.message = message


@dataclass
class Document:
    """One YAML document: its value, and the positions of its values and keys by path."""

    value: Any
    values: dict[Path, Position] = field(default_factory=dict)
    keys: dict[Path, Position] = field(default_factory=dict)

    def position(self, path: Path, *, key: bool = False) -> Position:
        """Where ``path`` stands; falls back to the nearest enclosing value that exists."""
        if key and path in self.keys:
            return self.keys[path]
        while path not in self.values and path:
            path = path[:-1]
        return self.values.get(path, Position(1, 1))


def load_documents(text: str) -> list[Document]:
    """Every document in ``text``; raises ``YamlProblem`` with the position of a syntax error."""
    try:
        nodes = _compose(text)
    except RecursionError:
        raise YamlProblem(Position(1, 1), f"nested too deeply ({NESTING})") from None
    except yaml.MarkedYAMLError as error:
        raise YamlProblem(Position.of(_mark(error)), _yaml_message(error)) from None
    except yaml.reader.ReaderError as error:  # a character YAML does not allow
        before = text[: error.position]
        where = Position(before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1)
        raise YamlProblem(
            where, f"YAML: the character U+{_code(error.character):04X} is not allowed in YAML text"
        ) from None
    except yaml.YAMLError as error:
        raise YamlProblem(Position(1, 1), str(error).splitlines()[0]) from None
    documents = []
    try:
        for node in nodes:
            document = Document(value=None)
            document.value = _build(node, (), document, yaml.SafeLoader(""), set())
            documents.append(document)
    except _Alias:
        raise YamlProblem(_first_alias(text), ALIASES) from None
    except RecursionError:
        raise YamlProblem(Position(1, 1), f"nested too deeply ({NESTING})") from None
    return documents


# A node reached twice is an alias: refused, because a file of a few hundred bytes whose
# aliases fan out could otherwise expand to millions of values (and `&x [*x]` never ends).
ALIASES = "aliases (*name) and the merge keys that use them are not supported; write the value out"
NESTING = "a scenario file nests a few levels deep, not hundreds"
# Graph's deepest notification body nests about ten levels; past this, the file is not a
# scenario, and Python's own recursion limit would otherwise decide, with no position to show.
MAX_DEPTH = 64


def _code(character: int | str) -> int:
    return character if isinstance(character, int) else ord(character)


PLAIN_TAGS = frozenset({"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"})
PLAIN_VALUES = (str, int, float, bool)


class _Alias(Exception):
    pass


def _first_alias(text: str) -> Position:
    """Where the first alias stands (only looked for once a composed node repeats)."""
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            return Position.of(event.start_mark)
    return Position(1, 1)


def _compose(text: str, fast: bool = True) -> list[Node]:
    if fast and FAST_LOADER is not None:
        try:
            return list(yaml.compose_all(text, Loader=FAST_LOADER))
        except yaml.MarkedYAMLError as error:
            # libyaml stops at 1,000 levels at once; the pure-Python parser would recurse
            # until Python's own limit, for seconds, so this one libyaml says itself.
            if "maximum nesting depth" in str(error.problem):
                where = Position.of(error.problem_mark)
                raise YamlProblem(where, f"nested too deeply ({NESTING})") from None
        except yaml.YAMLError:
            pass  # let the pure-Python parser say what is wrong
    return list(yaml.compose_all(text, Loader=yaml.SafeLoader))


def _build(
    node: Node, path: Path, document: Document, loader: yaml.SafeLoader, seen: set[int]
) -> Any:
    if id(node) in seen:
        raise _Alias
    if len(path) > MAX_DEPTH:
        raise YamlProblem(Position.of(node.start_mark), f"nested too deeply ({NESTING})")
    seen.add(id(node))
    document.values[path] = Position.of(node.start_mark)
    if isinstance(node, ScalarNode):
        value = _scalar(node, loader)
        if value is not None and not isinstance(value, PLAIN_VALUES):
            # a date, bytes (!!binary): YAML's, not JSON's, so no scenario can mean one
            raise YamlProblem(
                Position.of(node.start_mark),
                f"{node.value!r} reads as a {type(value).__name__}, not text or a number; quote it",
            )
        return value
    if not isinstance(node, ScalarNode) and node.tag not in PLAIN_TAGS:
        raise YamlProblem(
            Position.of(node.start_mark), f"the tag {node.tag} is not supported; write plain YAML"
        )
    if isinstance(node, SequenceNode):
        return [
            _build(item, (*path, i), document, loader, seen) for i, item in enumerate(node.value)
        ]
    if isinstance(node, MappingNode):
        loader.flatten_mapping(node)  # YAML merge keys (<<)
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node, loader) if isinstance(key_node, ScalarNode) else None
            if not isinstance(key, str | int):
                raise YamlProblem(
                    Position.of(key_node.start_mark), "a key must be a string or a whole number"
                )
            if key in mapping:
                first = document.keys[(*path, key)]
                raise YamlProblem(
                    Position.of(key_node.start_mark),
                    f"duplicate key '{key}' (first at line {first.line}, column {first.column})",
                )
            document.keys[(*path, key)] = Position.of(key_node.start_mark)
            mapping[key] = _build(value_node, (*path, key), document, loader, seen)
        return mapping
    raise YamlProblem(Position.of(node.start_mark), f"unsupported YAML node {node.tag}")


def _scalar(node: ScalarNode, loader: yaml.SafeLoader) -> Any:
    try:
        return loader.construct_object(node)
    except yaml.constructor.ConstructorError as error:
        raise YamlProblem(Position.of(node.start_mark), _yaml_message(error)) from None
    except ValueError:  # Python's limit on the digits of an int (4,300)
        raise YamlProblem(
            Position.of(node.start_mark),
            f"a number of {len(node.value)} characters is too long to read; quote it, "
            "or write a shorter one",
        ) from None


def _mark(error: yaml.MarkedYAMLError) -> Any:
    """Where to show a syntax error: where it was found, except when that is the end of the
    file, where what was never closed (a quote, a flow mapping) is the place to look."""
    problem = error.problem or ""
    ended = "end of stream" in problem or "<stream end>" in problem
    if ended and error.context_mark is not None:
        return error.context_mark
    return error.problem_mark or error.context_mark


# What the parser's words mean for a person who wrote the file, by a phrase of its problem.
PLAIN_WORDS = (
    ("that cannot start any token", "a tab here: YAML indents with spaces only"),
    (
        "expected <block end>",
        "this line is not lined up with the lines above it: a key or '-' must start in the "
        "same column as the others at its level (count the spaces)",
    ),
    (
        "mapping values are not allowed here",
        "a ':' where none can be: this line is indented under a value (line its key up with "
        "the keys above), or a value that holds ': ' needs quotes",
    ),
    (
        "could not find expected ':'",
        "a key without its ':', or a line indented further than the key above it",
    ),
)


def _yaml_message(error: yaml.MarkedYAMLError) -> str:
    said = ", ".join(p for p in (error.context, error.problem) if p)
    for phrase, plain in PLAIN_WORDS:
        if phrase in said:
            return f"YAML: {plain} (the parser: {said})"
    return "YAML: " + said
