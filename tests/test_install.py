"""Installable from the source: ``python -m build`` makes a wheel and an sdist with no
warnings of the package's own, and the wheel, installed into a fresh virtual environment,
answers ``mockgraph --version`` and serves (the inspector's files and the built-in scenarios
are in it); so does an install from the repository's git URL, as the README shows."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tomllib
import urllib.request
import zipfile
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_the_wheel_builds_installs_and_serves(tmp_path: Path) -> None:
    # PYTHONDONTWRITEBYTECODE (set on some machines) makes setuptools warn that it skips
    # byte-compiling: a warning of the machine's, not the package's.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    dist = tmp_path / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(dist), str(ROOT)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    output = built.stdout + built.stderr
    assert built.returncode == 0, output
    assert "Deprecat" not in output and "!!" not in output, output  # setuptools' banners
    [wheel] = dist.glob("*.whl")
    [sdist] = dist.glob("*.tar.gz")
    names = zipfile.ZipFile(wheel).namelist()
    assert "mockgraph/http/ui/index.html" in names
    assert any(n.startswith("mockgraph/builtin_scenarios/transfer-success") for n in names)
    assert any(n.endswith("licenses/LICENSE") for n in names)
    with tarfile.open(sdist) as archive:
        assert any(n.endswith("/LICENSE") for n in archive.getnames())

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)]
    installed = subprocess.run(pip, capture_output=True, text=True, timeout=600, check=False)
    assert installed.returncode == 0, installed.stderr
    mockgraph = str(venv / "bin" / "mockgraph")
    version = subprocess.run([mockgraph, "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.strip() == "mockgraph 0.1.0"
    log = tmp_path / "serve.log"  # a file, not a pipe: a full pipe would stall the server
    with log.open("w") as errors:  # the child keeps its own copy of the descriptor
        server = subprocess.Popen(
            [mockgraph, "serve", "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            cwd=tmp_path,  # not the checkout: the installed package, not the source tree
        )
    try:
        assert server.stdout is not None
        ready = server.stdout.readline()
        assert ready.startswith("mockgraph listening on http://"), log.read_text()
        url = ready.split()[-1]
        with urllib.request.urlopen(f"{url}/_mock/ui/") as page:
            assert b"<title>" in page.read()
        with urllib.request.urlopen(f"{url}/_mock/scenarios") as listed:
            assert b"transfer-success" in listed.read()
    finally:
        server.terminate()
        server.wait(timeout=30)
        if server.stdout is not None:
            server.stdout.close()
    # The README's other install line: from the repository's git URL (here, this checkout's;
    # pip before 24 refuses a name before a file:// URL, which an https one does not need).
    from_git = [*pip[:-1], "--force-reinstall", "--no-deps", f"git+file://{ROOT}"]
    installed = subprocess.run(from_git, capture_output=True, text=True, timeout=600, check=False)
    assert installed.returncode == 0, installed.stderr
    # git installs what is committed, which a developer's working tree may be ahead of.
    helped = subprocess.run([mockgraph, "--help"], capture_output=True, text=True, check=True)
    assert "serve" in helped.stdout


def test_every_package_in_the_source_is_in_the_wheels_list() -> None:
    # setuptools ships only the packages pyproject.toml names; a new one left out fails at
    # import once installed (presence did, and only the minute-long build above caught it).
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    declared = set(project["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "mockgraph").rglob("__init__.py")
    }
    assert found <= declared, sorted(found - declared)
