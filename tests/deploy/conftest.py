"""What the deploy/ checks share: the repository root and the built capstan program
($CAPSTAN_BIN, default build/release/capstan), as the integration suite finds it."""
import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def capstan_bin() -> Path:
    path = Path(os.environ.get("CAPSTAN_BIN", "build/release/capstan"))
    if not path.is_absolute():
        path = REPO_ROOT / path
    if not path.is_file():
        pytest.fail(f"capstan binary not found at {path}: build it or set CAPSTAN_BIN")
    return path
