"""What a search learns, written into the knowledge base as it happens: wins, and failures with their cause.

A later search for a similar operator on a similar device retrieves these entries (see
`knowledge/learned.py` for how an entry reads as a passage), so the operator signature, the
device and the diagnosis are what an entry is found by.
"""

from __future__ import annotations

import ast
import logging
import re
from collections.abc import Sequence
from pathlib import Path

from kevolve.eval_harness.problem import Problem
from kevolve.tools.candidates import Diagnosis, SearchNode, TaskView

from .knowledge.base import KnowledgeBase
from .knowledge.learned import LearnedEntry, OperatorSignature

logger = logging.getLogger(__name__)

# PyTorch names, lower-cased without underscores or a trailing 1d/2d/3d, so that F.layer_norm and
# nn.LayerNorm, or conv1d and nn.Conv3d, land on one key. Families are the suite's KEVOLVE_CATEGORY words.
_FAMILIES: dict[str, str] = {
    **dict.fromkeys(["matmul", "mm", "bmm", "mv", "addmm", "baddbmm", "linear", "einsum"], "matmul"),
    **dict.fromkeys(["conv", "convtranspose"], "conv"),
    **dict.fromkeys(["layernorm", "rmsnorm", "groupnorm", "batchnorm", "instancenorm"], "norm"),
    **dict.fromkeys(["softmax", "logsoftmax"], "softmax"),
    **dict.fromkeys(["scaleddotproductattention", "multiheadattention"], "attention"),
    **dict.fromkeys(["avgpool", "maxpool", "adaptiveavgpool", "adaptivemaxpool"], "pool"),
    **dict.fromkeys(["sum", "mean", "amax", "amin", "max", "min", "argmax", "argmin", "prod", "logsumexp",
                     "var", "std"], "reduction"),
    **dict.fromkeys(["cumsum", "cumprod", "logcumsumexp"], "scan"),
    **dict.fromkeys(["relu", "gelu", "silu", "sigmoid", "tanh", "exp", "softplus", "mish", "leakyrelu", "hardtanh",
                     "elu", "clamp", "rsqrt", "sqrt"], "elementwise"),
    **dict.fromkeys(["crossentropy", "nllloss", "mseloss", "kldiv", "kldivloss", "smoothl1loss", "tripletmarginloss"],
                    "loss"),
    **dict.fromkeys(["embedding", "embeddingbag", "bucketize"], "recsys"),
}
_DIMENSIONS = re.compile(r"[123]d$")
# A failure's message can be a whole traceback; the passage keeps its start, which names the error.
_FAILURE_CHARS = 300


def _family(name: str) -> str | None:
    return _FAMILIES.get(_DIMENSIONS.sub("", name.lower().replace("_", "")))


def _model_ops(tree: ast.Module) -> list[str]:
    """Families of the operators `class Model` calls, in order: its modules (__init__) and forward alike.

    Only attribute calls count (torch.softmax, F.relu, nn.LayerNorm, x.sum): a bare name is more often
    a Python builtin (max, min) than a tensor operation.
    """
    families: list[str] = []
    for node in tree.body:
        if not (isinstance(node, ast.ClassDef) and node.name == "Model"):
            continue
        for inner in ast.walk(node):
            if isinstance(inner, ast.BinOp) and isinstance(inner.op, ast.MatMult):
                families.append("matmul")
            elif isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute):
                family = _family(inner.func.attr)
                if family is not None:
                    families.append(family)
    return families


def _sizes(tree: ast.Module, overrides: dict) -> str:
    """The module's integer constants (its sizes), with the config's overrides; floats are hyperparameters."""
    sizes: dict[str, int] = {}
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                and isinstance(node.value, ast.Constant) and type(node.value.value) is int):
            sizes[node.targets[0].id] = node.value.value
    sizes.update({name: value for name, value in overrides.items() if name in sizes})
    return ", ".join(f"{name}={value}" for name, value in sizes.items())


def operator_signature(problem: Problem, *, dtype: str, on_cpu: bool) -> OperatorSignature:
    """The problem's operator families (its category first) and its sizes in the config evaluated on the device."""
    tree = ast.parse(problem.source)
    found = ([problem.category] if problem.category else []) + _model_ops(tree)
    overrides = problem.overrides(problem.primary_config(on_cpu=on_cpu))
    return OperatorSignature(families=list(dict.fromkeys(found)), shapes=_sizes(tree, overrides), dtype=dtype)


def _diagnosis_text(diagnosis: Diagnosis) -> str:
    return f"{diagnosis.bottleneck}; {diagnosis.headroom}"


def _before(parent: SearchNode | None) -> str:
    if parent is None:
        return "first attempt, from the reference alone"
    if parent.diagnosis is not None:
        return _diagnosis_text(parent.diagnosis)
    if parent.outcome is not None and parent.outcome.failed:
        return f"the parent failed ({parent.outcome.error_kind})"
    return "the parent was not diagnosed"


def _is_win(node: SearchNode, parent: SearchNode | None) -> bool:
    """Accepted with a measured timing, and either the first accepted kernel of its line or measurably
    fitter than its parent. A kernel accepted where timings mean nothing (the CPU interpreter) taught
    nothing about speed: written as a win, a later search on a GPU would retrieve it as advice."""
    if not node.accepted or node.outcome.fitness is None:
        return False
    if parent is None or not parent.accepted:
        return True
    parent_fitness = parent.outcome.fitness
    return parent_fitness is not None and node.outcome.fitness > parent_fitness


def learned_entry(
    node: SearchNode,
    *,
    task: TaskView,
    parent: SearchNode | None,
    signature: OperatorSignature,
    spec_vendor: str,
    spec_architecture: str,
    kernel_file: Path,
) -> LearnedEntry | None:
    """What `node` teaches, or None: not evaluated, refused by the reviewer, or accepted without a gain."""
    outcome = node.outcome
    if outcome is None or (node.review is not None and not node.review.approved):
        return None
    failed = outcome.failed
    if not failed and not _is_win(node, parent):
        return None
    if failed:
        after = " ".join((outcome.error_message or "").split())[:_FAILURE_CHARS] or None
    else:
        after = _diagnosis_text(node.diagnosis) if node.diagnosis is not None else None
    return LearnedEntry(
        problem=task.problem,
        signature=signature,
        device=task.hardware_spec or task.device_name or task.device,
        vendor=spec_vendor,
        architecture=spec_architecture,
        dsl=node.plan.language.value,
        strategy=node.plan.strategy,
        succeeded=not failed,
        speedup=None if failed else outcome.fitness,
        failure_category=outcome.error_kind if failed else None,
        diagnosis_before=_before(parent),
        diagnosis_after=after,
        # Absolute: the knowledge base is shared by runs started from any folder.
        kernel_pointer=str(kernel_file.resolve()),
    )


def record_learning(kb: KnowledgeBase, entries: Sequence[LearnedEntry]) -> int:
    """Writes `entries` as passages; returns how many were written, 0 when the base failed."""
    if not entries:
        return 0
    try:
        return kb.add([entry.to_passage() for entry in entries])
    # Learning is best effort: a search must not die because the knowledge base is down or refuses a
    # write, and each backend raises its own client's errors (LanceDB, Weaviate, HTTP), so all are caught.
    except Exception as exc:
        logger.warning("%d learned entries were not recorded: the knowledge base failed (%s)", len(entries), exc)
        return 0
