"""CUDA C++ candidates: builds keyed by content hash, and a failed build classified with its first error."""

import os

import pytest

from harness_helpers import FAST_SETTINGS
from kevolve.eval_harness import Evaluator
from kevolve.eval_harness.extensions import first_error
from kevolve.eval_harness.problem import sha256_text
from kevolve.eval_harness.results import ErrorKind, Stage

# Real output of a failed load_inline build on this machine (g++ through ninja), shortened paths.
GCC_OUTPUT = """[1/2] c++ -MMD -MF main.o.d -DTORCH_EXTENSION_NAME=broken -fPIC -c /x/broken/main.cpp -o main.o
FAILED: main.o
/x/broken/main.cpp: In function 'at::Tensor twice(at::Tensor)':
/x/broken/main.cpp:2:52: error: expected ';' before '}' token
    2 | torch::Tensor twice(torch::Tensor x) { return x * 2 }
      |                                                    ^~
ninja: build stopped: subcommand failed.
"""
NVCC_OUTPUT = """[1/3] /usr/local/cuda/bin/nvcc -c /x/ext/cuda.cu -o cuda.cuda.o
FAILED: cuda.cuda.o
/x/ext/cuda.cu(14): error: identifier "blockIdxx" is undefined
      long i = (long)blockIdxx.x * blockDim.x + threadIdx.x;
                     ^
/x/ext/cuda.cu(20): error: expected a ";"
2 errors detected in the compilation of "/x/ext/cuda.cu".
"""

# load_inline raises RuntimeError from the CalledProcessError of its ninja run: the same chain here.
RAISES_A_BUILD_FAILURE = f'''
import subprocess
from torch import nn

try:
    raise subprocess.CalledProcessError(1, ["ninja", "-v"], output={NVCC_OUTPUT.encode()!r})
except subprocess.CalledProcessError as build:
    raise RuntimeError("Error building extension 'fused_ext'") from build


class ModelNew(nn.Module):
    def forward(self, x):
        return x
'''

REPORTS_ITS_BUILD_FOLDER = '''
import os
from torch import nn


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()
        raise RuntimeError("build folder " + os.environ["TORCH_EXTENSIONS_DIR"])
'''


def test_the_first_gcc_and_nvcc_errors_are_found_with_the_quoted_source_line():
    gcc = first_error(GCC_OUTPUT)
    assert (gcc.file, gcc.line, gcc.column) == ("main.cpp", 2, 52)
    assert gcc.message == "expected ';' before '}' token" and "return x * 2" in gcc.context
    nvcc = first_error(NVCC_OUTPUT)
    assert (nvcc.file, nvcc.line, nvcc.column) == ("cuda.cu", 14, None)
    assert nvcc.message == 'identifier "blockIdxx" is undefined' and "blockIdxx.x" in nvcc.context


def test_a_failed_build_is_its_own_error_kind_with_the_first_error_first(cpu_evaluator, gelu_problem):
    result = cpu_evaluator.evaluate(gelu_problem, RAISES_A_BUILD_FAILURE)
    assert result.error.kind is ErrorKind.EXTENSION_BUILD_ERROR and result.error.stage is Stage.LOAD_CANDIDATE
    assert result.error.compiler_diagnostic.line == 14
    assert result.error.message.splitlines()[0] == (
        'extension build failed: cuda.cu:14: identifier "blockIdxx" is undefined')


def test_each_candidate_builds_in_the_folder_of_its_content_hash(cpu_evaluator, gelu_problem):
    result = cpu_evaluator.evaluate(gelu_problem, REPORTS_ITS_BUILD_FOLDER)
    assert result.error.kind is ErrorKind.CONSTRUCTION_ERROR
    assert f"kevolve-{sha256_text(REPORTS_ITS_BUILD_FOLDER)[:16]}" in result.error.message


BROKEN_CPP = '''
from torch import nn
from torch.utils.cpp_extension import load_inline

_ext = load_inline(name="ext", cpp_sources="torch::Tensor twice(torch::Tensor x) { return x * 2 }",
                   functions=["twice"])


class ModelNew(nn.Module):
    def forward(self, x):
        return _ext.twice(x)
'''


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("KEVOLVE_TEST_EXTENSION_BUILDS") != "1",
                    reason="compiles a real torch extension (40 s on 2 cores): set KEVOLVE_TEST_EXTENSION_BUILDS=1")
def test_a_real_load_inline_build_failure_is_classified(tmp_path, gelu_problem, monkeypatch):
    monkeypatch.setenv("TORCH_EXTENSIONS_DIR", str(tmp_path / "builds"))  # the workers' root, passed through
    settings = FAST_SETTINGS.model_copy(update={"static_checks": False})
    with Evaluator("cpu", settings=settings, cache_dir=tmp_path / "cache") as evaluator:
        result = evaluator.evaluate(gelu_problem, BROKEN_CPP)
    assert result.error.kind is ErrorKind.EXTENSION_BUILD_ERROR
    diagnostic = result.error.compiler_diagnostic
    assert (diagnostic.file, diagnostic.line) == ("main.cpp", 2) and "expected" in diagnostic.message
    assert (tmp_path / "builds" / f"kevolve-{sha256_text(BROKEN_CPP)[:16]}" / "ext" / "main.cpp").is_file()
