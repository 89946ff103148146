"""Random programs over the op table, run on descend and PyTorch side by side (issue 9)."""

import pytest

torch = pytest.importorskip(
    "torch", reason="conformance needs torch==2.13.0 (the oracle): run `make conformance`"
)

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from conformance import harness  # noqa: E402
from conformance.ops_table import build  # noqa: E402

OPS = build(st)

# derandomized: the same programs every run, so a failure is reproducible and the run time known
SETTINGS = settings(
    derandomize=True, deadline=None, database=None, max_examples=300, suppress_health_check=list(HealthCheck)
)


@SETTINGS
@given(st.data())
def test_random_programs(data):
    harness.run_program(data.draw, st, OPS)


@pytest.mark.parametrize("op", OPS, ids=[op.name for op in OPS])
@settings(
    derandomize=True, deadline=None, database=None, max_examples=25, suppress_health_check=list(HealthCheck)
)
@given(data=st.data())
def test_each_op(op, data):
    # every op gets its own programs: one op on fresh leaves, then whatever follows
    harness.run_program(data.draw, st, [op], max_steps=1)
