import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real test sets: FFNSCOPE_DATA or ../shared/data next to the repository."""
    path = Path(os.environ.get("FFNSCOPE_DATA", REPO.parent / "shared" / "data"))
    if not (path / "wmt14").is_dir():
        pytest.skip(f"real test sets not found at {path}")
    return path
