"""Differential suite: descend against PyTorch 2.13 as the oracle (issue 9).

Run it with `make conformance` (installs torch==2.13.0 into .venv). It is not part of
`make test`: pyproject's `testpaths = ["tests"]` keeps it out, and every module here is
skipped with a clear reason when torch is absent (`pytest.importorskip` at its top).
"""

import pytest

SKIP_REASON = "conformance needs torch==2.13.0 (the oracle); run `make conformance`, which installs it"

try:
    import torch  # noqa: F401
except ImportError:  # pragma: no cover - depends on the environment
    torch = None


def pytest_collection_modifyitems(config, items):
    if torch is None:
        for item in items:
            item.add_marker(pytest.mark.skip(reason=SKIP_REASON))


def pytest_terminal_summary(terminalreporter):
    if torch is None:
        terminalreporter.write_line(f"conformance: all skipped: {SKIP_REASON}")
        return
    from conformance import harness

    s = harness.STATS
    terminalreporter.write_line(
        f"conformance: {s['programs']} random programs, {s['ops']} op applications "
        f"({len(s['op_names'])} distinct ops), {s['torch_raised']} torch errors matched by descend, "
        f"{len(s['error_type_differences'])} kinds of differing exception types"
    )
    if s["torch_kernel_gaps"]:
        terminalreporter.write_line(
            f"  ops torch has no kernel for (descend computes them): {sorted(s['torch_kernel_gaps'])}"
        )
    for pair in sorted(s["error_type_differences"]):
        terminalreporter.write_line(f"  torch raised {pair[0]} where descend raised {pair[1]}: {pair[2]}")
