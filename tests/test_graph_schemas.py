"""The Graph JSON Schemas shipped in the package are the ones the CSDL generates today."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockgraph.schema.validation import API_VERSIONS, graph_schema
from tools.build_graph_schemas import build, render

SHARED = Path(__file__).parents[2] / "shared" / "graph-schemas"
PACKAGED = Path(__file__).parents[1] / "mockgraph" / "schema"


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared/graph-schemas is not beside the repo")
def test_packaged_schemas_match_the_csdl() -> None:
    for version, document in build(SHARED).items():
        packaged = (PACKAGED / f"graph-{version}.json").read_text(encoding="utf-8")
        assert packaged == render(document), f"run `make schemas`: graph-{version}.json is stale"


def test_beta_is_a_superset_of_v1() -> None:
    v1, beta = (graph_schema(version)["$defs"] for version in API_VERSIONS)
    assert set(v1) <= set(beta)
    call_v1, call_beta = v1["microsoft.graph.call"], beta["microsoft.graph.call"]
    assert set(call_v1["properties"]) < set(call_beta["properties"])
    assert "terminationReason" in call_beta["properties"]
    assert "ringing" in call_beta["properties"]["state"]["enum"]
    assert "ringing" not in call_v1["properties"]["state"]["enum"]
