"""The container image (``Containerfile``): built and run where a container engine works,
with a health request; skipped, with the reason, where none does (this sandbox has the docker
client but no daemon, and no registry image can be pulled)."""

from __future__ import annotations

import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


def working_engine() -> str | None:
    """A container engine that can build and run here, if any."""
    for engine in ("podman", "docker"):
        path = shutil.which(engine)
        if path is None:
            continue
        probe = subprocess.run(
            [path, "info"], capture_output=True, text=True, timeout=30, check=False
        )
        if probe.returncode == 0:
            return path
    return None


def test_the_containerfile_says_what_a_ci_service_needs() -> None:
    """Checked without an engine: the facts the README's service recipes rely on."""
    text = (ROOT / "Containerfile").read_text(encoding="utf-8")
    assert "MOCKGRAPH_HOST=0.0.0.0" in text and "EXPOSE 8080" in text
    assert "HEALTHCHECK" in text and "/_mock/health" in text
    assert 'ENTRYPOINT ["mockgraph", "serve"]' in text
    for copied in ("pyproject.toml", "mockgraph", "scenarios", "LICENSE"):
        assert f"COPY {copied}" in text or f" {copied} " in text


def test_the_image_builds_runs_and_answers_its_health() -> None:
    engine = working_engine()
    if engine is None:
        pytest.skip("no container engine works here (docker has no daemon; podman is absent)")
    tag = "mockgraph-test:latest"
    build = [engine, "build", "-t", tag, "-f", str(ROOT / "Containerfile"), str(ROOT)]
    subprocess.run(build, check=True, timeout=900)
    run = [engine, "run", "-d", "--rm", "-p", "127.0.0.1::8080", tag]
    container = subprocess.run(run, capture_output=True, text=True, check=True).stdout.strip()
    try:
        port = (
            subprocess.run(
                [engine, "port", container, "8080"], capture_output=True, text=True, check=True
            )
            .stdout.strip()
            .rsplit(":", 1)[-1]
        )
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_mock/health") as answer:
                    assert answer.status == 200
                    break
            except OSError:
                time.sleep(0.1)  # the container's own start, outside any clock of ours
        else:
            pytest.fail("the container never answered /_mock/health")
        logs = subprocess.run([engine, "logs", container], capture_output=True, text=True)
        assert "mockgraph listening on http://0.0.0.0:8080" in logs.stdout
    finally:
        subprocess.run([engine, "rm", "-f", container], capture_output=True, check=False)
