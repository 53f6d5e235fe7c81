"""Fuzz the served surface: ``make fuzz``. Schemathesis reads ``GET /_mock/openapi.json`` from a
fresh ``mockgraph serve`` and sends requests generated from it to every operation, checking
that none answers 5xx and that every answer (errors included, in Graph's shape) is what the
description says. Prints one summary line; exit 1 if anything failed.

Environment: FUZZ_EXAMPLES (examples per operation, default 100: about 11,000 requests);
FUZZ_SEED (the seed a failing run printed, to send the same requests again).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import IO

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "100"))
SEED = os.environ.get("FUZZ_SEED")
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)


# The other forms of each operation (/app/calls, namespace-qualified actions) reach the same
# handler as the documented one; the suite's short run leaves them to tests/test_operations.py.
ALIASES = ("--exclude-deprecated", "--exclude-path-regex", r"microsoft\.graph\.")


# A fault the fuzz sets (a generated body for POST /_mock/faults) answers every later Graph
# request with the status it names: 429s and 5xx of the fuzzer's own asking. So that operation
# gets a pass of its own, after the others, when no other request is left for it to fault.
FAULTS = "POST /_mock/faults"
PASSES = (("--exclude-name", FAULTS), ("--include-name", FAULTS))


async def fuzz(examples: int = EXAMPLES, *, aliases: bool = True) -> tuple[int, str]:
    """Run schemathesis against a fresh server; (its exit code, the summary line, followed on
    failure by schemathesis's failures and the server's tracebacks). Without ``aliases``, only
    the documented form of each operation."""
    with tempfile.TemporaryFile() as log:
        runs = await _run(examples, aliases, log)
        log.seek(0)
        server_log = log.read().decode(errors="replace")
    code = max(code for code, _ in runs)
    texts = [text for _, text in runs]
    generated, failed = (sum(_count(text, word) for text in texts) for word in COUNTS)
    operations = sum(_count(text, "Tested:") for text in texts)
    summary = (
        f"fuzz: {generated} requests over {operations} operations, "
        f"{generated - failed} passed, {failed} failed"
    )
    if code == 0:
        return code, summary
    # A short run's failure may not come again with its seed (the server's state depends on
    # timing), so what it found is kept here whole: the requests and the server's tracebacks.
    failures = [_section(text, "FAILURES") or text[-6000:] for code, text in runs if code]
    return code, "\n".join((summary, *failures, _tracebacks(server_log)))


async def _run(examples: int, aliases: bool, log: IO[bytes]) -> list[tuple[int, str]]:
    """Each pass's exit code and output, against one server."""
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "mockgraph", "serve", "--port", "0", "--time-scale", "0",
        "--callback-url", "http://127.0.0.1:9/fuzz",
        stdout=asyncio.subprocess.PIPE, stderr=log,
    )  # fmt: skip
    assert server.stdout is not None
    ready = (await asyncio.wait_for(server.stdout.readline(), 30)).decode()
    match = re.search(r"http://[\d.]+:\d+", ready)
    assert match, ready
    st = shutil.which("st", path=str(Path(sys.executable).parent)) or "st"
    runs = []
    try:
        for selection in PASSES:
            runner = await asyncio.create_subprocess_exec(
                st, "run", f"{match.group(0)}/_mock/openapi.json", *selection,
                "--checks", ",".join(CHECKS), "--max-examples", str(examples),
                "--phases", "examples,fuzzing", "--header", "Authorization: Bearer fuzz",
                "--no-color", "--suppress-health-check", "all", *(() if aliases else ALIASES),
                *(("--seed", SEED) if SEED else ()),
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
            out, _ = await runner.communicate()
            assert runner.returncode is not None
            runs.append((runner.returncode, out.decode(errors="replace")))
    finally:
        server.terminate()
        await server.wait()
    return runs


def _section(text: str, title: str) -> str:
    """Schemathesis's ``=== title ===`` section, up to the next one."""
    match = re.search(rf"^=+ {title} =+$(.*?)(?=^=+ [A-Z ]+ =+$|\Z)", text, re.M | re.S)
    return match.group(0) if match else ""


def _tracebacks(server_log: str) -> str:
    """What the server logged as its own failures (a 500's cause), not the parser's refusals
    of malformed requests that schemathesis sends on purpose."""
    entries = re.split(r"^(?=\d{4}-\d\d-\d\d )", server_log, flags=re.M)
    return "".join(entry for entry in entries if "unexpected error" in entry)


COUNTS = ("generated", "found")  # "found": the requests that found a failure


def _count(text: str, word: str) -> int:
    """The number schemathesis's summary gives for ``word``: "Tested: 117", or in its "Test
    cases:" paragraph "217 generated, 3 found 1 unique failure"; 0 where none."""
    if word.endswith(":"):
        found = re.search(rf"{word} (\d+)", text)
    else:
        cases = text[text.rfind("Test cases:") :].split("\n\n", 1)[0]
        found = re.search(rf"(\d+) {word}\b", cases)
    return int(found.group(1)) if found else 0


def main() -> int:
    code, summary = asyncio.run(fuzz())
    print(summary)
    return 0 if code == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
