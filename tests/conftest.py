import os
import shutil

# Triton reads TRITON_INTERPRET when a kernel is decorated, and the machines that run this suite have
# no GPU: set it before any test module imports triton (directly or through a candidate module), so
# @triton.jit kernels run on the CPU through Triton's interpreter. setdefault keeps an explicit
# TRITON_INTERPRET=0 from a GPU machine's environment.
os.environ.setdefault("TRITON_INTERPRET", "1")

import pytest

from harness_helpers import WORKER_ONLY_SETTINGS
from kevolve.eval_harness import Evaluator, load_problem
from kevolve.eval_harness.problems import SUITE_DIR


def pytest_collection_modifyitems(items):
    """Under pytest-xdist, the Ray tests run in one worker: two local Ray clusters at once on CI's two cores would
    compete for its CPUs, which each cluster takes as its own."""
    for item in items:
        if item.path.name.startswith("test_ray_"):
            item.add_marker(pytest.mark.xdist_group("ray"))


@pytest.fixture(autouse=True)
def own_results_cache(tmp_path, monkeypatch):
    """Each test its own results cache (commands it starts inherit the variable): a verdict another
    test cached would turn an evaluation this test waits for into an instant answer."""
    monkeypatch.setenv("KEVOLVE_RESULTS_DB", str(tmp_path / "results.sqlite"))


@pytest.fixture
def restore_flags():
    """For tests that switch this process's PyTorch precision flags: the next test gets them back as they were."""
    import torch

    cudnn, matmul = torch.backends.cudnn.allow_tf32, torch.get_float32_matmul_precision()
    yield
    torch.backends.cudnn.allow_tf32 = cudnn
    torch.set_float32_matmul_precision(matmul)


@pytest.fixture(scope="session")
def gelu_problem():
    return load_problem(SUITE_DIR / "elementwise_gelu_tanh.py")


@pytest.fixture(scope="module")
def cpu_evaluator(tmp_path_factory):
    with Evaluator("cpu", settings=WORKER_ONLY_SETTINGS, cache_dir=tmp_path_factory.mktemp("baselines")) as evaluator:
        yield evaluator


@pytest.fixture
def browser():
    """Headless Chromium (tests/headless_chromium.py); imported here so only browser tests need selenium."""
    from headless_chromium import start_browser

    driver = start_browser()
    yield driver
    driver.quit()


@pytest.fixture(scope="session")
def baseline_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("baselines")


@pytest.fixture(scope="session")
def waiting_runs(tmp_path_factory, baseline_cache):
    """A runs folder whose one run waits for approval (tests/waiting_run.py): made once, copied by each test."""
    from waiting_run import optimize_until_approval

    return optimize_until_approval(tmp_path_factory.mktemp("template"), baseline_cache)


@pytest.fixture
def home(tmp_path, waiting_runs):
    """A fresh copy of the waiting run under tmp_path/runs (its id, the folder name, and checkpoints travel)."""
    shutil.copytree(waiting_runs, tmp_path / "runs")
    return tmp_path
