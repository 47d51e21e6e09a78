"""Fixtures of the conformance suite: the integration suite's, re-exported.

tests/integration/conftest.py (start_server, server, bystander_for) is loaded here under a
module name of its own, so this directory runs alone (`pytest tests/conformance`) or together
with the integration suite (`pytest tests/integration tests/conformance`): pytest imports each
directory's conftest.py as a separate plugin whose fixtures only apply below that directory,
so the two `start_server` never clash. tests/integration goes on sys.path for rawws/helpers.
Test modules are named test_abNN_*.py and helpers wsconf.py / cases_utf8.py, so no basename
clashes with another suite's (the test directories are not packages).
"""
import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
INTEGRATION = HERE.parent / "integration"

for _dir in (INTEGRATION, HERE):  # works with --import-mode=importlib too
    if str(_dir) not in sys.path:
        sys.path.insert(0, str(_dir))


def _load_integration_conftest():
    name = "capstan_integration_conftest"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, INTEGRATION / "conftest.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


_integration = _load_integration_conftest()

# Every public name of the integration conftest is re-exported, fixtures included. Not only
# for this suite: integration test modules do `from conftest import run_capstan`, and in a run
# of both directories sys.modules["conftest"] is whichever conftest pytest loaded last.
globals().update({k: v for k, v in vars(_integration).items() if not k.startswith("_")})
start_server = _integration.start_server  # the fixtures this suite uses
server = _integration.server
