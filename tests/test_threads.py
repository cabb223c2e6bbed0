"""MOTIONGPT_LITE_THREADS: the one variable that sizes torch's thread pool on a shared machine."""
import os
import subprocess
import sys

import pytest

from motiongpt_lite.threads import THREADS_VARIABLE, configure_threads


def _threads_in_child(code: str, value: str) -> str:
    env = {**os.environ, THREADS_VARIABLE: value}
    env.pop("OMP_NUM_THREADS", None)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.parametrize("order", ["package first", "torch first"])
def test_variable_pins_torch_threads_whichever_is_imported_first(order):
    imports = "import motiongpt_lite, torch" if order == "package first" else "import torch, motiongpt_lite"
    assert _threads_in_child(f"{imports}; print(torch.get_num_threads())", "1") == "1"


def test_unset_variable_leaves_torch_default(monkeypatch):
    monkeypatch.delenv(THREADS_VARIABLE, raising=False)
    assert configure_threads() is None


@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5"])
def test_bad_value_is_named(monkeypatch, value):
    monkeypatch.setenv(THREADS_VARIABLE, value)
    with pytest.raises(ValueError, match=f"{THREADS_VARIABLE}='{value}' is not a thread count"):
        configure_threads()
