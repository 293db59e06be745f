"""Re-validation: a kernel that became wrong is disabled (exit 1), one that passes again is re-enabled
(exit 1), and a library where nothing changed exits 0; on a CPU, timings are reported as skipped."""

import shutil

import pytest

from kevolve.main import main
from kevolve.tools.kernel_library.records import read_library

ARGS = ["--trials", "1", "--timing-trials", "5", "--device", "cpu"]


def _revalidate(library, tmp_path):
    return main(["library", "--library", str(library), "revalidate", *ARGS, "--cache-dir", str(tmp_path / "cache")])


def _gelu(library):
    [entry] = [e for e in read_library(library) if e.record.problem == "elementwise_gelu_tanh"]
    return entry


@pytest.mark.slow
def test_a_kernel_that_became_wrong_is_disabled_then_re_enabled_when_it_passes_again(library, tmp_path, capsys):
    shutil.rmtree(library / "layernorm_affine")  # one kernel is enough here, and each evaluation takes seconds
    source = _gelu(library).source_path
    good = source.read_text()
    assert _revalidate(library, tmp_path) == 0  # nothing changed
    assert "timings skipped" in capsys.readouterr().out
    assert _gelu(library).enabled and _gelu(library).status.timing_checked is False

    # as if an upgrade changed what the kernel computes: the GELU's 0.5 factor is gone
    source.write_text(good.replace("0.5 * x", "1.0 * x"))
    assert _revalidate(library, tmp_path) == 1
    out = capsys.readouterr().out
    assert "disabled" in out and "output_mismatch" in out
    gelu = _gelu(library)
    assert not gelu.enabled and "output_mismatch" in gelu.status.reason
    assert gelu.record.verified_signatures  # the approval record itself is never rewritten

    source.write_text(good)
    assert _revalidate(library, tmp_path) == 1
    assert "re-enabled" in capsys.readouterr().out
    assert _gelu(library).enabled


def test_a_missing_library_is_bad_input(tmp_path, capsys):
    assert main(["library", "--library", str(tmp_path / "nowhere"), "revalidate", *ARGS]) == 2
    assert "no such library folder" in capsys.readouterr().err
