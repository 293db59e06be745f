"""What a chat message names, made concrete: a problem file, and a device of this machine.

Each resolver returns the value, or None, with the sentence to tell the person: which problem was
chosen and its close rivals, or why nothing matched and what would.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

from kevolve.eval_harness.problems import SUITE_DIR
from kevolve.hardware_specs.spec import AmbiguousHardwareSpec, spec_for_device_name

CPU_DEVICE = "cpu"
MAX_ALTERNATIVES = 5
_CUDA = re.compile(r"cuda:(\d+)$")


def suite_problems() -> list[Path]:
    return sorted(path for path in SUITE_DIR.glob("*.py") if not path.name.startswith("_"))


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def match_score(words: list[str], stem: str) -> int:
    """2 for each word (or two adjacent words run together: 'layer norm') that is a part of the name,
    1 for one that is only inside a part ('norm' in 'rmsnorm')."""
    parts = stem.lower().split("_")
    joined = "".join(parts)
    pairs = [first + second for first, second in itertools.pairwise(words)]
    score = 0
    for word in [*words, *pairs]:
        if word in parts or f"{word}s" in parts:
            score += 2
        elif len(word) >= 4 and word in joined:
            score += 1
    return score


def problem_named(named: str | None) -> tuple[Path | None, str]:
    """A .py path as given, else the suite problem whose file name best matches the words."""
    if not named:
        return None, "which problem? Name a file (path/to/problem.py) or an operator (e.g. 'layernorm', 'softmax')."
    if named.endswith(".py"):
        path = Path(named).expanduser()
        if path.is_file():
            return path, f"problem: {path}"
        return None, f"there is no file {named}"
    words = _words(named)
    scored = sorted(((match_score(words, path.stem), path) for path in suite_problems()),
                    key=lambda item: (-item[0], len(item[1].stem.split("_")), item[1].stem))
    best_score, best = scored[0]
    if best_score == 0:
        families = sorted({path.stem.split("_")[0] for path in suite_problems()})
        return None, (f"no problem of the suite matches {named!r}; give a file, or name one of its operators "
                      f"(families: {', '.join(families)})")
    rivals = [path.stem for score, path in scored[1:] if score == best_score][:MAX_ALTERNATIVES]
    note = f"problem: {best.stem} (suite)"
    if rivals:
        note += f"; also close: {', '.join(rivals)} (name one to pick it)"
    return best, note


def local_gpus() -> list[tuple[str, str]]:
    """(torch device, device name) for each visible GPU."""
    import torch

    if not torch.cuda.is_available():
        return []
    return [(f"cuda:{index}", torch.cuda.get_device_name(index)) for index in range(torch.cuda.device_count())]


def _names_of(device_name: str) -> list[str]:
    try:
        spec = spec_for_device_name(device_name)
    except AmbiguousHardwareSpec:
        spec = None
    names = [device_name] if spec is None else [device_name, spec.name, spec.display_name]
    return [re.sub(r"[^a-z0-9]", "", name.lower()) for name in names]


def device_named(
    said: str | None, *, default: str, gpus: list[tuple[str, str]] | None = None
) -> tuple[str | None, str]:
    """`said` as a device of this machine: cpu or cuda:N as given, a hardware name ('H100') by its spec."""
    gpus = local_gpus() if gpus is None else gpus
    here = ", ".join([f"{device} ({name})" for device, name in gpus] + [CPU_DEVICE])
    if not said:
        return default, f"device: {default}"
    wanted = said.strip().lower()
    if wanted == CPU_DEVICE:
        return CPU_DEVICE, "device: cpu (Triton's interpreter: correctness only, timings mean nothing)"
    if (cuda := _CUDA.match(wanted)) is not None:
        if int(cuda.group(1)) < len(gpus):
            return wanted, f"device: {wanted} ({gpus[int(cuda.group(1))][1]})"
        return None, f"there is no {wanted} here; devices here: {here}"
    key = re.sub(r"[^a-z0-9]", "", wanted)
    for device, name in gpus:
        if any(key in known for known in _names_of(name)):
            return device, f"device: {device} ({name})"
    return None, f"there is no {said} here; devices here: {here}"
