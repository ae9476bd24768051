"""Loading a causal LM and its tokenizer from a hub id or a local directory."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

from .adapters import FFNAdapter, adapter_for

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


class ModelLoadError(RuntimeError):
    pass


@dataclass
class LoadedModel:
    model: torch.nn.Module  # the full causal LM (its LM head is never run)
    tokenizer: object
    adapter: FFNAdapter
    device: torch.device
    dtype: torch.dtype
    revision: str
    dtype_reason: str  # why this compute dtype (`resolve_dtype`)

    @property
    def base(self) -> torch.nn.Module:
        """The decoder stack without the LM head."""
        return self.model.base_model


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def native_bfloat16() -> str | None:
    """The instructions with which this CPU multiplies bfloat16 natively (AMX tiles, AVX-512
    BF16), as torch detects them; None where bfloat16 would be emulated, slower than float32."""
    if torch.cpu._is_amx_tile_supported():
        return "AMX"
    if torch.cpu._is_avx512_bf16_supported():
        return "AVX512_BF16"
    return None


def auto_dtype(device: torch.device, n_params: int) -> tuple[torch.dtype, str]:
    """`compute_dtype: auto`, and why, from the numbers of docs/performance.md ("Compute
    precision"): bfloat16 moves no metric beyond a fifth of its bootstrap interval. A CPU that
    multiplies bfloat16 natively runs the snapshot about twice as fast in it; elsewhere float32
    costs nothing. A GPU's snapshot jobs are bound by writing shards, not by compute, so float32
    costs it only memory: float32 while its weights take at most half the GPU's memory."""
    if device.type == "cuda":
        total = torch.cuda.get_device_properties(device).total_memory
        need = 4 * n_params
        if need <= total / 2:
            return (
                torch.float32,
                f"the float32 weights ({need / 2**30:.1f} GiB) fit in half the GPU's {total / 2**30:.0f} GiB",
            )
        if torch.cuda.is_bf16_supported():
            return (
                torch.bfloat16,
                f"the float32 weights ({need / 2**30:.1f} GiB) exceed half the GPU's {total / 2**30:.0f} GiB",
            )
        return torch.float16, "the float32 weights exceed half the GPU's memory and it has no bfloat16"
    native = native_bfloat16()
    if native:
        return torch.bfloat16, f"the CPU multiplies bfloat16 natively ({native})"
    return torch.float32, "the CPU has no native bfloat16 (AMX or AVX-512 BF16)"


def resolve_dtype(dtype: str, device: torch.device, n_params: int) -> tuple[torch.dtype, str]:
    """The compute dtype of a model of `n_params` parameters on `device`, and why."""
    if dtype == "auto":
        return auto_dtype(device, n_params)
    return DTYPES[dtype], "set by snapshot.compute_dtype"


def parameter_count(path: str, revision: str | None = None) -> int:
    """The model's parameters, counted on the meta device (no weights read)."""
    config = AutoConfig.from_pretrained(path, revision=revision)
    with torch.device("meta"):
        return sum(p.numel() for p in AutoModelForCausalLM.from_config(config).parameters())


def load_model(
    name: str, path: str, revision: str | None = None, device: str = "auto", dtype: str = "auto"
) -> LoadedModel:
    """Load model `name` from `path` (hub id or local directory). Respects HF_HUB_OFFLINE;
    a missing model is one ModelLoadError naming the config entry."""
    dev = resolve_device(device)
    try:
        n_params = parameter_count(path, revision) if dtype == "auto" and dev.type == "cuda" else 0
        torch_dtype, why = resolve_dtype(dtype, dev, n_params)
        tokenizer = AutoTokenizer.from_pretrained(path, revision=revision)
        model = AutoModelForCausalLM.from_pretrained(path, revision=revision, dtype=torch_dtype)
    except (OSError, ValueError) as err:
        offline = os.environ.get("HF_HUB_OFFLINE", "0") not in ("", "0")
        raise ModelLoadError(
            f"cannot load model {name!r} from {path!r} (config: models[name={name}].path"
            f"{', revision ' + revision if revision else ''}; HF_HUB_OFFLINE={'1' if offline else '0'}): "
            f"{str(err).splitlines()[0]}"
        ) from err
    model.to(dev).eval()
    adapter = adapter_for(model.config.model_type)
    sha = getattr(model.config, "_commit_hash", None)
    return LoadedModel(model, tokenizer, adapter, dev, torch_dtype, revision or sha or "local", why)
