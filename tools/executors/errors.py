"""Why an executor cannot be opened; a WorkerUnavailable, so the command line reports it as one clear line."""

from kevolve.eval_harness.worker_client import WorkerUnavailable


class ExecutorUnavailable(WorkerUnavailable):
    """A missing optional dependency (Ray, psycopg), or a cluster or database that cannot be reached."""
