"""Re-validation: a kernel that became wrong is disabled (exit 1), one that passes again is re-enabled
(exit 1), and a library where nothing changed exits 0; on a CPU, timings are reported as skipped."""

import shutil
from dataclasses import replace

import pytest

from kevolve.eval_harness.problem import sha256_text
from kevolve.eval_harness.results import Environment, EvalResult, EvalStatus, SpeedComparison
from kevolve.main import main
from kevolve.tools.kernel_library.records import read_library
from kevolve.tools.kernel_library.revalidate import judge

ARGS = ["--trials", "1", "--timing-trials", "5", "--device", "cpu"]


def _revalidate(library, tmp_path, *extra):
    return main(["library", "--library", str(library), "revalidate", *ARGS, "--cache-dir", str(tmp_path / "cache"),
                 *extra])


def _gelu(library):
    [entry] = [e for e in read_library(library) if e.record.problem == "elementwise_gelu_tanh"]
    return entry


def _as_if_approved(entry, source: str) -> None:
    """`source` in the library with a record that hashes to it: a kernel that software changes since made wrong
    (a kernel edited without its record is refused; see the next test)."""
    entry.source_path.write_text(source)
    record = entry.record.model_copy(update={"source_sha256": sha256_text(source)})
    entry.record_path.write_text(record.model_dump_json(indent=2))


@pytest.mark.slow
def test_a_kernel_that_became_wrong_is_disabled_then_re_enabled_when_it_passes_again(library, tmp_path, capsys):
    shutil.rmtree(library / "layernorm_affine")  # one kernel is enough here, and each evaluation takes seconds
    source = _gelu(library).source_path
    good = source.read_text()
    assert _revalidate(library, tmp_path) == 0  # nothing changed
    assert "timings skipped" in capsys.readouterr().out
    assert _gelu(library).enabled and _gelu(library).status.timing_checked is False

    # as if an upgrade changed what the kernel computes: the GELU's 0.5 factor is gone
    _as_if_approved(_gelu(library), good.replace("0.5 * x", "1.0 * x"))
    assert _revalidate(library, tmp_path) == 1
    out = capsys.readouterr().out
    assert "disabled" in out and "output_mismatch" in out
    gelu = _gelu(library)
    assert not gelu.enabled and "output_mismatch" in gelu.status.reason
    assert gelu.record.verified_signatures  # the approval record itself is never rewritten

    _as_if_approved(gelu, good)
    assert _revalidate(library, tmp_path) == 1
    assert "re-enabled" in capsys.readouterr().out
    assert _gelu(library).enabled


def test_a_kernel_edited_after_approval_is_refused_naming_its_file(library, tmp_path, capsys):
    source = _gelu(library).source_path
    source.write_text(source.read_text() + "\nprint('added after approval')\n")
    for command in (["list"], ["revalidate", *ARGS], ["export", "--to", str(tmp_path / "out")]):
        assert main(["library", "--library", str(library), *command]) == 2
        err = " ".join(capsys.readouterr().err.split())  # the console wraps long lines
        assert source.name in err and "does not hash to its record" in err, err
    assert not (tmp_path / "out").exists()


def test_a_missing_library_is_bad_input(tmp_path, capsys):
    assert main(["library", "--library", str(tmp_path / "nowhere"), "revalidate", *ARGS]) == 2
    assert "no such library folder" in capsys.readouterr().err


def _timed_result(entry, speedup: float, verdict: str) -> EvalResult:
    environment = Environment(device="cuda:0", device_name="GPU", hardware_spec=None, torch_version="t",
                              triton_version="t", cuda_version="c", driver_version="d", python_version="p",
                              timing_meaningful=True)
    comparison = SpeedComparison(baseline="compiled", speedup=speedup, ci_low=speedup * 0.9, ci_high=speedup * 1.1,
                                 verdict=verdict)
    return EvalResult(problem=entry.record.problem, problem_sha256=entry.record.problem_sha256,
                      candidate_sha256=entry.record.source_sha256, dtype="float32", status=EvalStatus.CORRECT,
                      environment=environment, comparisons=[comparison])


def test_measurably_slower_than_a_baseline_it_used_to_beat_disables(approved_library):
    entry = _gelu(approved_library)
    was_faster = replace(entry, record=entry.record.model_copy(update={"speedup_compiled": 1.4}))
    trusted, reason = judge(was_faster, _timed_result(entry, 0.7, "slower"))
    assert not trusted and reason == "slower than compiled (0.70x)"
    # a person approved it knowing it lost to torch.compile: the same loss again changes nothing
    knowingly = replace(entry, record=entry.record.model_copy(update={"speedup_compiled": 0.8}))
    assert judge(knowingly, _timed_result(entry, 0.75, "slower"))[0]
    assert judge(was_faster, _timed_result(entry, 0.98, "indistinguishable"))[0]


@pytest.mark.slow
def test_a_declared_shape_is_verified_and_added_to_the_kernels_signatures(library, tmp_path):
    shutil.rmtree(library / "layernorm_affine")
    shapes = tmp_path / "shapes.yaml"
    shapes.write_text("elementwise_gelu_tanh:\n  - {rows: 5, cols: 777}\n")
    before = {tuple(s.inputs[0].shape) for s in _gelu(library).signatures}
    assert _revalidate(library, tmp_path, "--shapes", str(shapes)) == 0  # nothing disabled or re-enabled
    after = {tuple(s.inputs[0].shape) for s in _gelu(library).signatures}
    assert (5, 777) not in before and after == before | {(5, 777)}


def test_a_declared_shape_must_set_constants_the_problem_has(library, tmp_path, capsys):
    shutil.rmtree(library / "layernorm_affine")
    shapes = tmp_path / "shapes.yaml"
    shapes.write_text("elementwise_gelu_tanh:\n  - {rows: 5, width: 7}\n")
    assert _revalidate(library, tmp_path, "--shapes", str(shapes)) == 2  # before any kernel is evaluated
    assert "sets ['width'], which the module does not define" in " ".join(capsys.readouterr().err.split())


def test_an_unreadable_shapes_file_is_bad_input(library, tmp_path, capsys):
    shapes = tmp_path / "shapes.yaml"
    shapes.write_text("elementwise_gelu_tanh: [oops\n")
    assert _revalidate(library, tmp_path, "--shapes", str(shapes)) == 2
    assert "not valid YAML" in " ".join(capsys.readouterr().err.split())
