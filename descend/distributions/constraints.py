"""Constraints: the sets a parameter or a sample must lie in (torch.distributions.constraints).

`check(value)` returns a bool Tensor, one entry per event (reduced over the rightmost `event_dim` dims),
as PyTorch's; the checks run in NumPy and record nothing.

Example:
    >>> import descend
    >>> from descend.distributions import constraints
    >>> constraints.positive.check(descend.tensor([1.0, -1.0]))
    tensor([ True, False])
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor, tensor

__all__ = [
    "Constraint", "boolean", "dependent", "dependent_property", "greater_than", "greater_than_eq",
    "half_open_interval", "independent", "integer_interval", "interval", "is_dependent", "lower_cholesky",
    "less_than", "nonnegative", "nonnegative_integer", "one_hot", "positive", "positive_definite",
    "positive_integer", "real", "real_vector", "simplex", "symmetric", "unit_interval",
]


def _np(x):
    return x._data if isinstance(x, Tensor) else np.asarray(x)


def _fmt(bound):
    # a 0-d tensor formats as its number in PyTorch's f-strings (Tensor.__format__)
    return bound.item() if isinstance(bound, Tensor) and bound.dim() == 0 else bound


def _out(mask) -> Tensor:
    return tensor(np.asarray(mask, dtype=bool))


class Constraint:
    """A region over which a variable is valid; `check(value)` says where a value lies in it."""

    is_discrete = False
    event_dim = 0

    def check(self, value):
        raise NotImplementedError

    def __repr__(self):
        return self.__class__.__name__[1:] + "()"


class _Dependent(Constraint):
    """A placeholder for a support that depends on other variables (never checked)."""

    def __init__(self, *, is_discrete=NotImplemented, event_dim=NotImplemented):
        self._is_discrete = is_discrete
        self._event_dim = event_dim
        super().__init__()

    @property
    def is_discrete(self):
        if self._is_discrete is NotImplemented:
            raise NotImplementedError(".is_discrete cannot be determined statically")
        return self._is_discrete

    @property
    def event_dim(self):
        if self._event_dim is NotImplemented:
            raise NotImplementedError(".event_dim cannot be determined statically")
        return self._event_dim

    def __call__(self, *, is_discrete=NotImplemented, event_dim=NotImplemented):
        if is_discrete is NotImplemented:
            is_discrete = self._is_discrete
        if event_dim is NotImplemented:
            event_dim = self._event_dim
        return _Dependent(is_discrete=is_discrete, event_dim=event_dim)

    def check(self, x):
        raise ValueError("Cannot determine validity of dependent constraint")


def is_dependent(constraint) -> bool:
    """Whether `constraint` is a dependent placeholder (skipped by argument validation)."""
    return isinstance(constraint, _Dependent)


class _DependentProperty(property, _Dependent):
    """A property whose value is a constraint depending on the instance (Uniform's support)."""

    def __init__(self, fn=None, *, is_discrete=NotImplemented, event_dim=NotImplemented):
        property.__init__(self, fn)
        self._is_discrete = is_discrete
        self._event_dim = event_dim

    def __call__(self, fn):
        return _DependentProperty(fn, is_discrete=self._is_discrete, event_dim=self._event_dim)


class _IndependentConstraint(Constraint):
    """A base constraint with its `reinterpreted_batch_ndims` rightmost dims made part of the event."""

    def __init__(self, base_constraint, reinterpreted_batch_ndims):
        self.base_constraint = base_constraint
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims
        super().__init__()

    @property
    def is_discrete(self):
        return self.base_constraint.is_discrete

    @property
    def event_dim(self):
        return self.base_constraint.event_dim + self.reinterpreted_batch_ndims

    def check(self, value):
        result = _np(self.base_constraint.check(value))
        if result.ndim < self.reinterpreted_batch_ndims:
            expected = self.base_constraint.event_dim + self.reinterpreted_batch_ndims
            raise ValueError(f"Expected value.dim() >= {expected} but got {_np(value).ndim}")
        n = self.reinterpreted_batch_ndims
        if n:
            result = result.reshape(result.shape[: result.ndim - n] + (-1,)).all(-1)
        return _out(result)

    def __repr__(self):
        return f"{self.__class__.__name__[1:]}({self.base_constraint!r}, {self.reinterpreted_batch_ndims})"


class _Boolean(Constraint):
    is_discrete = True

    def check(self, value):
        v = _np(value)
        return _out((v == 0) | (v == 1))


class _OneHot(Constraint):
    is_discrete = True
    event_dim = 1

    def check(self, value):
        v = _np(value)
        return _out(((v == 0) | (v == 1)).all(-1) & (v.sum(-1) == 1))


class _IntegerInterval(Constraint):
    is_discrete = True

    def __init__(self, lower_bound, upper_bound):
        self.lower_bound = lower_bound
        self.upper_bound = upper_bound

    def check(self, value):
        v = _np(value)
        return _out((v % 1 == 0) & (_np(self.lower_bound) <= v) & (v <= _np(self.upper_bound)))

    def __repr__(self):
        bounds = f"lower_bound={_fmt(self.lower_bound)}, upper_bound={_fmt(self.upper_bound)}"
        return f"{self.__class__.__name__[1:]}({bounds})"


class _IntegerGreaterThan(Constraint):
    is_discrete = True

    def __init__(self, lower_bound):
        self.lower_bound = lower_bound

    def check(self, value):
        v = _np(value)
        return _out((v % 1 == 0) & (v >= _np(self.lower_bound)))

    def __repr__(self):
        return f"{self.__class__.__name__[1:]}(lower_bound={_fmt(self.lower_bound)})"


class _Real(Constraint):
    def check(self, value):
        v = _np(value)
        return _out(v == v)  # False only for NaN


class _GreaterThan(Constraint):
    def __init__(self, lower_bound):
        self.lower_bound = lower_bound

    def check(self, value):
        return _out(_np(self.lower_bound) < _np(value))

    def __repr__(self):
        return f"{self.__class__.__name__[1:]}(lower_bound={_fmt(self.lower_bound)})"


class _GreaterThanEq(_GreaterThan):
    def check(self, value):
        return _out(_np(self.lower_bound) <= _np(value))


class _LessThan(Constraint):
    def __init__(self, upper_bound):
        self.upper_bound = upper_bound

    def check(self, value):
        return _out(_np(value) < _np(self.upper_bound))

    def __repr__(self):
        return f"{self.__class__.__name__[1:]}(upper_bound={_fmt(self.upper_bound)})"


class _Interval(Constraint):
    def __init__(self, lower_bound, upper_bound):
        self.lower_bound = lower_bound
        self.upper_bound = upper_bound

    def check(self, value):
        v = _np(value)
        return _out((_np(self.lower_bound) <= v) & (v <= _np(self.upper_bound)))

    def __repr__(self):
        bounds = f"lower_bound={_fmt(self.lower_bound)}, upper_bound={_fmt(self.upper_bound)}"
        return f"{self.__class__.__name__[1:]}({bounds})"


class _HalfOpenInterval(_Interval):
    def check(self, value):
        v = _np(value)
        return _out((_np(self.lower_bound) <= v) & (v < _np(self.upper_bound)))


class _Simplex(Constraint):
    event_dim = 1

    def check(self, value):
        v = _np(value)
        return _out((v >= 0).all(-1) & (np.abs(v.sum(-1) - 1) < 1e-6))


class _Symmetric(Constraint):
    event_dim = 2

    def check(self, value):
        v = _np(value)
        if v.ndim < 2 or v.shape[-1] != v.shape[-2]:
            return _out(np.zeros(v.shape[:-2], bool))
        vt = np.swapaxes(v, -1, -2)
        return _out((np.abs(v - vt) <= 1e-6 + 1e-5 * np.abs(vt)).all(-1).all(-1))


class _PositiveDefinite(_Symmetric):
    def check(self, value):
        sym = _np(super().check(value))
        if not sym.all():
            return _out(sym)
        v = _np(value)
        flat = v.reshape((-1,) + v.shape[-2:])
        ok = np.empty(len(flat), bool)
        for i, m in enumerate(flat):
            try:
                np.linalg.cholesky(m)
                ok[i] = True
            except np.linalg.LinAlgError:
                ok[i] = False
        return _out(ok.reshape(v.shape[:-2]))


class _LowerCholesky(Constraint):
    event_dim = 2

    def check(self, value):
        v = _np(value)
        lower = (np.tril(v) == v).reshape(v.shape[:-2] + (-1,)).all(-1)
        positive_diagonal = (np.diagonal(v, axis1=-2, axis2=-1) > 0).all(-1)
        return _out(lower & positive_diagonal)


dependent = _Dependent()
dependent_property = _DependentProperty
independent = _IndependentConstraint
boolean = _Boolean()
one_hot = _OneHot()
nonnegative_integer = _IntegerGreaterThan(0)
positive_integer = _IntegerGreaterThan(1)
integer_interval = _IntegerInterval
real = _Real()
real_vector = independent(real, 1)
positive = _GreaterThan(0.0)
nonnegative = _GreaterThanEq(0.0)
greater_than = _GreaterThan
greater_than_eq = _GreaterThanEq
less_than = _LessThan
unit_interval = _Interval(0.0, 1.0)
interval = _Interval
half_open_interval = _HalfOpenInterval
simplex = _Simplex()
symmetric = _Symmetric()
positive_definite = _PositiveDefinite()
lower_cholesky = _LowerCholesky()
