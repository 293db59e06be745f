"""A library kernel records the precision regime it was verified in, and is served only to callers in it."""

import importlib
import json
from datetime import UTC, datetime

import torch

from kevolve.eval_harness.precision import Precision, resolve
from kevolve.tools.kernel_library.records import KernelStatus, read_library, write_status
from kevolve.tools.kernel_library.routes import route_for
from library_helpers import export_and_import

EXACT = resolve(Precision.EXACT)
GELU = "elementwise_gelu_tanh"


def _record_file(library, problem):
    return next(path for path in library.glob(f"{problem}/*/*.json") if not path.name.endswith(".status.json"))


def _rewrite_record(library, problem, **fields):
    path = _record_file(library, problem)
    record = json.loads(path.read_text())
    record.update(fields)
    for key in [key for key, value in fields.items() if value is None]:
        del record[key]
    path.write_text(json.dumps(record))


def test_a_kernel_records_its_regime_and_the_switches_its_reference_depends_on(approved_library):
    records = {entry.record.problem: entry.record for entry in read_library(approved_library)}
    assert records[GELU].math == EXACT
    assert records[GELU].reference_switches == []  # GELU runs no convolution and no matrix product


def test_records_from_before_regimes_are_exact_float32_until_revalidation_measures_their_switches(library):
    _rewrite_record(library, GELU, math=None, reference_switches=None)
    entry = next(e for e in read_library(library) if e.record.problem == GELU)
    assert entry.record.math == EXACT and entry.record.reference_switches is None
    route = route_for(entry, entry.signatures[0])
    assert (route.cudnn_tf32, route.matmul_precision) == (False, "highest")  # every switch must match
    status = KernelStatus(enabled=True, reason="correct", checked_at=datetime.now(UTC), device="cpu", device_name=None,
                          torch_version=None, triton_version=None, driver_version=None, timing_checked=False,
                          reference_switches=[])
    route = route_for(write_status(entry, status), entry.signatures[0])
    assert (route.cudnn_tf32, route.matmul_precision) == (None, None)  # GELU depends on neither


@torch.no_grad()
def test_dispatch_refuses_a_caller_in_another_regime_counted_with_its_reason(library, tmp_path, restore_flags):
    # As if GELU's reference ran a convolution: the caller's cuDNN TF32 flag must then be the regime's (off).
    _rewrite_record(library, GELU, reference_switches=["cudnn_tf32"])
    package, _ = export_and_import(library, tmp_path / "export")
    gelu = importlib.import_module(f"{package.__name__}.{GELU}").Model()
    x = torch.randn(64, 256)
    package.reset_counts()
    torch.backends.cudnn.allow_tf32 = True
    torch.set_float32_matmul_precision("high")  # governs nothing this reference runs: no bearing on dispatch
    torch.testing.assert_close(gelu(x), torch.nn.functional.gelu(x, approximate="tanh"))
    assert package.dispatch_counts()[GELU] == {"reference": 1}
    [(described, count)] = package.fallback_signatures().items()
    assert count == 1 and "verified only in another precision regime: cuDNN TF32 off" in described
    torch.backends.cudnn.allow_tf32 = False
    gelu(x)
    counts = package.dispatch_counts()[GELU]
    assert counts.pop("reference") == 1 and list(counts.values()) == [1], "the caller in its regime gets the kernel"
