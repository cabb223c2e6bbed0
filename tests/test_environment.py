"""environment.yml (notebook 00's setup): minimal, installs the package through pip, agrees with pyproject.toml."""
from __future__ import annotations

import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import Version

REPO = Path(__file__).resolve().parents[1]
ENV_FILE = REPO / "environment.yml"
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())

# Substrings pip prints when it cannot reach the package index at all.
NETWORK_ERRORS = (
    "NewConnectionError",
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Network is unreachable",
    "ConnectTimeoutError",
    "ReadTimeoutError",
    "ProxyError",
    "Could not fetch URL",
)


def conda_and_pip_entries() -> tuple[list[str], list[str]]:
    """The conda specs (strings) and the entries of the ``pip:`` section of environment.yml."""
    env = yaml.safe_load(ENV_FILE.read_text())
    conda = [dep for dep in env["dependencies"] if isinstance(dep, str)]
    pip = [entry for dep in env["dependencies"] if isinstance(dep, dict) for entry in dep["pip"]]
    return conda, pip


def test_environment_is_minimal():
    """Conda brings only Python and pip; every other dependency lives once, in pyproject.toml."""
    env = yaml.safe_load(ENV_FILE.read_text())
    assert env["name"] == "motiongpt-lite"
    assert env["channels"] == ["conda-forge"]
    conda, pip = conda_and_pip_entries()
    names = sorted(re.split(r"[=<>! ]", spec, maxsplit=1)[0] for spec in conda)
    assert names == ["pip", "python"]
    assert len(pip) == 1


def test_python_version_matches_pyproject():
    conda, _ = conda_and_pip_entries()
    (python_spec,) = [spec for spec in conda if spec.startswith("python")]
    version = Version(python_spec.split("=", 1)[1])
    assert version in SpecifierSet(PYPROJECT["project"]["requires-python"])


def test_pip_section_installs_this_package_editable_with_dev_extras():
    _, pip = conda_and_pip_entries()
    flag, target = shlex.split(pip[0])
    assert flag == "-e"
    path, extras = target.split("[", 1)
    # conda runs pip in the folder of the environment file, so the path is relative to it.
    assert (ENV_FILE.parent / path).resolve() == REPO
    assert "dev" in extras.rstrip("]").split(",")
    assert "dev" in PYPROJECT["project"]["optional-dependencies"]


def test_pip_section_resolves():
    """pip can resolve exactly what conda would ask it to install (needs PyPI)."""
    _, pip = conda_and_pip_entries()
    args = [arg for entry in pip for arg in shlex.split(entry)]
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--disable-pip-version-check", "--no-input", *args],
        cwd=ENV_FILE.parent, capture_output=True, text=True, timeout=600,
    )
    output = result.stdout + result.stderr
    if result.returncode != 0 and any(marker in output for marker in NETWORK_ERRORS):
        pytest.skip("pip could not reach the package index (network error); the dry run needs PyPI")
    assert result.returncode == 0, output[-3000:]
    assert "motiongpt_lite" in result.stdout
