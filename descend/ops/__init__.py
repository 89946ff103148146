"""Every differentiable primitive, one file per family, and the one table that binds them.

Each family file holds its primitives' forwards and vector-Jacobian products side by side and
registers each public name with `@op(...)` beside its definition. This module imports the families
and binds the table once: `Tensor.<name>` methods, `descend.<name>` functions and the operator
dunders, so a method and its function are the same callable and cannot drift apart.

Families: arithmetic (+ - * / **), elementwise (unary maths, comparisons, logic), reductions,
shape (views, joins, casts), indexing, linalg.
"""

from __future__ import annotations

from ..tensor import Tensor
from . import (
    arithmetic,
    conv,
    elementwise,
    indexing,
    inplace,
    linalg,
    normalization,
    reductions,
    sampling,  # noqa: F401,E402 - random sampling ops and in-place fills (registered by @op)
    scan,  # noqa: F401 - cumsum, cumprod, cummax/cummin, logcumsumexp, diff
    shape,
    sorting,  # noqa: F401 - sort, topk, median, unique, bincount, searchsorted, meshgrid
    special,  # noqa: F401 - erfinv, lgamma, digamma, polygamma, mvlgamma, logit, xlogy (descend.special)
)
from ._core import TABLE, _index, _operand, _shape_args, _tensor, can_cast, op, promote_types, result_type
from .arithmetic import *  # noqa: F403 - each family's public names
from .arithmetic import (
    abs,
    add,
    div,
    floor_divide,
    mul,
    neg,
    pow,
    rdiv,
    remainder,
    rfloordiv,
    rmod,
    rpow,
    rsub,
    sub,
)
from .elementwise import *  # noqa: F403
from .elementwise import (
    bitwise_and,
    bitwise_left_shift,
    bitwise_not,
    bitwise_or,
    bitwise_right_shift,
    bitwise_xor,
    clamp,
    eq,
    ge,
    gt,
    le,
    lt,
    maximum,
    minimum,
    ne,
    where,
)
from .indexing import *  # noqa: F403
from .indexing import getitem, index_put, masked_fill
from .linalg import *  # noqa: F403
from .linalg import matmul
from .normalization import *  # noqa: F403
from .reductions import *  # noqa: F403
from .shape import *  # noqa: F403
from .shape import permute, to_dtype, transpose, unbind


def _iterate(a):
    """`iter(x)`: the rows of x as views, from one UnbindBackward0 node (as in PyTorch)."""
    if a._data.ndim == 0:
        raise TypeError("iteration over a 0-d tensor")
    return iter(unbind(a))


_DUNDERS = dict(
    __add__=add,
    __radd__=add,
    __sub__=sub,
    __rsub__=rsub,
    __mul__=mul,
    __rmul__=mul,
    __truediv__=div,
    __rtruediv__=rdiv,
    __pow__=pow,
    __rpow__=rpow,
    __floordiv__=floor_divide,
    __rfloordiv__=rfloordiv,
    __mod__=remainder,
    __rmod__=rmod,
    __setitem__=inplace.setitem,
    __iadd__=TABLE["add_"][0],
    __isub__=TABLE["sub_"][0],
    __imul__=TABLE["mul_"][0],
    __itruediv__=TABLE["div_"][0],
    __matmul__=matmul,
    __rmatmul__=lambda a, b: matmul(b, a),
    __neg__=neg,
    __pos__=lambda a: a,
    __abs__=abs,
    __getitem__=getitem,
    __iter__=_iterate,
    __eq__=eq,
    __ne__=ne,
    __lt__=lt,
    __le__=le,
    __gt__=gt,
    __ge__=ge,
    __and__=bitwise_and,
    __rand__=bitwise_and,
    __or__=bitwise_or,
    __ror__=bitwise_or,
    __xor__=bitwise_xor,
    __rxor__=bitwise_xor,
    __lshift__=bitwise_left_shift,
    __rlshift__=lambda a, b: bitwise_left_shift(b, a),
    __rshift__=bitwise_right_shift,
    __rrshift__=lambda a, b: bitwise_right_shift(b, a),
    __invert__=bitwise_not,
)
# the in-place operators whose methods `_bind` makes from `_INPLACE`
_INPLACE_DUNDERS = dict(
    __iand__="bitwise_and_", __ior__="bitwise_or_", __ixor__="bitwise_xor_",
    __ilshift__="bitwise_left_shift_", __irshift__="bitwise_right_shift_",
)


def functions() -> dict:
    """The `descend.<name>` functions of the table."""
    return {name: fn for name, (fn, _, function) in TABLE.items() if function}


# PyTorch's in-place forms of out-of-place ops: `x.clamp_(0, 1)` is `clamp` written back into x.
_INPLACE = [
    "neg", "abs", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "sin", "cos",
    "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "sigmoid", "erf",
    "erfc", "relu", "sign", "floor", "ceil", "trunc", "round", "frac", "reciprocal", "square", "clamp",
    "clip", "clamp_min", "clamp_max", "pow", "remainder", "fmod", "floor_divide", "atan2", "hypot", "lerp",
    "maximum", "minimum", "masked_fill", "index_put", "masked_scatter", "index_add", "index_fill", "scatter",
    "scatter_add", "scatter_reduce", "cumsum", "cumprod", "bitwise_and", "bitwise_or", "bitwise_xor",
    "bitwise_not", "bitwise_left_shift", "bitwise_right_shift", "logical_and", "logical_or", "logical_xor",
    "logical_not",
]


def _bind():
    for name in _INPLACE:
        if name in TABLE and name + "_" not in TABLE:
            fn = TABLE[name][0]
            op(name + "_", function=False)(inplace.inplace_method(fn, name + "_"))
    for name, fn in _DUNDERS.items():
        setattr(Tensor, name, fn)
    for name, method in _INPLACE_DUNDERS.items():
        setattr(Tensor, name, TABLE[method][0])
    for name, (fn, method, _) in TABLE.items():
        if method:
            setattr(Tensor, name, fn)
    Tensor.T = property(lambda self: permute(self, *reversed(range(self.ndim))) if self.ndim > 1 else self)
    Tensor.mT = property(lambda self: transpose(self, -2, -1))


_bind()
