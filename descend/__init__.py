"""descend: gradient descent you can read.

A reverse-mode automatic-differentiation engine on NumPy with PyTorch's names and semantics, so
tutorial code runs after `import descend as torch`, plus the models, losses, optimizers, training
loop and pictures built on it.
"""

from . import (
    _malloc,  # noqa: F401  (tunes glibc's malloc for NumPy's large temporaries; see its docstring)
    ops,  # noqa: E402  (binds the op table onto Tensor)
    random,
)
from .autograd import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .creation import (
    arange,
    empty,
    empty_like,
    eye,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    zeros,
    zeros_like,
)
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .random import initial_seed, manual_seed, seed
from .tensor import (
    Tensor,
    as_tensor,
    bool_,
    device,
    float16,
    float32,
    float64,
    from_numpy,
    int8,
    int16,
    int32,
    int64,
    set_printoptions,
    tensor,
    uint8,
)

globals().update(ops.functions())  # descend.<name> for every function in the op table
from .ops import can_cast, div, matmul, mul, pow, promote_types, result_type, sub  # noqa: E402
from .tensor import Size  # noqa: E402

bool = bool_  # noqa: A001 - PyTorch's name; shadows the builtin only as `descend.bool`
float = float32  # noqa: A001
double = float64
half = float16
long = int64
int = int32  # noqa: A001
multiply = mul
subtract = sub
divide = div
square = lambda x: pow(x, 2)  # noqa: E731
__version__ = "0.1.0"

# The layers built on the engine (imported last: they use the names above).
from . import cuda, data, metrics, nn, optim, problems, utils  # noqa: E402
from .plot import to_np  # noqa: E402  (descend.plot imports matplotlib only when drawing)
from .serialize import load, save  # noqa: E402
from .train import fit, lr_find  # noqa: E402


def __getattr__(name):
    # `descend.plot` pulls in matplotlib, so it loads on first use rather than at `import descend`.
    if name == "plot":
        import importlib

        return importlib.import_module(".plot", __name__)
    raise AttributeError(f"module 'descend' has no attribute {name!r}")


# random, factories and device idioms
import math as _math  # noqa: E402

from . import accelerator, backends  # noqa: E402
from ._defaults import (  # noqa: E402
    finfo,
    get_default_device,
    get_default_dtype,
    iinfo,
    is_tensor,
    numel,
    set_default_device,
    set_default_dtype,
)
from .creation import logspace, randint_like, tril_indices, triu_indices  # noqa: E402
from .random import Generator, default_generator, get_rng_state, set_rng_state  # noqa: E402

pi, e, inf, nan = _math.pi, _math.e, _math.inf, _math.nan
from . import distributions  # noqa: E402, F401
from .ops import special  # noqa: E402, F401  (torch.special's names)
