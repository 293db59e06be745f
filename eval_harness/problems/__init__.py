"""kevolve's own problem suite, in KernelBench's module format plus two optional extensions.

Each file is a standalone module with ``class Model(nn.Module)``, ``get_inputs()`` and
``get_init_inputs()``; sizes live in module-level constants that those functions read, so a
KernelBench file loads unchanged. kevolve adds, optionally:

``KEVOLVE_CONFIGS: dict[str, dict[str, int | float]]``
    Named overrides of the module's size constants, applied after the module runs. Configs whose
    name starts with ``small`` are CPU-sized (the whole problem runs in well under a second through
    eager PyTorch on one core): on a CPU the harness evaluates ``small`` as the primary
    configuration and the other ``small*`` ones as extra shapes; on a GPU it evaluates the module's
    own sizes and every config not starting with ``small`` as extra shapes, so a candidate
    specialised to one shape fails.

``KEVOLVE_CATEGORY: str``
    The operator family (``elementwise``, ``reduction``, ``matmul``, ...), for reports and planners.

Both are plain literals: the harness reads them from the syntax tree without running the file.
"""

from pathlib import Path

SUITE_DIR = Path(__file__).resolve().parent
