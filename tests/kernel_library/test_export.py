"""The exported package: verified signatures go to the kernel, everything else to the reference, in eager,
torch.compile (fullgraph) and torch.export alike."""

import importlib
import json
import logging
import os
import subprocess
import sys

import pytest
import torch

from kevolve.tools.kernel_library.export import export_library
from kevolve.tools.kernel_library.records import KernelStatus, LibraryError, read_library, write_status
from library_helpers import export_and_import

REFERENCE = "reference"


@pytest.fixture(scope="module")
def shipped(approved_library, tmp_path_factory):
    package, namespace = export_and_import(approved_library, tmp_path_factory.mktemp("export"))
    return package, namespace


def _problem(shipped, name):
    package, _ = shipped
    return importlib.import_module(f"{package.__name__}.{name}")


def _paired(module, *args):
    """The exported module and the plain reference with the very same weights."""
    exported = module.Model(*args)
    reference = module.reference.Model(*args)
    reference.load_state_dict(exported.state_dict())
    return exported, reference


def _served(shipped, problem):
    package, _ = shipped
    return package.dispatch_counts().get(problem, {})


def test_manifest_lists_each_problem_with_its_kernel_and_verified_signatures(shipped):
    package, namespace = shipped
    manifest = json.loads((importlib.resources.files(package.__name__) / "manifest.json").read_text())
    ops = {p["problem"]: p for p in manifest["problems"]}
    assert ops["layernorm_affine"]["op"] == f"{namespace}::layernorm_affine"
    # the CPU trials ran the `small` and `small_odd` configs: one route each
    assert ops["layernorm_affine"]["routes"] == 2 and ops["elementwise_gelu_tanh"]["routes"] == 2
    routes = json.loads((importlib.resources.files(package.__name__) / "layernorm_affine" / "routes.json").read_text())
    assert sorted(r["inputs"][0]["shape"] for r in routes["routes"]) == [[37, 301], [64, 256]]
    assert all(r["state"] == [{"shape": r["inputs"][0]["shape"][1:], "dtype": "float32"}] * 2 for r in routes["routes"])


@torch.no_grad()
def test_a_verified_signature_runs_the_kernel_in_eager(shipped):
    layernorm = _problem(shipped, "layernorm_affine")
    exported, reference = _paired(layernorm, 301)
    before = _served(shipped, "layernorm_affine").get("cpu_interpreter_cpu_r04_1", 0)
    x = torch.randn(37, 301)
    torch.testing.assert_close(exported(x), reference(x))
    assert _served(shipped, "layernorm_affine")["cpu_interpreter_cpu_r04_1"] == before + 1


@torch.no_grad()
def test_unseen_shape_dtype_and_constructor_fall_back_counted_and_logged_once(shipped, caplog):
    package, _ = shipped
    gelu = _problem(shipped, "elementwise_gelu_tanh")
    layernorm = _problem(shipped, "layernorm_affine")
    model = gelu.Model()
    package.reset_counts()
    with caplog.at_level(logging.WARNING, logger=package.__name__):
        for x in (torch.randn(5, 7), torch.randn(5, 7), torch.randn(64, 256, dtype=torch.float64)):
            torch.testing.assert_close(model(x), torch.nn.functional.gelu(x, approximate="tanh"))
        # verified on LayerNorm(256) with 256 columns: LayerNorm(300) was never verified
        exported, reference = _paired(layernorm, 300)
        x = torch.randn(64, 300)
        torch.testing.assert_close(exported(x), reference(x))
    assert package.dispatch_counts() == {"elementwise_gelu_tanh": {REFERENCE: 3}, "layernorm_affine": {REFERENCE: 1}}
    assert sorted(package.fallback_signatures().values()) == [1, 1, 2]
    warnings = [r.getMessage() for r in caplog.records if "reference PyTorch code serves" in r.getMessage()]
    assert len(warnings) == 3, warnings  # once per signature, not once per call
    assert any("float64[64, 256]" in w for w in warnings)


@torch.no_grad()
def test_compiled_fullgraph_matches_the_reference_and_runs_the_kernel(shipped):
    layernorm = _problem(shipped, "layernorm_affine")
    exported, reference = _paired(layernorm, 256)
    compiled = torch.compile(exported, fullgraph=True)
    before = _served(shipped, "layernorm_affine").get("cpu_interpreter_cpu_r04_1", 0)
    x = torch.randn(64, 256)
    torch.testing.assert_close(compiled(x), reference(x))
    assert _served(shipped, "layernorm_affine")["cpu_interpreter_cpu_r04_1"] == before + 1
    # a shape the kernel was never verified on still compiles and falls back inside the operator
    y = torch.randn(3, 256)
    torch.testing.assert_close(compiled(y), reference(y))


@torch.no_grad()
def test_torch_export_keeps_the_operator_in_the_graph(shipped):
    _, namespace = shipped
    gelu = _problem(shipped, "elementwise_gelu_tanh")
    x = torch.randn(64, 256)
    program = torch.export.export(gelu.Model(), (x,))
    assert f"torch.ops.{namespace}.elementwise_gelu_tanh" in program.graph_module.code
    torch.testing.assert_close(program.module()(x), torch.nn.functional.gelu(x, approximate="tanh"))


def test_a_call_that_needs_gradients_runs_the_reference_and_trains(shipped):
    layernorm = _problem(shipped, "layernorm_affine")
    exported, _ = _paired(layernorm, 256)
    exported(torch.randn(64, 256)).sum().backward()
    assert exported.norm.weight.grad is not None


def test_the_package_imports_and_runs_without_kevolve(approved_library, tmp_path):
    export_library(approved_library, tmp_path, package="standalone")
    script = (
        "import sys, torch\n"
        "from standalone import layernorm_affine as ln\n"
        "import standalone\n"
        "m = ln.Model(256)\n"
        "with torch.no_grad(): m(torch.randn(64, 256))\n"
        "assert standalone.dispatch_counts() == {'layernorm_affine': {'cpu_interpreter_cpu_r04_1': 1}}\n"
        "import importlib.util; print(importlib.util.find_spec('kevolve'))\n"
    )
    # -S: site-packages is a plain path entry, its .pth hooks (kevolve's editable install) are not run,
    # so kevolve cannot be imported at all; torch and triton still can.
    site = [p for p in sys.path if p.endswith("site-packages")]
    env = {"PATH": os.environ["PATH"], "TRITON_INTERPRET": "1",
           "PYTHONPATH": os.pathsep.join([str(tmp_path), *site])}
    done = subprocess.run([sys.executable, "-S", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "None"


def test_without_the_interpreter_a_cpu_call_runs_the_reference_and_says_why_once(approved_library, tmp_path):
    """On a machine without a GPU, kernels verified on the CPU need Triton's interpreter; without it they would
    fail inside Triton ("0 active drivers")."""
    export_library(approved_library, tmp_path, package="no_interpreter")
    script = (
        "import torch\n"
        "from no_interpreter import layernorm_affine as ln\n"
        "import no_interpreter\n"
        "m = ln.Model(256)\n"
        "reference = ln.reference.Model(256)\n"
        "reference.load_state_dict(m.state_dict())\n"
        "x = torch.randn(64, 256)\n"
        "with torch.no_grad(): outputs = [m(x) for _ in range(2)]\n"
        "with torch.no_grad(): assert all(torch.equal(out, reference(x)) for out in outputs)\n"
        "print(no_interpreter.dispatch_counts())\n"
    )
    env = {key: value for key, value in os.environ.items() if key != "TRITON_INTERPRET"}
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), env.get("PYTHONPATH", "")])
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "{'layernorm_affine': {'reference': 2}}"
    assert done.stderr.count("TRITON_INTERPRET=1") == 1, done.stderr[-2000:]


def test_a_disabled_kernel_is_not_exported(library, tmp_path):
    [gelu] = [e for e in read_library(library) if e.record.problem == "elementwise_gelu_tanh"]
    write_status(gelu, KernelStatus(enabled=False, reason="output_mismatch", checked_at=gelu.record.approved_at,
                                    device="cpu", device_name=None, torch_version=None, triton_version=None,
                                    driver_version=None, timing_checked=False))
    manifest = export_library(library, tmp_path / "out")
    assert [p.problem for p in manifest.problems] == ["layernorm_affine"]
    assert any(s.node_id == "cpu-r02-0" and "disabled" in s.reason for s in manifest.skipped)


def test_export_replaces_its_own_output_but_not_a_foreign_folder(library, tmp_path):
    export_library(library, tmp_path)
    export_library(library, tmp_path)  # an earlier export is replaced
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(LibraryError, match="not an earlier export"):
        export_library(library, tmp_path, package="mine")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
