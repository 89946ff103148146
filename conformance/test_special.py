"""descend's special-function ops against torch 2.13: values over a wide range (negative and near-pole
inputs, poles, infinities, NaN), float32 and float64, and their gradients."""

import numpy as np
import pytest
import torch

import descend

_EDGES = [0.0, -0.0, -1, -2, 1, 2, 0.5, 1e-8, 1e10, np.inf, -np.inf, np.nan]
_X = np.concatenate([np.linspace(-30, 30, 1201), _EDGES])
_Y = np.concatenate([np.linspace(-1, 1, 401), [1 - 1e-7, -1 + 1e-7, 1.5, np.nan]])
_CASES = [
    ("lgamma", _X, lambda L, x: L.lgamma(x)),
    ("digamma", _X, lambda L, x: L.digamma(x)),
    ("trigamma", _X, lambda L, x: L.polygamma(1, x)),
    ("polygamma2", _X, lambda L, x: L.polygamma(2, x)),
    ("erfinv", _Y, lambda L, x: L.erfinv(x)),
]
# float64: a few ulps; float32: digamma and trigamma cancel near their roots and poles, so an absolute floor
_TOL = {"float64": (1e-13, 1e-13), "float32": (2e-6, 2e-6)}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name,inputs,fn", _CASES, ids=[c[0] for c in _CASES])
def test_values_and_gradients(name, inputs, fn, dtype):
    xt = torch.tensor(inputs, dtype=getattr(torch, dtype), requires_grad=True)
    xd = descend.tensor(inputs, dtype=getattr(descend, dtype), requires_grad=True)
    a, b = fn(torch, xt), fn(descend, xd)
    rtol, atol = _TOL[dtype]
    np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=rtol, atol=atol)
    a.sum().backward()
    b.sum().backward()
    keep = np.abs(inputs) < 25  # polygamma(n + 1) overflows float32 differently near the far poles
    np.testing.assert_allclose(xd.grad.numpy()[keep], xt.grad.numpy()[keep], rtol=rtol * 10, atol=atol * 10)
