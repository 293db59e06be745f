"""Where runs, approved kernels and campaigns are kept unless a command says otherwise: one place for the
defaults."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from kevolve.tools.kernel_library.records import LIBRARY_MARK, is_marked_library
from kevolve.tools.safe_names import UnsafeName

RUNS_VARIABLE = "KEVOLVE_RUNS_DIR"
LIBRARY_VARIABLE = "KEVOLVE_LIBRARY_DIR"
CAMPAIGNS_VARIABLE = "KEVOLVE_CAMPAIGNS_DIR"
RUNS_DEFAULT = Path("kevolve-runs")
LIBRARY_DEFAULT = Path("kevolve-library")
CAMPAIGNS_DEFAULT = Path("kevolve-campaigns")


def default_runs_dir(environ: Mapping[str, str] = os.environ) -> Path:
    return Path(environ.get(RUNS_VARIABLE) or RUNS_DEFAULT)


def default_library_dir(environ: Mapping[str, str] = os.environ) -> Path:
    return Path(environ.get(LIBRARY_VARIABLE) or LIBRARY_DEFAULT)


def default_campaigns_dir(environ: Mapping[str, str] = os.environ) -> Path:
    return Path(environ.get(CAMPAIGNS_VARIABLE) or CAMPAIGNS_DEFAULT)


def run_library(saved: str | None, explicit: Path | None) -> Path:
    """The library a run's approved kernels go to: the one named now, else the one the run started with,
    else the default (runs made before the library was kept).

    The one the run started with comes from the run's folder, which may have been copied from anywhere:
    it is used only where kevolve made a library (its LIBRARY_MARK, written when the run was created or a
    kernel approved into it); raises UnsafeName for any other folder, which must then be named now.
    """
    if explicit is not None:
        return explicit
    if not saved:
        return default_library_dir()
    if not is_marked_library(Path(saved)):
        raise UnsafeName(f"this run names {saved!r} as its library, a folder kevolve did not make (it holds no "
                         f"{LIBRARY_MARK}): a run folder cannot choose where approved kernels are written; name the "
                         "library with --library")
    return Path(saved)
