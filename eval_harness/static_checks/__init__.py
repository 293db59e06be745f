"""Static anti-reward-hacking checks: a candidate's source, read before any worker runs it.

`check_source(source, policy=..., math=...)` returns `CheckFinding`s (origin "static"); error-level
ones refuse the candidate. `RULES` is the registry of named checks, each with the exploit it stops;
`PRESETS` says which run under each policy and at which severity. The dynamic checks (worker side)
judge what static reading cannot: which kernels actually ran, whether results are reused.
"""

from . import rules_compute, rules_environment, rules_kernels, rules_structure, rules_text  # noqa: F401  (registration)
from .checker import SYNTAX_RULE, check_source
from .presets import PRESETS, Preset
from .registry import RULES, Rule

__all__ = ["PRESETS", "RULES", "SYNTAX_RULE", "Preset", "Rule", "check_source"]
