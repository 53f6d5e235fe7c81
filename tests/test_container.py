"""The container image (``Containerfile``): built and run where a container engine works,
with a health request; skipped, with the reason, where none does.

In this sandbox docker has no daemon and ``podman run`` fails on its rlimits, but buildah
builds and runs with ``--isolation chroot`` (``make test`` installs it), and as no registry can
be reached, the base image is made from Debian's packages with mmdebstrap: python3 and its venv
module, and the certificate authorities this machine trusts, so that pip reaches PyPI from
inside the build as it does outside."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
TAG = "localhost/mockgraph-test:latest"
DEFAULT_BASE = "docker.io/library/python:3.12-slim"
LOCAL_BASE = "localhost/mockgraph-base:bookworm"
HOST_CAS = Path("/etc/ssl/certs/ca-certificates.crt")
# vfs works wherever buildah does (overlay needs a kernel and privileges a sandbox may lack).
BUILDAH_ENV = {**os.environ, "STORAGE_DRIVER": os.environ.get("STORAGE_DRIVER", "vfs")}


def working_engine() -> str | None:
    """A daemon-style engine (podman, docker) that can build and run here, if any."""
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


def wait_for_health(port: int) -> None:
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_mock/health") as answer:
                assert answer.status == 200
                return
        except OSError:
            time.sleep(0.1)  # the container's own start, outside any clock of ours
    pytest.fail("the container never answered /_mock/health")


def test_the_image_builds_runs_and_answers_its_health(tmp_path: Path) -> None:
    engine = working_engine()
    if engine is not None:
        with_engine(engine)
    elif (buildah_binary := shutil.which("buildah")) is not None:
        with_buildah(buildah_binary, tmp_path)
    else:
        pytest.skip("no container engine works here (no podman or docker that runs, no buildah)")


def with_engine(engine: str) -> None:
    build = [engine, "build", "-t", TAG, "-f", str(ROOT / "Containerfile"), str(ROOT)]
    subprocess.run(build, check=True, timeout=900)
    run = [engine, "run", "-d", "--rm", "-p", "127.0.0.1::8080", TAG]
    container = subprocess.run(run, capture_output=True, text=True, check=True).stdout.strip()
    try:
        port = (
            subprocess.run(
                [engine, "port", container, "8080"], capture_output=True, text=True, check=True
            )
            .stdout.strip()
            .rsplit(":", 1)[-1]
        )
        wait_for_health(int(port))
        logs = subprocess.run([engine, "logs", container], capture_output=True, text=True)
        assert "mockgraph listening on http://0.0.0.0:8080" in logs.stdout
    finally:
        subprocess.run([engine, "rm", "-f", container], capture_output=True, check=False)


def buildah(binary: str, *args: str, timeout: float = 900) -> str:
    done = subprocess.run(
        [binary, *args], capture_output=True, text=True, env=BUILDAH_ENV, timeout=timeout
    )
    assert done.returncode == 0, f"buildah {' '.join(args)}:\n{done.stderr}"
    return done.stdout.strip()


def base_image(binary: str, tmp_path: Path) -> str:
    """The Containerfile's own base if it can be pulled; else one made from Debian's
    packages (kept in buildah's store, so later runs reuse it)."""
    pulled = subprocess.run(
        [binary, "pull", "-q", DEFAULT_BASE],
        capture_output=True,
        env=BUILDAH_ENV,
        timeout=300,
        check=False,
    )
    if pulled.returncode == 0:
        return DEFAULT_BASE
    known = subprocess.run(
        [binary, "inspect", "--type", "image", LOCAL_BASE],
        capture_output=True,
        env=BUILDAH_ENV,
        check=False,
    )
    if known.returncode == 0:
        return LOCAL_BASE
    mmdebstrap = shutil.which("mmdebstrap")
    if mmdebstrap is None:
        pytest.skip(f"{DEFAULT_BASE} cannot be pulled here, and mmdebstrap is absent")
    tarball = tmp_path / "base.tar"
    subprocess.run(
        [
            mmdebstrap,
            "--quiet",
            "--variant=minbase",
            "--include=python3,python3-venv,ca-certificates",
            "bookworm",
            str(tarball),
        ],
        check=True,
        timeout=900,
    )
    container = buildah(binary, "from", "scratch")
    try:
        buildah(binary, "add", "-q", container, str(tarball), "/")
        if HOST_CAS.is_file():
            buildah(binary, "copy", "-q", container, str(HOST_CAS), str(HOST_CAS))
        buildah(binary, "config", "--env", f"PIP_CERT={HOST_CAS}", container)
        buildah(binary, "commit", "-q", container, LOCAL_BASE)
    finally:
        buildah(binary, "rm", container)
    return LOCAL_BASE


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def with_buildah(binary: str, tmp_path: Path) -> None:
    base = base_image(binary, tmp_path)
    buildah(
        binary,
        "bud",
        "-q",
        "--format",
        "docker",  # keeps the HEALTHCHECK, which the OCI format has no place for
        "--isolation",
        "chroot",
        "--build-arg",
        f"BASE={base}",
        "-t",
        TAG,
        "-f",
        str(ROOT / "Containerfile"),
        str(ROOT),
    )
    container = buildah(binary, "from", TAG)
    # Chroot isolation shares the host's network: the image's own port may be taken, so the
    # run is given a free one through the variable every flag has.
    port = free_port()
    server = subprocess.Popen(
        [
            binary,
            "run",
            "--isolation",
            "chroot",
            "--env",
            f"MOCKGRAPH_PORT={port}",
            container,
            "--",
            "mockgraph",
            "serve",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=BUILDAH_ENV,
    )
    try:
        probe = "{{.Docker.Config.Healthcheck.Test}}"
        health = buildah(binary, "inspect", "--type", "image", "--format", probe, TAG)
        assert "/_mock/health" in health, health
        wait_for_health(port)
        assert server.stdout is not None
        assert server.stdout.readline().strip() == f"mockgraph listening on http://0.0.0.0:{port}"
    finally:
        server.terminate()
        try:
            server.communicate(timeout=30)  # closes its pipes too
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()
        buildah(binary, "rm", container)
        buildah(binary, "rmi", TAG)
