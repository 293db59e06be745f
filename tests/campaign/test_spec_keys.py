"""A campaign spec's typos, at any depth, are refused with the key and the closest valid one."""

from __future__ import annotations

import pytest
import yaml

from kevolve.graph.campaign.spec import CampaignSpecError, load_spec


def _spec(tmp_path, **sections):
    path = tmp_path / "campaign.yaml"
    path.write_text(yaml.safe_dump({"name": "typos", "problems": ["p.py"], "devices": ["cpu"], **sections}))
    return path


@pytest.mark.parametrize(
    ("sections", "message"),
    [
        ({"search": {"patiance": 2}}, "search.patiance: unknown key (did you mean search.patience?)"),
        ({"evaluation": {"correctness_trial": 5}},
         "evaluation.correctness_trial: unknown key (did you mean evaluation.correctness_trials?)"),
        ({"search": {"budget": {"max_round": 3}}}, "search.budget.max_round: unknown key"),
        ({"evaluation": {"timing": {"trails": 5}}}, "evaluation.timing.trails: unknown key"),
        ({"schedulling": {}}, "schedulling: unknown key (did you mean scheduling?)"),
    ],
)
def test_an_unknown_key_is_refused_with_its_place(tmp_path, sections, message):
    with pytest.raises(CampaignSpecError, match="unknown key") as refused:
        load_spec(_spec(tmp_path, **sections))
    assert message in str(refused.value)


def test_valid_nested_keys_load(tmp_path):
    spec = load_spec(_spec(tmp_path, search={"patience": 2, "budget": {"max_rounds": 3}},
                           evaluation={"correctness_trials": 5, "timing": {"trials": 5}}))
    assert spec.search.patience == 2 and spec.evaluation.correctness_trials == 5
