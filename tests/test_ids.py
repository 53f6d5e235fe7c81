"""Ids: the GUIDs mockgraph hands out have Graph's shape (version 4, RFC 4122 variant), and
no two are the same, within a process or across processes."""

from __future__ import annotations

import subprocess
import sys
import uuid

from mockgraph.ids import new_id


def test_ids_are_version_4_guids_and_do_not_repeat() -> None:
    ids = [new_id() for _ in range(20_000)]
    assert len(set(ids)) == len(ids)
    for text in ids:
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)


def test_another_process_makes_other_ids() -> None:
    code = "from mockgraph.ids import new_id; print(' '.join(new_id() for _ in range(100)))"
    runs = [
        set(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout.split()
        )
        for _ in range(2)
    ]
    assert len(runs[0]) == len(runs[1]) == 100
    assert not runs[0] & runs[1]
