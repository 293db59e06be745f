"""A split reduction group -> its Triton kernels and the lines of its launcher that run them.

Programs form a (row blocks, splits) grid; split `s` reduces the slice [s * SPAN, (s + 1) * SPAN) of each row's
extent. Each level of reductions (split_reduction.py) is one partial kernel that writes a float32 partial per
(reduction, kept row, split); a last kernel writes the group's outputs.

The partials are combined by the kernels that read them, each program for its own rows, rather than by atomics
or by a combining kernel of their own: atomics would add in an order that changes from run to run (and need a
zeroed buffer, one more launch), and a combining kernel is one more launch, where re-reading a few partials per
row from L2 in every program costs less. Every program combines in the same order, so all the programs of a
row see the same statistics, and so does every run.
"""

from __future__ import annotations

from kevolve.eval_harness.precision import MathMode

from .configs import GroupConfig
from .formulas import accumulate, reduce_call
from .fusion_groups import FusionGroup
from .program import PrimStep
from .reduction_source import ReductionBody
from .split_reduction import SplitPlan
from .triton_source import NEUTRAL, render


def _indented(lines: list[str]) -> list[str]:
    return [f"    {line}" for line in lines]


class SplitBody(ReductionBody):
    """The statements of a split group's kernels: `partial(level)` and `finish()`."""

    def __init__(self, group: FusionGroup, dtypes: dict[str, str], mode: MathMode, plan: SplitPlan) -> None:
        super().__init__(group, dtypes, looped=True, mode=mode)
        self.plan = plan
        self.means = set(plan.variance.values())

    def split_prologue(self, out_row: bool) -> list[str]:
        return [*self.prologue(out_row), "split = tl.program_id(1)", "if WIDE:", "    split = split.to(tl.int64)",
                "r_start = split * SPAN", "r_stop = tl.minimum(r_start + SPAN, R)"]

    def slot(self, name: str, rows: str) -> str:
        """The partials of reduction `name` for kept rows `rows`, from split 0."""
        return f"partials_ptr + ({self.plan.slots.index(name)} * K + {rows}) * SPLITS"

    def combined(self, levels: int) -> list[str]:
        """The results of the first `levels` levels, from every split's partials, and the reduced-level members
        that follow from them."""
        done = [name for level in self.plan.levels[:levels] for name in level]
        if not done:
            return []
        lines = ["s = tl.arange(0, BLOCK_S)", "s_mask = k_mask[:, None] & (s[None, :] < SPLITS)"]
        if self.plan.variance:
            # Every split but the last holds SPAN elements; the launcher leaves none empty.
            lines.append("count = tl.minimum(tl.maximum(R - s * SPAN, 0), SPAN).to(tl.float32)[None, :]")
        for name in done:
            member = self.members[name]
            parts, v = f"parts_{name}", f"v_{name}"
            neutral = "0.0" if name in self.means or name in self.plan.variance else NEUTRAL[member.fn]
            lines.append(f"{parts} = tl.load({self.slot(name, 'k[:, None]')} + s[None, :], mask=s_mask, "
                         f"other={neutral})")
            per_element = " / R" if member.fn == "mean" else ""
            if name in self.means:  # Chan: the mean of the split means, weighted by their counts
                lines.append(f"{v} = (tl.sum(count * {parts}, axis=1) / R)[:, None]")
            elif name in self.plan.variance:  # Chan: the splits' sums of squares and their means' spread
                shift = f"shift_{name}"
                lines += [f"{shift} = parts_{self.plan.variance[name]} - v_{self.plan.variance[name]}",
                          f"{v} = (tl.sum({parts} + count * {shift} * {shift}, axis=1){per_element})[:, None]"]
            else:
                lines.append(f"{v} = ({reduce_call(member.fn, parts, 1)}{per_element})[:, None]")
        return lines + self.reduced_members(set(done))

    def reduced_members(self, known: set[str]) -> list[str]:
        """Reduced-level elementwise members (a variance's rsqrt) whose in-group operands are known."""
        lines = []
        for member in self.group.members:
            inside = [a for a in member.tensor_args() if a in self.group.levels]
            if member.kind == "pointwise" and self.group.levels[member.name] == "reduced" and set(inside) <= known:
                lines += self.computed(member)
                known.add(member.name)
        return lines

    def accumulate(self, member: PrimStep) -> tuple[list[str], list[str], list[str]]:
        """Lines before the slice loop, in it, and after it that reduce `member` over this program's slices and
        store its partials (with its second moment, for a variance's mean)."""
        name, x = member.name, self.names.operand(member.args[0])
        store = f"tl.store({self.slot(name, 'k')} + split, {{}}, mask=k_mask)"
        if name not in self.means:
            acc = f"acc_{name}"
            masked = f"tl.where(mask, {x}, {NEUTRAL[member.fn]})"
            return ([f"{acc} = tl.full([BLOCK_K, BLOCK_R], {NEUTRAL[member.fn]}, tl.float32)"],
                    [f"{acc} = {accumulate(member.fn, acc, masked)}"],
                    [store.format(reduce_call(member.fn, acc, 1))])
        # Welford per lane (each lane sees every BLOCK_R-th element of the slice), then Chan over the lanes.
        second = next(s for s, m in self.plan.variance.items() if m == name)
        n, mu, m2, delta = (f"{part}_{name}" for part in ("n", "mu", "m2", "delta"))
        before = [f"{var} = tl.zeros([BLOCK_K, BLOCK_R], tl.float32)" for var in (n, mu, m2)]
        inside = [f"x_{name} = tl.where(mask, {x}, 0.0)", f"{n} = {n} + mask.to(tl.float32)",
                  f"{delta} = x_{name} - {mu}", f"{mu} = {mu} + tl.where(mask, {delta} / tl.maximum({n}, 1.0), 0.0)",
                  f"{m2} = {m2} + tl.where(mask, {delta} * (x_{name} - {mu}), 0.0)"]
        split_n, split_mean, lane_shift = f"split_n_{name}", f"split_mean_{name}", f"lane_shift_{name}"
        after = [f"{split_n} = tl.sum({n}, axis=1)",
                 f"{split_mean} = tl.sum({n} * {mu}, axis=1) / tl.maximum({split_n}, 1.0)",
                 f"{lane_shift} = {mu} - {split_mean}[:, None]",
                 store.format(split_mean),
                 f"tl.store({self.slot(second, 'k')} + split, "
                 f"tl.sum({m2} + {n} * {lane_shift} * {lane_shift}, axis=1), mask=k_mask)"]
        return before, inside, after

    def over_slices(self, body: list[str]) -> list[str]:
        return ["for r0 in range(r_start, r_stop, BLOCK_R):",
                *_indented(self.slice_lines("r0 + ", "r_stop") + body)]

    def partial(self, level: int) -> list[str]:
        reductions = [self.members[n] for n in self.plan.levels[level] if n not in self.plan.variance]
        # Each reduction's lines before, in and after the loop; all of a level's reductions share its loads.
        before, inside, after = ([line for lines in stage for line in lines] for stage in
                                 zip(*(self.accumulate(member) for member in reductions), strict=True))
        loop = self.full_values([m.args[0] for m in reductions], {}) + inside
        return [*self.split_prologue(out_row=False), *self.combined(level), *before, *self.over_slices(loop), *after]

    def finish(self) -> list[str]:
        lines = [*self.split_prologue(out_row=True), *self.combined(len(self.plan.levels))]
        if self.names.outputs_full:
            lines += self.over_slices(self.full_values(self.names.outputs_full, {}) + self.stores_full())
        if not self.names.outputs_reduced:
            return lines
        # Every split of a row holds its statistics; the first one writes them. The condition is made a vector:
        # Triton's interpreter takes no scalar in a mask.
        return [*lines, "first = k_mask & (k * 0 + split == 0)",
                *(f"tl.store(q{i}_ptr + k[:, None], v_{o}, mask=first[:, None])"
                  for i, o in enumerate(self.names.outputs_reduced))]


def kernel_names(group: FusionGroup, plan: SplitPlan) -> list[str]:
    """The group's kernels in launch order: one per level, then the one that writes its outputs."""
    return [f"_{group.name}_partial{i}" for i in range(len(plan.levels))] + [f"_{group.name}_finish"]


def split_kernels(group: FusionGroup, dtypes: dict[str, str], mode: MathMode, plan: SplitPlan) -> str:
    body = SplitBody(group, dtypes, mode, plan)
    signature = body.names.signature(["partials_ptr", "K", "R", "SPLITS", "SPAN"])
    constants = "BLOCK_K: tl.constexpr, BLOCK_R: tl.constexpr, BLOCK_S: tl.constexpr, WIDE: tl.constexpr"
    statements = [body.partial(level) for level in range(len(plan.levels))] + [body.finish()]
    return "\n\n".join(render(group, f"def {name}({signature}, {constants}):", lines)
                       for name, lines in zip(kernel_names(group, plan), statements, strict=True))


def split_launch(group: FusionGroup, config: GroupConfig, plan: SplitPlan, launch_arguments: dict[str, str],
                 pointers: list[str], device: str) -> list[str]:
    """The launcher's lines after its outputs are allocated and `kept` and `extent` counted. `launch_arguments`:
    per kernel, its runtime arguments by keyword (launcher_source.keyword_arguments); `pointers`: the tensors the
    kernels address."""
    settings = (f"BLOCK_K={config.rows}, BLOCK_R={config.chunk}, BLOCK_S=triton.next_power_of_2(splits), "
                f"WIDE=wide, num_warps={config.warps}")
    names = kernel_names(group, plan)
    lines = ["# Each split a whole number of slices, and none empty: a split's count follows from SPAN alone.",
             f"span = max(1, triton.cdiv(triton.cdiv(extent, {config.splits}), {config.chunk})) * {config.chunk}",
             "splits = max(1, triton.cdiv(extent, span))",
             f"partials = torch.empty(({len(plan.slots)}, kept, splits), device={device}, dtype=torch.float32)",
             f"wide = _needs_int64(shape, {', '.join([*pointers, 'partials'])})",
             f"grid = (triton.cdiv(kept, {config.rows}), splits)"]
    lines += [f"{name}[grid]({launch_arguments[name]}, {settings})" for name in names[:-1]]
    # Statistics alone need no grid over the extent: one program per row block combines them.
    finish_grid = "grid" if any(group.levels[o] == "full" for o in group.outputs) else "(grid[0], 1)"
    return [*lines, f"{names[-1]}[{finish_grid}]({launch_arguments[names[-1]]}, {settings})"]
