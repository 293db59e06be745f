"""The Triton helper functions generated kernels call (NaN-keeping combines, PyTorch's integer rounding and shifts,
binary searches, triangle indices), each written into a module only when one of its kernels uses it."""

from __future__ import annotations

import re

HELPERS: dict[str, str] = {
    "_nan_max": '''@triton.jit
def _nan_max(a, b):
    return tl.maximum(a, b, propagate_nan=tl.PropagateNan.ALL)
''',
    "_nan_min": '''@triton.jit
def _nan_min(a, b):
    return tl.minimum(a, b, propagate_nan=tl.PropagateNan.ALL)
''',
    "_product": '''@triton.jit
def _product(a, b):
    return a * b
''',
    "_logaddexp": '''@triton.jit
def _logaddexp(a, b):
    top = tl.maximum(a, b)
    return top + tl.log(tl.exp(a - top) + tl.exp(b - top))
''',
    "_sorted_position": '''@triton.jit
def _sorted_position(table_ptr, length, stride, x, RIGHT: tl.constexpr):
    """How many entries of a sorted table come before x: those below x, or with RIGHT those at most x, and all of
    them for NaN, as PyTorch's bucketize and searchsorted count. A branch-free binary search: each step halves
    every lane's interval with one load, and length.bit_length() steps close them all."""
    lo = tl.zeros(x.shape, tl.int64)
    hi = lo + length
    span = tl.cast(length, tl.int64)  # a tensor even where Triton passes a length of 1 as a constexpr
    while span > 0:
        active = lo < hi
        mid = (lo + hi) // 2
        entry = tl.load(table_ptr + mid * stride, mask=active, other=0)
        if RIGHT:
            after = ~(entry > x)
        else:
            after = ~(entry >= x)
        lo = tl.where(active & after, mid + 1, lo)
        hi = tl.where(active & ~after, mid, hi)
        span = span // 2
    return lo
''',
    "_segment_start": '''@triton.jit
def _segment_start(ends_ptr, length, stride, segment):
    """The end of the segment before `segment` (0 for the first, and for an id outside the table)."""
    before = segment.to(tl.int64) - 1
    inside = (before >= 0) & (before < length)
    return tl.load(ends_ptr + tl.where(inside, before, 0) * stride, mask=inside, other=0).to(tl.int64)
''',
    "_triangle": '''@triton.jit
def _triangle(k, n, m, offset, count, UPPER: tl.constexpr, COLUMN: tl.constexpr):
    """The row (with COLUMN, the column) of the k-th pair of torch.tril_indices(n, m, offset) in its row-major
    order; with UPPER, of the triu_indices whose reflection that is (k counts from the last of `count` pairs, rows
    and columns from the last). Row r holds clamp(r + offset + 1, 0, m) pairs: none before r0, then one more each
    row up to r1 (a trapezoid, where the row of k solves a quadratic: an fp64 square root, exact far past any
    int32 count, then corrected by one either way on integers), then m from r1 on."""
    n = tl.cast(n, tl.int64)  # a tensor even where Triton passes a size of 1 as a constexpr
    m = tl.cast(m, tl.int64)
    offset = tl.cast(offset, tl.int64)
    k = k.to(tl.int64)
    if UPPER:
        k = tl.cast(count, tl.int64) - 1 - k
    k = tl.maximum(k, 0)  # lanes past the end stay finite
    r0 = tl.minimum(tl.maximum(-offset, 0), n)
    r1 = tl.minimum(tl.maximum(m - offset - 1, r0), n)
    first = r0 + offset + 1
    height = r1 - r0
    trapezoid = height * first + height * (height - 1) // 2
    b = (2 * first - 1).to(tl.float64)
    j = ((tl.sqrt(b * b + 8.0 * k.to(tl.float64)) - b) * 0.5).to(tl.int64)
    j = tl.where(j * first + j * (j - 1) // 2 > k, j - 1, j)
    j = tl.where((j + 1) * first + (j + 1) * j // 2 <= k, j + 1, j)
    past = tl.maximum(k - trapezoid, 0)
    width = tl.maximum(m, 1)
    row = tl.where(k < trapezoid, r0 + j, r1 + past // width)
    column = tl.where(k < trapezoid, k - (j * first + j * (j - 1) // 2), past % width)
    if UPPER:
        row = n - 1 - row
        column = m - 1 - column
    if COLUMN:
        return column
    return row
''',
    "_triangle_position": '''@triton.jit
def _triangle_position(r, c, n, m, offset, count, UPPER: tl.constexpr):
    """Where the pair (r, c) comes among _triangle's pairs (its inverse), and whether it is one: rows before r hold
    a trapezoid's then full rows' pairs."""
    n = tl.cast(n, tl.int64)
    m = tl.cast(m, tl.int64)
    offset = tl.cast(offset, tl.int64)
    r = r.to(tl.int64)
    c = c.to(tl.int64)
    if UPPER:
        r = n - 1 - r
        c = m - 1 - c
    inside = (r >= 0) & (r < n) & (c >= 0) & (c < m) & (c <= r + offset)
    r0 = tl.minimum(tl.maximum(-offset, 0), n)
    r1 = tl.minimum(tl.maximum(m - offset - 1, r0), n)
    first = r0 + offset + 1
    height = tl.minimum(tl.maximum(r, r0), r1) - r0
    k = height * first + height * (height - 1) // 2 + tl.maximum(r - r1, 0) * m + c
    if UPPER:
        k = tl.cast(count, tl.int64) - 1 - k
    return k, inside
''',
    "_remainder": '''@triton.jit
def _remainder(a, b):
    """PyTorch's remainder takes the divisor's sign; Triton's % (C's) takes the dividend's."""
    r = a % b
    return tl.where((r != 0) & ((r < 0) != (b < 0)), r + b, r)
''',
    "_floor_divide": '''@triton.jit
def _floor_divide(a, b):
    """Integer division rounded down, as PyTorch's //; Triton's (C's) rounds toward zero."""
    q = a // b
    return tl.where((a % b != 0) & ((a < 0) != (b < 0)), q - 1, q)
''',
    "_floor_divide_float": '''@triton.jit
def _floor_divide_float(a, b):
    """PyTorch's floor division of floats: from the exact remainder, where floor(a / b) can round across an integer."""
    r = a % b
    q = (a - r) / b
    q = tl.where((r != 0) & ((b < 0) != (r < 0)), q - 1.0, q)
    f = tl.floor(q)
    f = tl.where(q - f > 0.5, f + 1.0, f)
    return tl.where(b == 0, a / b, tl.where(q != 0, f, 0.0 * (a / b)))
''',
    "_trunc": '''@triton.jit
def _trunc(q):
    return tl.where(q < 0, tl.ceil(q), tl.floor(q))
''',
    "_shift_left": '''@triton.jit
def _shift_left(a, b):
    """PyTorch shifts every bit out for counts past the width or negative; in Triton those are undefined."""
    bits: tl.constexpr = a.dtype.primitive_bitwidth
    return tl.where((b < 0) | (b >= bits), 0, a << b)
''',
    "_shift_right": '''@triton.jit
def _shift_right(a, b):
    """Arithmetic shift; counts past the width or negative leave the sign, as in PyTorch."""
    bits: tl.constexpr = a.dtype.primitive_bitwidth
    return tl.where((b < 0) | (b >= bits), a >> (bits - 1), a >> b)
''',
}


def helpers_used(kernels: list[str]) -> list[str]:
    """The sources of the helpers that `kernels` call, or hand to tl.reduce as a combine function."""
    return [source for name, source in HELPERS.items()
            if any(re.search(rf"\b{name}\b", kernel) for kernel in kernels)]
