import shutil

import pytest

from library_helpers import build_library


@pytest.fixture(scope="session")
def approved_library(tmp_path_factory):
    """Built once per session (two harness evaluations); tests that change it take a copy."""
    library = tmp_path_factory.mktemp("approved") / "library"
    build_library(library, tmp_path_factory.mktemp("baselines"))
    return library


@pytest.fixture
def library(approved_library, tmp_path):
    copy = tmp_path / "library"
    shutil.copytree(approved_library, copy)
    return copy
