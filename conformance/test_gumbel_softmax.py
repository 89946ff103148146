"""F.gumbel_softmax against torch 2.13: the same seeded samples and gradients, soft and hard."""

import numpy as np
import pytest

torch = pytest.importorskip(
    "torch", reason="conformance needs torch==2.13.0 (the oracle): run `make conformance`"
)

import descend  # noqa: E402


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("hard", [False, True])
@pytest.mark.parametrize(
    "shape,dim,tau", [((5,), -1, 1.0), ((3, 4), 1, 0.3), ((2, 3, 6), 0, 2.0), ((4, 17), -1, 0.7)]
)
def test_gumbel_softmax_matches_torch(shape, dim, tau, hard, dtype):
    rng = np.random.default_rng(sum(shape) + int(hard))
    logits = rng.normal(size=shape)
    weights = rng.normal(size=shape)
    results = []
    for lib in (torch, descend):
        lib.manual_seed(11)
        x = lib.tensor(logits, dtype=getattr(lib, dtype), requires_grad=True)
        y = lib.nn.functional.gumbel_softmax(x, tau=tau, hard=hard, dim=dim)
        (y * lib.tensor(weights, dtype=getattr(lib, dtype))).sum().backward()
        results.append((y.detach().numpy(), x.grad.numpy()))
    rtol = 1e-5 if dtype == "float32" else 1e-12
    for got, want in zip(results[1], results[0]):
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * 1e-2)
