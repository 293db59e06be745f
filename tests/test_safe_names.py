"""The one pattern names from run folders and libraries must match before they become paths or generated code."""

import pytest

from kevolve.tools.safe_names import UnsafeName, checked_name, slug

GOOD = ["cpu-r01-0", "cuda0-r12-3", "20261207-024845-elementwise_gelu_tanh", "1_Square_matrix_multiplication_",
        "h100-sxm", "layernorm.v2", "a" * 200]
BAD = ["", ".", "..", "../x", "a/b", "/etc", "a\\b", "-x", "_x", ".hidden", "a b", "abc\n", "a\nb", 'x"""', "x'",
       "gelu\\N{BOM}", "a\u202eb", "é", "a" * 201, "a:b"]


@pytest.mark.parametrize("name", GOOD)
def test_a_safe_name_passes_unchanged(name):
    assert checked_name("node id", name) == name


@pytest.mark.parametrize("name", BAD)
def test_an_unsafe_name_is_refused_with_its_kind_and_an_escaped_quote(name):
    with pytest.raises(UnsafeName, match=r"node id .* is not a safe name") as refused:
        checked_name("node id", name)
    assert "\n" not in str(refused.value) and "\u202e" not in str(refused.value)


def test_a_non_string_is_refused():
    with pytest.raises(UnsafeName):
        checked_name("problem name", None)


@pytest.mark.parametrize(("text", "name"), [("NVIDIA H100 80GB HBM3", "NVIDIA-H100-80GB-HBM3"), ("x86_64", "x86_64"),
                                            ("../../lib", "lib"), ("  ", "")])
def test_free_text_becomes_a_name(text, name):
    assert slug(text) == name
