"""Problems load from files, strings and folders, checked from their syntax tree alone."""

import pytest

from harness_helpers import FIXTURES
from kevolve.eval_harness import ProblemLoadError, load_problem, load_problems, problem_from_source
from kevolve.eval_harness.problems import SUITE_DIR

KERNELBENCH_STYLE = FIXTURES / "kernelbench_style"
BROKEN = FIXTURES / "broken"


def test_a_kernelbench_folder_loads_unchanged_in_numeric_order_skipping_helpers():
    problems = load_problems(KERNELBENCH_STYLE)
    assert [p.name for p in problems] == ["1_scale_rows", "10_row_max"]
    assert problems[0].configs == {}
    assert problems[0].primary_config(on_cpu=True) == "default", "without a small config the file's own sizes run"


def test_a_problem_loads_from_a_source_string():
    source = (KERNELBENCH_STYLE / "1_scale_rows.py").read_text()
    problem = problem_from_source(source, name="from_string")
    assert problem.path is None
    assert problem.sha256 == load_problem(KERNELBENCH_STYLE / "1_scale_rows.py").sha256


def test_configs_pick_cpu_and_gpu_shapes():
    problem = load_problem(SUITE_DIR / "elementwise_gelu_tanh.py")
    assert problem.category == "elementwise"
    assert problem.primary_config(on_cpu=True) == "small"
    assert problem.extra_configs(on_cpu=True) == ["small_odd"]
    assert problem.primary_config(on_cpu=False) == "default"
    assert problem.extra_configs(on_cpu=False) == ["odd"]
    assert problem.overrides("default") == {}


@pytest.mark.parametrize(
    ("file", "reason"),
    [
        ("no_model.py", "no `class Model`"),
        ("bad_syntax.py", "syntax error at line"),
        ("unknown_config_key.py", "overrides ['sise']"),
    ],
)
def test_defective_problems_are_refused_with_the_reason(file, reason):
    with pytest.raises(ProblemLoadError, match=None) as caught:
        load_problem(BROKEN / file)
    assert reason in str(caught.value)


def test_a_missing_path_is_a_clear_error(tmp_path):
    with pytest.raises(ProblemLoadError, match="no such problem file"):
        load_problem(tmp_path / "absent.py")
    with pytest.raises(ProblemLoadError, match="no problem files"):
        load_problems(tmp_path)


def test_the_suite_has_at_least_forty_problems_each_with_cpu_configs():
    problems = load_problems(SUITE_DIR)
    assert len(problems) >= 40
    for problem in problems:
        assert problem.category, f"{problem.name} has no KEVOLVE_CATEGORY"
        assert "small" in problem.configs, f"{problem.name} has no small config"
        assert problem.extra_configs(on_cpu=True), f"{problem.name} has no extra CPU shape"
        assert problem.extra_configs(on_cpu=False), f"{problem.name} has no extra GPU shape"


def test_a_reference_whose_inputs_raise_is_reported_as_the_problems_fault(cpu_evaluator):
    from kevolve.eval_harness import ErrorKind, EvalStatus

    result = cpu_evaluator.baselines(load_problem(BROKEN / "get_inputs_raises.py"))
    assert result.status is EvalStatus.ERROR
    assert result.error.kind is ErrorKind.PROBLEM_INVALID
    assert "the inputs cannot be built" in result.error.message
