"""What an approval writes into the library, reading records written before signatures were kept,
and `kevolve library list` / `export` on the command line."""

import json

from kevolve.console import console
from kevolve.eval_harness.problem import load_problem, sha256_text
from kevolve.main import main
from kevolve.tools.kernel_library.export import export_library
from kevolve.tools.kernel_library.records import read_library
from library_helpers import LAYERNORM_PROBLEM


def test_an_approved_kernel_records_the_signatures_it_passed_on_and_keeps_its_problem(approved_library):
    [gelu, layernorm] = read_library(approved_library)
    assert [s.inputs[0].shape for s in gelu.record.verified_signatures] == [[64, 256], [37, 301]]
    assert all(s.init == [] and s.state == [] and s.returns_tensor for s in gelu.record.verified_signatures)
    [small, small_odd] = layernorm.record.verified_signatures
    assert [a.value for a in small.init] == [256] and [a.value for a in small_odd.init] == [301]
    assert [(a.shape, a.dtype) for a in small_odd.state] == [([301], "float32"), ([301], "float32")]
    kept = layernorm.problem_path.read_text()
    assert kept == load_problem(LAYERNORM_PROBLEM).source
    assert sha256_text(kept) == layernorm.record.problem_sha256 and layernorm.enabled


def test_a_record_from_before_signatures_were_kept_still_reads_and_is_skipped_by_export(library, tmp_path):
    [gelu, _] = read_library(library)
    old = json.loads(gelu.record_path.read_text())
    del old["verified_signatures"], old["problem_file"]
    gelu.record_path.write_text(json.dumps(old))
    [gelu, _] = read_library(library)
    assert gelu.record.verified_signatures == [] and gelu.problem_path is None
    manifest = export_library(library, tmp_path)
    assert [p.problem for p in manifest.problems] == ["layernorm_affine"]
    assert any(s.node_id == "cpu-r02-0" and "problem source" in s.reason for s in manifest.skipped)


def test_list_and_export_on_the_command_line(library, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(console, "width", 200)  # the table's cells, unwrapped
    assert main(["library", "--library", str(library), "list"]) == 0
    listed = capsys.readouterr().out
    assert "elementwise_gelu_tanh" in listed and "layernorm_affine" in listed and "enabled" in listed
    assert main(["library", "--library", str(library), "export", "--to", str(tmp_path / "out"),
                 "--package", "cli_kernels"]) == 0
    assert "kevolve_lib::layernorm_affine" in capsys.readouterr().out
    assert (tmp_path / "out" / "cli_kernels" / "layernorm_affine" / "kernels").is_dir()
    assert main(["library", "--library", str(library), "export", "--to", str(tmp_path / "out"),
                 "--package", "not-an-identifier"]) == 2
    assert main(["library", "--library", str(tmp_path / "missing"), "list"]) == 2
