"""The reference is traced as a candidate is run: its own session, no secrets in its environment, a hard deadline."""

import time

import pytest

from kevolve.tools.offline.tracing import TraceFailed, trace_reference

_REFERENCE = '''
import os
import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        {init}

    def forward(self, x):
        return x * 2.0


def get_inputs():
    return [torch.randn(4, 8)]


def get_init_inputs():
    return []
'''


def test_the_tracer_sees_no_api_key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    monkeypatch.setenv("KEVOLVE_LLM_API_KEY", "sk-secret")
    leak = 'assert not any("API_KEY" in name for name in os.environ), "the tracer saw an API key"'
    program = trace_reference(_REFERENCE.format(init=leak))
    assert program.nodes  # traced: the assertion in the reference held


def test_a_reference_that_hangs_is_killed_with_what_it_started(tmp_path):
    marker = tmp_path / "child-alive"
    # A child in the tracer's session that would outlive a plain kill of the tracer, then a hang.
    child = f"import time, pathlib; time.sleep(3); pathlib.Path({str(marker)!r}).touch()"
    hang = f"import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', {child!r}]); time.sleep(60)"
    with pytest.raises(TraceFailed, match="longer than"):
        trace_reference(_REFERENCE.format(init=hang), timeout_s=1.5)
    time.sleep(3.5)
    assert not marker.exists(), "a process the reference started outlived the trace's deadline"
