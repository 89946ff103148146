"""Probability distributions with PyTorch's names and semantics (torch.distributions).

Sampling (`sample`, and `rsample` for the reparameterisable ones), `log_prob`, `entropy`, moments,
`cdf`/`icdf`, `expand`, parameter and support validation, and `kl_divergence`. Seeded samples equal
torch's: each sampler makes PyTorch's random calls in PyTorch's order.

Example:
    >>> import descend as torch
    >>> from descend.distributions import Normal, kl_divergence
    >>> kl_divergence(Normal(0.0, 1.0), Normal(1.0, 2.0))
    tensor(0.4431)
"""

from . import constraints
from .continuous import Exponential, Laplace, Normal, Uniform
from .discrete import Bernoulli, Binomial, Categorical, OneHotCategorical
from .distribution import Distribution
from .gamma import Beta, Dirichlet, Gamma
from .independent import Independent
from .kl import kl_divergence, register_kl
from .multivariate_normal import MultivariateNormal

__all__ = [
    "Bernoulli", "Beta", "Binomial", "Categorical", "Dirichlet", "Distribution", "Exponential", "Gamma",
    "Independent", "Laplace",
    "MultivariateNormal", "Normal", "OneHotCategorical", "Uniform", "constraints", "kl_divergence",
    "register_kl",
]
