"""Regressions found by the PyTorch differential suite (conformance/), checked without torch."""

import math

import numpy as np

import descend


def test_abs_gradient_is_zero_at_nan_and_sign_elsewhere():
    # PyTorch's abs backward is grad * sgn(x), and sgn(nan) is 0
    x = descend.tensor(np.array([np.nan, np.inf, 0.0, -0.2]), requires_grad=True)
    x.abs().sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0, 0.0, -1.0])


def test_erf_float64_is_exact():
    # the float32 approximation is only good to 1.2e-7; float64 must match math.erf
    vals = [-3.0, -0.7, 0.0, 0.2, 0.21, 1.5, 6.0]
    out = descend.erf(descend.tensor(np.array(vals))).numpy()
    np.testing.assert_allclose(out, [math.erf(v) for v in vals], rtol=1e-15, atol=0)


def test_prod_over_an_empty_dim_backward():
    # prod of an empty row is the constant 1: backward gives an empty (or zero) gradient, no error
    x = descend.zeros(2, 0, dtype=descend.float64, requires_grad=True)
    y = x.prod(-1)
    np.testing.assert_array_equal(y.detach().numpy(), [1.0, 1.0])
    y.sum().backward()
    assert x.grad.shape == (2, 0)
    v = descend.zeros(0, dtype=descend.float64, requires_grad=True)
    v.prod().backward()
    assert v.grad.shape == (0,)
