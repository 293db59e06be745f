import pytest

from postgres_server import postgres_server, postgres_url  # noqa: F401  (fixtures for this folder)


@pytest.fixture(scope="session")
def local_ray():
    """A Ray instance on this machine's CPUs (2 of them, as in CI), shared by the Ray tests."""
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'kevolve[ray]')")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield ray
    finally:
        ray.shutdown()
