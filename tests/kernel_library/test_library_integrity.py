"""What the library and its exports run is what was approved: sources are checked against their records when the
library is read and against routes.json before the exported package imports them, and generated code holds the
problem's name only as an escaped literal."""

import ast
import importlib
import json
import logging
import sys

import pytest
import torch

from kevolve.console import console
from kevolve.main import main
from kevolve.tools.kernel_library.export import export_library
from kevolve.tools.kernel_library.records import KernelStatus, LibraryError, read_library, write_status
from library_helpers import export_and_import

GELU = "elementwise_gelu_tanh"


def _literals(tree: ast.Module) -> dict[str, object]:
    return {node.targets[0].id: node.value.value for node in tree.body
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)}


def test_generated_code_holds_names_only_as_literals(library, tmp_path):
    export_library(library, tmp_path, package="named")
    package = tmp_path / "named"
    problem_init = ast.parse((package / GELU / "__init__.py").read_text())
    assert _literals(problem_init)["PROBLEM_NAME"] == GELU
    assert ast.get_docstring(problem_init).startswith("PROBLEM_NAME's reference module")  # not a spliced name
    assert _literals(ast.parse((package / GELU / "kernels" / "__init__.py").read_text()))["PROBLEM"] == GELU
    assert _literals(ast.parse((package / "__init__.py").read_text()))["EXPORTED_FROM"] == str(library.resolve())


def test_a_problem_source_changed_in_the_library_is_not_exported(library, tmp_path):
    [entry] = [e for e in read_library(library) if e.record.problem == GELU]
    entry.problem_path.write_text(entry.problem_path.read_text() + "\nimport os\n")
    with pytest.raises(LibraryError, match="does not hash to its record") as refused:
        export_library(library, tmp_path)
    assert entry.problem_path.name in str(refused.value)


@torch.no_grad()
def test_an_exported_kernel_changed_after_export_is_refused_and_the_reference_serves(library, tmp_path, caplog):
    package, _ = export_and_import(library, tmp_path)
    folder = tmp_path / package.__name__ / GELU
    [kernel] = (folder / "kernels").glob("cpu*.py")
    marker = tmp_path / "ran"
    kernel.write_text(kernel.read_text() + f"\nopen({str(marker)!r}, 'w')\n")
    gelu = importlib.import_module(f"{package.__name__}.{GELU}")
    route = json.loads((folder / "routes.json").read_text())["routes"][0]
    x = torch.randn(route["inputs"][0]["shape"])  # a verified signature: unchanged, the kernel would serve it
    with caplog.at_level(logging.ERROR, logger=package.__name__):
        torch.testing.assert_close(gelu.Model()(x), torch.nn.functional.gelu(x, approximate="tanh"))
    assert not marker.exists()
    assert package.dispatch_counts()[GELU] == {"reference": 1}
    assert f"{kernel} does not hash to routes.json's sha256" in caplog.text


def test_an_exported_reference_changed_after_export_refuses_the_import(library, tmp_path):
    export_library(library, tmp_path, package="changed_reference")
    reference = tmp_path / "changed_reference" / GELU / "reference.py"
    reference.write_text(reference.read_text() + "\nimport os\n")
    sys.path.insert(0, str(tmp_path))
    try:
        with pytest.raises(ImportError, match=r"reference\.py does not hash to routes\.json's sha256"):
            importlib.import_module(f"changed_reference.{GELU}")
    finally:
        sys.path.remove(str(tmp_path))


def test_a_status_reason_is_printed_as_data_not_markup(library, capsys, monkeypatch):
    monkeypatch.setattr(console, "width", 400)  # the table on one line a kernel, to read the reason back
    [entry] = [e for e in read_library(library) if e.record.problem == GELU]
    reason = "[/] [link=https://example.org]click[/link] [bold red]"
    write_status(entry, KernelStatus(enabled=False, reason=reason, checked_at=entry.record.approved_at, device="cpu",
                                     device_name=None, torch_version=None, triton_version=None, driver_version=None,
                                     timing_checked=False))
    assert main(["library", "--library", str(library), "list"]) == 0
    assert reason in capsys.readouterr().out
