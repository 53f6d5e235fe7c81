"""Fuzz the served surface: ``make fuzz``. Schemathesis reads ``GET /_mock/openapi.json`` from a
fresh ``mockgraph serve`` and sends requests generated from it to every operation, checking
that none answers 5xx and that every answer (errors included, in Graph's shape) is what the
description says. Prints one summary line; exit 1 if anything failed.

Environment: FUZZ_EXAMPLES (examples per operation, default 100: about 11,000 requests).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import sys
from pathlib import Path

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "100"))
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)


# The other forms of each operation (/app/calls, namespace-qualified actions) reach the same
# handler as the documented one; the suite's short run leaves them to tests/test_operations.py.
ALIASES = ("--exclude-deprecated", "--exclude-path-regex", r"microsoft\.graph\.")


async def fuzz(examples: int = EXAMPLES, *, aliases: bool = True) -> tuple[int, str]:
    """Run schemathesis against a fresh server; (its exit code, the summary line). Without
    ``aliases``, only the documented form of each operation."""
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "mockgraph", "serve", "--port", "0", "--time-scale", "0",
        "--callback-url", "http://127.0.0.1:9/fuzz",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    assert server.stdout is not None
    ready = (await asyncio.wait_for(server.stdout.readline(), 30)).decode()
    match = re.search(r"http://[\d.]+:\d+", ready)
    assert match, ready
    st = shutil.which("st", path=str(Path(sys.executable).parent)) or "st"
    try:
        runner = await asyncio.create_subprocess_exec(
            st, "run", f"{match.group(0)}/_mock/openapi.json",
            "--checks", ",".join(CHECKS), "--max-examples", str(examples),
            "--phases", "examples,fuzzing", "--header", "Authorization: Bearer fuzz",
            "--no-color", "--suppress-health-check", "all", *(() if aliases else ALIASES),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        out, _ = await runner.communicate()
    finally:
        server.terminate()
        await server.wait()
    text = out.decode(errors="replace")
    cases = re.search(r"(\d+) generated, (\d+) passed(?:, (\d+) failed)?", text)
    summary = (
        f"fuzz: {cases.group(1)} requests over {_operations(text)} "
        f"operations, {cases.group(2)} passed, {cases.group(3) or 0} failed"
        if cases
        else "fuzz: no summary from schemathesis:\n" + text[-3000:]
    )
    assert runner.returncode is not None
    return runner.returncode, summary if runner.returncode == 0 else summary + "\n" + text[-6000:]


def _operations(text: str) -> str:
    tested = re.search(r"Tested: (\d+)", text)
    return tested.group(1) if tested else "?"


def main() -> int:
    code, summary = asyncio.run(fuzz())
    print(summary)
    return 0 if code == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
