"""Fixtures of the abuse suite: the integration suite's own, reused rather than copied.

tests/integration/conftest.py is loaded under a module name of its own
("capstan_integration_conftest"), so it never collides with the "conftest" module pytest
loads for tests/integration when both directories run together; its names (fixtures too)
are re-exported here and, like every conftest fixture, apply to this directory only.
tests/integration goes on sys.path for rawws and helpers (shared modules: the same files
whichever suite imports them).
Test modules here are named test_abuse_*.py so they never clash with an integration test
module's basename (the directories are not packages).
"""
import importlib.util
import resource
import sys
from pathlib import Path

import pytest

INTEGRATION = Path(__file__).resolve().parents[1] / "integration"
if str(INTEGRATION) not in sys.path:
    sys.path.insert(0, str(INTEGRATION))


def _load_integration_conftest():
    name = "capstan_integration_conftest"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, INTEGRATION / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


_integration = _load_integration_conftest()

# Everything the integration conftest defines is re-exported, fixtures included (start_server,
# bystander_for, server: see there). Not only for this suite: integration test modules do
# `from conftest import run_capstan`, and in a run of both directories sys.modules["conftest"]
# is whichever conftest pytest loaded last, possibly this one.
globals().update({name: value for name, value in vars(_integration).items() if not name.startswith("__")})
start_server = _integration.start_server
bystander_for = _integration.bystander_for


@pytest.fixture
def many_fds():
    """Factory: many_fds(n) raises RLIMIT_NOFILE (before the server starts, which inherits
    it); the old limit is restored at teardown."""
    from abuselib import raise_nofile  # tests/abuse is on sys.path once pytest loads us
    saved = []

    def raise_to(n):
        saved.append(raise_nofile(n))

    yield raise_to
    for limits in reversed(saved):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, limits)
        except (ValueError, OSError):
            pass  # fds above the old soft limit may still be open in this process
