"""Random programs over the op table, run on descend and PyTorch side by side (issue 9)."""

import pytest

torch = pytest.importorskip(
    "torch", reason="conformance needs torch==2.13.0 (the oracle): run `make conformance`"
)

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from conformance import harness  # noqa: E402
from conformance.ops_table import ALL_DTYPES, build, build_typed  # noqa: E402

OPS = build(st)
TYPED_OPS = build_typed(st)

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


@settings(
    derandomize=True, deadline=None, database=None, max_examples=800, suppress_health_check=list(HealthCheck)
)
@given(st.data())
def test_typed_programs(data):
    # every dtype as the first leaf, the typed ops mixed with the float ones
    harness.run_program(data.draw, st, TYPED_OPS + OPS[:40], first_dtypes=ALL_DTYPES)


@pytest.mark.parametrize("op", TYPED_OPS, ids=[op.name for op in TYPED_OPS])
@settings(
    derandomize=True, deadline=None, database=None, max_examples=25, suppress_health_check=list(HealthCheck)
)
@given(data=st.data())
def test_each_typed_op(op, data):
    harness.run_program(data.draw, st, [op], max_steps=1, first_dtypes=ALL_DTYPES)
