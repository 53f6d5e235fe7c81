"""Write ``mockgraph/scenarios/builtin.json``: the built-in scenario files (``scenarios/``)
read once, as the values ``mockgraph serve`` loads at start without PyYAML.

The YAML files are the authority; the index is derived from them, as the Graph schemas are
from the CSDL. ``tests/test_scenario_files.py`` fails when it is stale.

Usage: ``python tools/build_builtin_index.py`` (``make builtin-index``).
"""

from __future__ import annotations

import json
from pathlib import Path

from mockgraph.scenarios.loader import BUILTIN_INDEX, builtin_index, builtin_paths

OUT = Path(__file__).resolve().parents[1] / "mockgraph" / "scenarios" / BUILTIN_INDEX


def render() -> str:
    """The index's text: one scenario to a line, so that a diff shows which one changed."""
    entries = [json.dumps(entry, ensure_ascii=False) for entry in builtin_index(builtin_paths())]
    return "[\n" + ",\n".join(entries) + "\n]\n"


def main() -> None:
    OUT.write_text(render(), encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
