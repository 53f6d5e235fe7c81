"""Writes tests/corpus: bad scenario files, each wrong in its own way."""

import json
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "tests" / "corpus"
for old in OUT.glob("*"):
    old.unlink()

BASE = """name: c
operation: transfer
steps:
  - after: 50ms
    notify:
      changeType: updated
      resourceData: {state: transferring}
"""
files: dict[str, bytes | str] = {}


def add(name: str, text: bytes | str, why: str = "") -> None:
    assert name not in files, name
    if isinstance(text, str) and why:
        text = f"# {why}\n" + text
    files[name] = text


def sub(name: str, old: str, new: str, why: str) -> None:
    assert old in BASE, old
    add(name, BASE.replace(old, new, 1), why)


# --- syntax ---------------------------------------------------------------------------------
add(
    "syntax-unclosed-flow-map",
    "name: c\noperation: transfer\nsteps:\n  - notify: {changeType: updated\n",
    "a flow mapping never closed",
)
add(
    "syntax-unclosed-flow-seq",
    "name: c\noperation: transfer\nsteps: [\n",
    "a flow sequence never closed",
)
add(
    "syntax-unclosed-double-quote",
    'name: "c\noperation: transfer\nsteps: []\n',
    "a double quote never closed",
)
add(
    "syntax-unclosed-single-quote",
    "name: 'c\noperation: transfer\nsteps: []\n",
    "a single quote never closed",
)
add(
    "syntax-bad-indent",
    "name: c\n operation: transfer\nsteps: []\n",
    "a key indented under a scalar",
)
add(
    "syntax-mapping-in-scalar",
    "name: c: d\noperation: transfer\nsteps: []\n",
    "a mapping value where a scalar stands",
)
add(
    "syntax-stray-bracket",
    "name: c\noperation: transfer]\nsteps: []\n",
    "a closing bracket with no opening one",
)
add(
    "syntax-sequence-after-mapping",
    "name: c\n- operation\nsteps: []\n",
    "a sequence item inside a mapping",
)
add(
    "syntax-bad-escape",
    'name: "c\\q"\noperation: transfer\nsteps: []\n',
    "an escape YAML does not know",
)
add(
    "syntax-reserved-at",
    "name: @c\noperation: transfer\nsteps: []\n",
    "@ cannot start a plain scalar",
)
add(
    "syntax-reserved-backtick",
    "name: `c`\noperation: transfer\nsteps: []\n",
    "a backtick cannot start a plain scalar",
)
add(
    "syntax-bad-directive",
    "%YAML 3.0\n---\nname: c\noperation: transfer\nsteps: []\n",
    "a YAML version nobody reads",
)
add(
    "syntax-anchor-without-value",
    "name: &\noperation: transfer\nsteps: []\n",
    "an anchor with no name",
)
add(
    "syntax-tab-indent",
    "name: c\noperation: transfer\nsteps:\n\t- after: 50ms\n",
    "a tab where indentation goes",
)
add(
    "syntax-tab-in-flow",
    "name: c\noperation: transfer\nsteps:\n  - notify:\n\t\tchangeType: updated\n",
    "tabs indenting a block mapping",
)
add(
    "syntax-key-without-colon",
    "name c\noperation: transfer\nsteps: []\n",
    "a key with no colon, then mappings",
)
add(
    "syntax-unclosed-block-quote",
    'name: c\noperation: transfer\ndescription: "line one\n  line two\nsteps: []\n',
    "a quoted scalar that runs to the end",
)
add(
    "syntax-document-end-in-mapping",
    "name: c\n...\noperation: transfer\n",
    "a document end marker, then more content",
)
# --- encoding -------------------------------------------------------------------------------
add(
    "encoding-bom-then-unknown-key",
    b"\xef\xbb\xbf" + (BASE + "colour: red\n").encode(),
)
add("encoding-latin1", "name: café\noperation: transfer\nsteps: []\n".encode("latin-1"))
add("encoding-utf16", "name: c\noperation: transfer\nsteps: []\n".encode("utf-16"))
add("encoding-nul-byte", b"name: c\x00\noperation: transfer\nsteps: []\n")
add(
    "encoding-lone-surrogate",
    'name: "c\\ud800"\noperation: transfer\nsteps: []\n',
    "an escaped lone surrogate",
)
add("encoding-control-char", b"name: c\x07\noperation: transfer\nsteps: []\n")
add("encoding-binary", bytes(range(256)) * 4)
# --- empty ----------------------------------------------------------------------------------
add("empty-file", b"")
add("empty-whitespace", b"   \n\n   \n")
add("empty-comments-only", "# nothing here\n# at all\n")
add("empty-separators-only", "---\n---\n...\n")
add("empty-null-document", "~\n")
# --- structure ------------------------------------------------------------------------------
add("structure-top-list", "- name: c\n- operation: transfer\n", "a list, not a scenario")
add("structure-top-scalar", "just words\n", "a scalar, not a scenario")
add("structure-top-number", "42\n", "a number, not a scenario")
sub(
    "structure-steps-mapping",
    "steps:\n  - after: 50ms",
    "steps:\n  first:\n    after: 50ms",
    "steps as a mapping",
)
add(
    "structure-steps-string",
    "name: c\noperation: transfer\nsteps: all of them\n",
    "steps as a string",
)
sub(
    "structure-notify-string",
    "    notify:\n      changeType: updated\n      resourceData: {state: transferring}",
    "    notify: transferring",
    "notify as a string",
)
sub(
    "structure-resource-data-list",
    "resourceData: {state: transferring}",
    "resourceData: [transferring]",
    "resourceData as a list",
)
add("structure-when-list", BASE + "when: [transferTarget]\n", "when as a list")
sub(
    "structure-notify-empty-list",
    "    notify:\n      changeType: updated\n      resourceData: {state: transferring}",
    "    notify: []",
    "notify as an empty list",
)
add(
    "structure-steps-of-strings",
    "name: c\noperation: transfer\nsteps: [a, b]\n",
    "steps that are strings",
)
# --- nesting --------------------------------------------------------------------------------
add(
    "nesting-10000-flow",
    "name: c\noperation: transfer\nsteps: " + "[" * 10_000 + "]" * 10_000 + "\n",
)
add(
    "nesting-1100-block",
    "name: c\noperation: transfer\nsteps:\n" + "".join(" " * (i + 1) + "k:\n" for i in range(1100)),
)
add(
    "nesting-900-flow",
    "name: c\noperation: transfer\nsteps: " + "[" * 900 + "]" * 900 + "\n",
    "deep, below libyaml's limit",
)
add(
    "nesting-deep-description",
    "name: c\noperation: transfer\ndescription: "
    + "{a: " * 500
    + "1"
    + "}" * 500
    + "\nsteps: []\n",
)
# --- duplicates -----------------------------------------------------------------------------
add("duplicate-top-key", BASE + "name: d\n", "name twice")
sub(
    "duplicate-resource-data-key",
    "resourceData: {state: transferring}",
    "resourceData: {state: transferring, state: established}",
    "state twice",
)
add("duplicate-scenario-name", BASE + "---\n" + BASE, "the same name in two documents")
sub("duplicate-step-key", "  - after: 50ms", "  - after: 50ms\n    after: 60ms", "after twice")
# --- aliases, merges, tags ------------------------------------------------------------------
add("alias-recursive", "name: c\noperation: transfer\nsteps: &x [1, *x]\n")
add(
    "alias-merge-key",
    "base: &b {changeType: updated}\nname: c\noperation: transfer\nsteps:\n"
    "  - notify: {<<: *b, resourceData: {}}\n",
)
add(
    "alias-fan-out",
    "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1]\n"
    + "".join(
        f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n" for a, b in zip("abcde", "bcdef", strict=True)
    ),
)
add("alias-scalar", "name: &n c\noperation: transfer\ndescription: *n\nsteps: []\n")
add("tag-python-object", "!!python/object:os.system\nname: c\n")
add("tag-python-name", "name: !!python/name:os.system c\noperation: transfer\nsteps: []\n")
add("tag-custom-scalar", "name: !secret c\noperation: transfer\nsteps: []\n")
add("tag-set", "name: c\noperation: transfer\nsteps: !!set {a, b}\n")
add("tag-binary-name", "name: !!binary aGVsbG8=\noperation: transfer\nsteps: []\n")
add(
    "tag-timestamp-name", "name: 2026-12-01\noperation: transfer\nsteps: []\n", "a date, not a name"
)
# --- wrong types ----------------------------------------------------------------------------
sub("type-name-number", "name: c", "name: 5", "name as a number")
sub("type-name-list", "name: c", "name: [c]", "name as a list")
sub("type-name-spaces", "name: c", "name: has space", "a name with a space")
sub("type-name-empty", "name: c", "name: ''", "an empty name")
sub("type-operation-number", "operation: transfer", "operation: 5", "operation as a number")
add("type-default-string", BASE + "default: yes please\n", "default as a string")
sub("type-after-bool", "after: 50ms", "after: true", "a pause of true")
sub("type-after-negative", "after: 50ms", "after: -5", "a negative pause")
sub("type-after-words", "after: 50ms", "after: 5 minutes", "a pause in words")
sub("type-after-minutes", "after: 50ms", "after: 5m", "minutes are not a unit")
add("type-jitter-mapping", BASE + "jitter: {}\n", "jitter as a mapping")
add("type-quirks-string", BASE + "quirks: subCode\n", "quirks as a string")
add("type-quirks-repeated", BASE + "quirks: [subCode, subCode]\n", "a quirk twice")
sub(
    "type-fault-unknown",
    "  - after: 50ms",
    "  - after: 50ms\n    fault: crash",
    "a fault there is none of",
)
sub(
    "type-fault-out-of-order-last",
    "  - after: 50ms",
    "  - after: 50ms\n    fault: outOfOrder",
    "outOfOrder on the last step",
)
add(
    "type-when-list-value",
    BASE + "when: {transferTarget.identity: [1]}\n",
    "a when value that is a list",
)
add(
    "type-when-exists-string",
    BASE + "when: {transferTarget: {exists: maybe}}\n",
    "exists as a string",
)
add("type-when-bad-path", BASE + "when: {'transferTarget..identity': 1}\n", "an empty path segment")
add("type-description-number", BASE + "description: 5\n", "description as a number")
sub("type-state-number", "state: transferring", "state: 5", "a state that is a number")
sub(
    "type-result-info-string",
    "resourceData: {state: transferring}",
    "resourceData: {state: established, resultInfo: failed}",
    "resultInfo as a string",
)
sub(
    "type-code-string",
    "resourceData: {state: transferring}",
    "resourceData: {state: established, resultInfo: {code: five, subcode: 1}}",
    "a code in words",
)
sub("type-change-type-number", "changeType: updated", "changeType: 1", "changeType as a number")
sub("type-call-number", "  - after: 50ms", "  - after: 50ms\n    call: 5", "call as a number")
sub(
    "type-step-quirk-unknown",
    "  - after: 50ms",
    "  - after: 50ms\n    quirks: [loud]",
    "a step quirk there is none of",
)
add(
    "type-recording-missing",
    BASE.replace("operation: transfer", "operation: recordResponse")
    + "recording: no-such-file.wav\n",
    "a recording file that is not there",
)
add("type-recording-number", BASE + "recording: 5\n", "recording as a number")
# --- unknown keys ---------------------------------------------------------------------------
add("unknown-top-key", BASE + "colour: red\n")
add("unknown-top-key-case", BASE.replace("steps:", "Steps:"), "Steps for steps")
add("unknown-operations-key", BASE.replace("operation:", "operations:"), "operations for operation")
sub(
    "unknown-step-key",
    "  - after: 50ms",
    "  - after: 50ms\n    colour: red",
    "a step key there is none of",
)
sub("unknown-step-after-case", "  - after: 50ms", "  - After: 50ms", "After for after")
sub("unknown-notify-typo", "    notify:", "    notfy:", "notfy for notify")
sub(
    "unknown-result-info-key",
    "resourceData: {state: transferring}",
    "resourceData: {state: established, resultInfo: {code: 500, subcode: 1, msg: x}}",
    "msg for message",
)
sub(
    "unknown-result-info-subcode-case",
    "resourceData: {state: transferring}",
    "resourceData: {state: established, resultInfo: {code: 500, subCode: 7000}}",
    "subCode for subcode",
)
sub(
    "type-identity-string",
    "resourceData: {state: transferring}",
    "resourceData: {state: established, source: {identity: caller}}",
    "an identity that is a string",
)
add(
    "unknown-when-exists-extra",
    BASE + "when: {transferTarget: {exists: true, really: true}}\n",
    "a when rule with more than exists",
)
# --- unknown values -------------------------------------------------------------------------
sub("value-state-typo", "state: transferring", "state: transfering", "a state there is none of")
sub("value-state-case", "state: transferring", "state: Transferring", "a state in the wrong case")
sub(
    "value-change-type",
    "changeType: updated",
    "changeType: changed",
    "a changeType there is none of",
)
sub(
    "value-operation-typo",
    "operation: transfer",
    "operation: transfr",
    "an operation there is none of",
)
sub(
    "value-operation-case",
    "operation: transfer",
    "operation: Transfer",
    "an operation in the wrong case",
)
sub(
    "value-about",
    "  - after: 50ms",
    "  - after: 50ms\n    about: everyone",
    "about what there is nothing",
)
sub(
    "value-roster",
    "  - after: 50ms",
    "  - after: 50ms\n    roster: all",
    "a roster kind there is none of",
)
sub("value-tone", "  - after: 50ms", "  - after: 50ms\n    tones: '1x'", "a key that is no tone")
sub(
    "value-tone-name",
    "  - after: 50ms",
    "  - after: 50ms\n    tones: [tone1, beep]",
    "a tone name there is none of",
)
sub(
    "value-media-state",
    "resourceData: {state: transferring}",
    "resourceData: {mediaState: {audio: muted}}",
    "a media state there is none of",
)
files["value-operation-status"] = "# an operation status there is none of\n" + BASE.replace(
    "operation: transfer", "operation: playPrompt"
).replace("  - after: 50ms", "  - after: 50ms\n    about: operation").replace(
    "resourceData: {state: transferring}", "resourceData: {status: done}"
)
# --- NaN and huge numbers -------------------------------------------------------------------
sub("number-after-nan", "after: 50ms", "after: .nan", "a pause that is not a number")
sub("number-after-inf", "after: 50ms", "after: .inf", "an endless pause")
sub("number-after-float", "after: 50ms", "after: 1.5", "milliseconds must be whole")
sub(
    "number-code-huge",
    "resourceData: {state: transferring}",
    "resourceData: {state: established, resultInfo: {code: 1e400, subcode: 1}}",
    "a code past any integer",
)
sub(
    "number-subcode-past-int32",
    "resourceData: {state: transferring}",
    "resourceData: {state: established, resultInfo: {code: 500, subcode: 99999999999999999999}}",
    "a subcode past Int32",
)
sub(
    "number-code-nan",
    "resourceData: {state: transferring}",
    "resourceData: {state: established, resultInfo: {code: .nan, subcode: 1}}",
    "a code that is not a number",
)
sub(
    "number-jitter-negative",
    "  - after: 50ms",
    "  - after: 50ms\n    jitter: -1",
    "a negative jitter",
)
# --- templates ------------------------------------------------------------------------------
sub(
    "template-names-nothing",
    "state: transferring",
    "state: '{{ nothing.x }}'",
    "a root there is none of",
)
sub("template-empty", "state: transferring", "state: '{{ }}'", "an empty placeholder")
sub(
    "template-expression",
    "state: transferring",
    "state: '{{ call.id + 1 }}'",
    "an expression, not a path",
)
sub(
    "template-filter",
    "state: transferring",
    "state: '{{ call.id | upper }}'",
    "a filter, not a path",
)
sub("template-os", "state: transferring", "state: '{{ os.environ }}'", "the process's environment")
sub(
    "template-in-call",
    "  - after: 50ms",
    "  - after: 50ms\n    call: '{{ everything }}'",
    "a step call naming nothing",
)
sub(
    "template-spaces-in-path",
    "state: transferring",
    "state: '{{ request.a b }}'",
    "a path with a space",
)
sub(
    "template-unclosed",
    "state: transferring",
    "state: transferring, subject: '{{ request.clientContext'",
    "a placeholder never closed",
)
sub(
    "template-request-names-nothing",
    "state: transferring",
    "state: transferring, subject: '{{ request.clientContxt }}'",
    "a request field the transfer request does not have",
)
sub(
    "template-request-typo-deep",
    "state: transferring",
    "state: transferring, subject: '{{ request.transferTarget.identity.usr.id }}'",
    "a typo deep in the request",
)
add(
    "number-too-many-digits",
    BASE.replace("after: 50ms", "after: " + "9" * 5000),
    "an integer longer than Python reads",
)
add(
    "operation-completion-reason-typo",
    "name: c\noperation: playPrompt\nsteps:\n  - about: operation\n    notify:\n"
    "      changeType: deleted\n      resourceData:\n        status: completed\n"
    "        completionReason: completedSucessfully\n",
    "a completionReason the playPromptOperation does not have",
)
add(
    "operation-status-typo",
    "name: c\noperation: recordResponse\nsteps:\n  - about: operation\n    notify:\n"
    "      changeType: deleted\n      resourceData: {status: complete}\n",
    "a status that is no operationStatus",
)
# --- steps without notify -------------------------------------------------------------------
add(
    "step-only-after",
    "name: c\noperation: transfer\nsteps:\n  - after: 50ms\n",
    "a step with nothing to send",
)
add("step-empty", "name: c\noperation: transfer\nsteps:\n  - {}\n", "an empty step")
add(
    "step-notify-null",
    "name: c\noperation: transfer\nsteps:\n  - notify: null\n",
    "notify of nothing",
)
add(
    "step-notify-missing-change-type",
    "name: c\noperation: transfer\nsteps:\n  - notify: {resourceData: {state: transferring}}\n",
    "a notification with no changeType",
)
add(
    "step-notify-missing-resource-data",
    "name: c\noperation: transfer\nsteps:\n  - notify: {changeType: updated}\n",
    "a notification with no resourceData",
)
add("step-null", "name: c\noperation: transfer\nsteps:\n  - \n", "a step that is null")
# --- missing --------------------------------------------------------------------------------
add("missing-name", BASE.replace("name: c\n", ""), "no name")
add("missing-operation", BASE.replace("operation: transfer\n", ""), "no operation")
add("missing-steps", "name: c\noperation: transfer\n", "no steps")
add("missing-everything", "description: only this\n", "nothing but a description")
# --- one bad among good ---------------------------------------------------------------------
add(
    "second-document-bad",
    BASE + "---\n" + BASE.replace("name: c", "name: d").replace("transferring", "transfering"),
    "the second document's state",
)

# What each file must be told: "line:column words", one per problem, written by reading the
# file (the line and column of what is wrong in it, the words a tester needs to fix it), not
# by running the loader. tests/test_corpus.py holds the loader to it.
DUTY = "must start with 'call.', 'request.', 'operation.' or 'recording.'"
ALIAS = "aliases (*name) and the merge keys that use them are not supported"
DEEP = "nested too deeply"
EMPTY = "the file holds no scenario"
NOT_UTF8 = "not UTF-8: byte"
DURATION = "is not a duration (50, '50ms', '1.5s')"
NOT_DOTTED = "is not a dotted path such as {{ call.id }}"
NEEDS = "'steps[0]' needs 'notify', 'tones', 'roster', 'join' or 'leave'"
EXPECTED: dict[str, tuple[str, ...]] = {
    "alias-fan-out": (f"2:8 {ALIAS}",),
    "alias-merge-key": (f"5:18 {ALIAS}",),
    "alias-recursive": (f"3:15 {ALIAS}",),
    "alias-scalar": (f"3:14 {ALIAS}",),
    "duplicate-resource-data-key": ("8:43 duplicate key 'state' (first at line 8, column 22)",),
    "duplicate-scenario-name": ("10:1 scenario 'c' is defined twice",),
    "duplicate-step-key": ("6:5 duplicate key 'after' (first at line 5, column 5)",),
    "duplicate-top-key": ("9:1 duplicate key 'name' (first at line 2, column 1)",),
    "empty-comments-only": (f"1:1 {EMPTY}",),
    "empty-file": (f"1:1 {EMPTY}",),
    "empty-null-document": (f"1:1 {EMPTY}",),
    "empty-separators-only": (f"1:1 {EMPTY}",),
    "empty-whitespace": (f"1:1 {EMPTY}",),
    "encoding-binary": (f"2:118 {NOT_UTF8} 0x80",),
    "encoding-bom-then-unknown-key": ("8:1 scenario has no property 'colour'",),
    "encoding-control-char": ("1:8 the character U+0007 is not allowed",),
    "encoding-latin1": (f"1:10 {NOT_UTF8} 0xe9",),
    "encoding-lone-surrogate": ("2:7 'name': \"c\\ud800\" must be letters, digits",),
    "encoding-nul-byte": ("1:8 the character U+0000 is not allowed",),
    "encoding-utf16": (f"1:1 {NOT_UTF8} 0xff",),
    "missing-everything": (
        "2:1 'name' is required",
        "2:1 'operation' is required",
        "2:1 'steps' is required",
    ),
    "missing-name": ("2:1 'name' is required",),
    "missing-operation": ("2:1 'operation' is required",),
    "missing-steps": ("2:1 'steps' is required",),
    "nesting-10000-flow": (f"3:1007 {DEEP}",),
    "nesting-1100-block": (f"1002:1001 {DEEP}",),
    "nesting-900-flow": (f"4:72 {DEEP}",),
    "nesting-deep-description": (f"3:270 {DEEP}",),
    "number-after-float": (f"5:12 'steps[0].after': 1.5 {DURATION}",),
    "number-after-inf": (f"5:12 'steps[0].after': Infinity {DURATION}",),
    "number-after-nan": (f"5:12 'steps[0].after': NaN {DURATION}",),
    "number-code-huge": ("8:61 'steps[0].notify.resourceData.resultInfo.code' must be an integer",),
    "number-code-nan": ("8:61 'steps[0].notify.resourceData.resultInfo.code' must be an integer",),
    "number-jitter-negative": (f"6:13 'steps[0].jitter': -1 {DURATION}",),
    "number-subcode-past-int32": (
        "8:75 'steps[0].notify.resourceData.resultInfo.subcode': 99999999999999999999 is "
        "greater than the maximum of 2147483647",
    ),
    "number-too-many-digits": ("5:12 a number of 5000 characters is too long to read",),
    "operation-completion-reason-typo": (
        '10:27 "completedSucessfully" is not one of',
        "10:27 did you mean 'completedSuccessfully'?",
    ),
    "operation-status-typo": (
        "8:30 'steps[0].notify.resourceData.status': \"complete\" is not one of",
        "8:30 did you mean 'completed'?",
    ),
    "second-document-bad": (
        '16:29 "transfering" is not one of',
        "16:29 did you mean 'transferring'?",
    ),
    "step-empty": (f"5:5 {NEEDS}",),
    "step-notify-missing-change-type": ("5:13 'steps[0].notify.changeType' is required",),
    "step-notify-missing-resource-data": ("5:13 'steps[0].notify.resourceData' is required",),
    "step-notify-null": ("5:13 'steps[0].notify' must be an object, not null",),
    "step-null": ("5:4 'steps[0]' must be an object, not null",),
    "step-only-after": (f"5:5 {NEEDS}",),
    "structure-notify-empty-list": ("6:13 'steps[0].notify' must be an object, not []",),
    "structure-notify-string": ("6:13 'steps[0].notify' must be an object, not \"transferring\"",),
    "structure-resource-data-list": ("8:21 'steps[0].notify.resourceData' must be an object",),
    "structure-steps-mapping": ("5:3 'steps' must be an array",),
    "structure-steps-of-strings": (
        "4:9 'steps[0]' must be an object, not \"a\"",
        "4:12 'steps[1]' must be an object, not \"b\"",
    ),
    "structure-steps-string": ("4:8 'steps' must be an array, not \"all of them\"",),
    "structure-top-list": ("2:1 the scenario must be an object",),
    "structure-top-number": ("2:1 the scenario must be an object, not 42",),
    "structure-top-scalar": ('2:1 the scenario must be an object, not "just words"',),
    "structure-when-list": ("9:7 'when' must be an object",),
    "syntax-anchor-without-value": ("2:8 while scanning an anchor",),
    "syntax-bad-directive": ("2:1 incompatible YAML document",),
    "syntax-bad-escape": ("2:10 unknown escape character 'q'",),
    "syntax-bad-indent": ("3:11 mapping values are not allowed here",),
    "syntax-document-end-in-mapping": ("4:1 expected '<document start>'",),
    "syntax-key-without-colon": ("3:10 mapping values are not allowed here",),
    "syntax-mapping-in-scalar": ("2:8 mapping values are not allowed here",),
    "syntax-reserved-at": ("2:7 found character '@' that cannot start any token",),
    "syntax-reserved-backtick": ("2:7 found character '`' that cannot start any token",),
    "syntax-sequence-after-mapping": ("3:1 while parsing a block mapping, expected <block end>",),
    "syntax-stray-bracket": ("3:12 'operation': \"transfer]\" is not one of",),
    "syntax-tab-in-flow": ("6:1 found character '\\t' that cannot start any token",),
    "syntax-tab-indent": ("5:1 found character '\\t' that cannot start any token",),
    "syntax-unclosed-block-quote": ("4:14 while scanning a quoted scalar, found unexpected end",),
    "syntax-unclosed-double-quote": ("2:7 while scanning a quoted scalar, found unexpected end",),
    "syntax-unclosed-flow-map": ("5:13 while parsing a flow mapping, expected ',' or '}'",),
    "syntax-unclosed-flow-seq": ("5:1 expected the node content, but found '<stream end>'",),
    "syntax-unclosed-single-quote": ("2:7 while scanning a quoted scalar, found unexpected end",),
    "tag-binary-name": ("1:7 'aGVsbG8=' reads as a bytes, not text or a number; quote it",),
    "tag-custom-scalar": ("1:7 could not determine a constructor for the tag '!secret'",),
    "tag-python-name": ("1:7 could not determine a constructor for the tag",),
    "tag-python-object": (
        "1:1 the tag tag:yaml.org,2002:python/object:os.system is not supported",
    ),
    "tag-set": ("3:8 the tag tag:yaml.org,2002:set is not supported",),
    "tag-timestamp-name": ("2:7 '2026-12-01' reads as a date, not text or a number; quote it",),
    "template-empty": (f"8:29 '{{{{ }}}}' {NOT_DOTTED}",),
    "template-expression": (f"8:29 '{{{{ call.id + 1 }}}}' {NOT_DOTTED}",),
    "template-filter": (f"8:29 '{{{{ call.id | upper }}}}' {NOT_DOTTED}",),
    "template-in-call": (f"6:11 '{{{{ everything }}}}' {DUTY}",),
    "template-names-nothing": (f"8:29 '{{{{ nothing.x }}}}' {DUTY}",),
    "template-os": (f"8:29 '{{{{ os.environ }}}}' {DUTY}",),
    "template-request-names-nothing": (
        "8:52 '{{ request.clientContxt }}' names nothing",
        "8:52 did you mean 'clientContext'?",
    ),
    "template-request-typo-deep": (
        "8:52 microsoft.graph.identitySet has no 'usr'",
        "8:52 did you mean 'user'?",
    ),
    "template-spaces-in-path": (f"8:29 '{{{{ request.a b }}}}' {NOT_DOTTED}",),
    "template-unclosed": ("8:52 '{{ request.clientContext' opens a placeholder that never closes",),
    "type-after-bool": (f"5:12 'steps[0].after': true {DURATION}",),
    "type-after-minutes": (f"5:12 'steps[0].after': \"5m\" {DURATION}",),
    "type-after-negative": (f"5:12 'steps[0].after': -5 {DURATION}",),
    "type-after-words": (f"5:12 'steps[0].after': \"5 minutes\" {DURATION}",),
    "type-call-number": ("6:11 'steps[0].call' must be a string, not 5",),
    "type-change-type-number": ("7:19 'steps[0].notify.changeType' must be a string, not 1",),
    "type-code-string": (
        "8:61 'steps[0].notify.resourceData.resultInfo.code' must be an integer, not \"five\"",
    ),
    "type-default-string": ("9:10 'default' must be a boolean, not \"yes please\"",),
    "type-description-number": ("9:14 'description' must be a string, not 5",),
    "type-fault-out-of-order-last": ("6:12 outOfOrder sends a step after the next one",),
    "type-fault-unknown": ("6:12 'steps[0].fault': \"crash\" is not one of",),
    "type-identity-string": (
        "8:61 'steps[0].notify.resourceData.source.identity': \"caller\" must name at least one",
    ),
    "type-jitter-mapping": (f"9:9 'jitter' {DURATION}",),
    "type-name-empty": ("2:7 'name': \"\" must be letters, digits",),
    "type-name-list": ("2:7 'name' must be a string, not [\"c\"]",),
    "type-name-number": ("2:7 'name' must be a string, not 5",),
    "type-name-spaces": ("2:7 'name': \"has space\" must be letters, digits",),
    "type-operation-number": ("3:12 'operation': 5 is not one of",),
    "type-quirks-repeated": ("9:9 'quirks': ['subCode', 'subCode'] has non-unique elements",),
    "type-quirks-string": ("9:9 'quirks' must be an array, not \"subCode\"",),
    "type-recording-missing": ("9:12 no-such-file.wav' (no such file)",),
    "type-recording-number": ("9:12 'recording' must be a string, not 5",),
    "type-result-info-string": (
        "8:54 'steps[0].notify.resourceData.resultInfo' must be an object, not \"failed\"",
    ),
    "type-state-number": ("8:29 'steps[0].notify.resourceData.state': 5 is not one of",),
    "type-step-quirk-unknown": ("6:14 'steps[0].quirks[0]': \"loud\" is not one of",),
    "type-when-bad-path": ("9:7 'when': 'transferTarget..identity' does not match",),
    "type-when-exists-string": (
        "9:33 'when.transferTarget.exists' must be a boolean, not \"maybe\"",
    ),
    "type-when-list-value": (
        "9:33 'when.transferTarget.identity' must be a string or number or boolean, not [1]",
    ),
    "unknown-notify-typo": (
        f"5:5 {NEEDS}",
        "6:5 step has no property 'notfy'; did you mean 'notify'?",
    ),
    "unknown-operations-key": (
        "2:1 'operation' is required",
        "3:1 scenario has no property 'operations'; did you mean 'operation'?",
    ),
    "unknown-result-info-key": ("8:54 microsoft.graph.resultInfo has no property 'msg'",),
    "unknown-result-info-subcode-case": (
        "8:54 microsoft.graph.resultInfo has no property 'subCode'; did you mean 'subcode'?",
    ),
    "unknown-step-after-case": ("5:5 step has no property 'After'; did you mean 'after'?",),
    "unknown-step-key": ("6:5 step has no property 'colour'",),
    "unknown-top-key-case": (
        "2:1 'steps' is required",
        "4:1 scenario has no property 'Steps'; did you mean 'steps'?",
    ),
    "unknown-top-key": ("8:1 scenario has no property 'colour'",),
    "unknown-when-exists-extra": (
        "9:24 'when.transferTarget' must be a string or number or boolean",
    ),
    "value-about": ("6:12 'steps[0].about': \"everyone\" is not one of: call, operation",),
    "value-change-type": (
        "7:19 'steps[0].notify.changeType': \"changed\" is not one of: created, updated, deleted",
    ),
    "value-media-state": (
        "8:42 'steps[0].notify.resourceData.mediaState.audio': \"muted\" is not one of",
    ),
    "value-operation-case": ("3:12 'operation': \"Transfer\" is not one of",),
    "value-operation-status": (
        "9:30 'steps[0].notify.resourceData.status': \"done\" is not one of",
    ),
    "value-operation-typo": (
        "3:12 'operation': \"transfr\" is not one of",
        "3:12 did you mean 'transfer'?",
    ),
    "value-roster": ("6:13 'steps[0].roster': \"all\" is not one of: current, invitees",),
    "value-state-case": ('8:29 "Transferring" is not one of', "8:29 did you mean 'transferring'?"),
    "value-state-typo": ('8:29 "transfering" is not one of', "8:29 did you mean 'transferring'?"),
    "value-tone-name": (
        "6:12 'steps[0].tones': 'beep' is not a key (0-9, *, #, A-D) or a tone name",
    ),
    "value-tone": ("6:12 'steps[0].tones': 'x' is not a key (0-9, *, #, A-D) or a tone name",),
}
assert set(EXPECTED) == set(files), set(EXPECTED) ^ set(files)

for name, text in files.items():
    data = text.encode("utf-8") if isinstance(text, str) else text
    (OUT / f"{name}.yaml").write_bytes(data)
(OUT / "expected.json").write_text(json.dumps(EXPECTED, indent=1, sort_keys=True) + "\n")
print(f"{len(files)} files in {OUT}")
