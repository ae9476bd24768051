"""Loading a causal LM and its tokenizer from a hub id or a local directory."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

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


def native_bfloat16(device: torch.device) -> str | None:
    """How `device` multiplies bfloat16 natively, as torch detects it: a CPU's AMX tiles or
    AVX-512 BF16 instructions, a GPU's bfloat16 tensor cores (compute capability 8.0 on);
    None where bfloat16 would be emulated, slower than float32."""
    if device.type == "cuda":
        major, minor = torch.cuda.get_device_capability(device)
        return f"compute capability {major}.{minor}" if major >= 8 else None
    if torch.cpu._is_amx_tile_supported():
        return "AMX"
    if torch.cpu._is_avx512_bf16_supported():
        return "AVX512_BF16"
    return None


# CPU flags that set the matmul rate of float32 and bfloat16 (docs/performance.md)
_MATMUL_FLAGS = ("avx2", "avx512f", "avx512_bf16", "avx512_fp16", "amx_bf16", "amx_fp16")


def device_description(device: torch.device, cpuinfo: str | Path = "/proc/cpuinfo") -> str:
    """The device's model name, for shards and benchmark tables: a GPU's name, or a CPU's
    model and matmul-relevant flags (timings on different CPUs compare only by these)."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    model, flags = platform.processor() or "unknown CPU", set()
    try:
        for line in Path(cpuinfo).read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
            elif line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
    except OSError:  # not Linux: the model name platform reports, no flags
        return model
    return f"{model} ({', '.join(f for f in _MATMUL_FLAGS if f in flags) or 'no AVX2'})"


def resolve_dtype(dtype: str, device: torch.device, cpu_bfloat16: bool = True) -> tuple[torch.dtype, str]:
    """The compute dtype on `device`, and why. `auto` follows docs/performance.md ("Compute
    precision"): bfloat16 moves the paper's metrics by a small fraction of their bootstrap
    intervals and runs the snapshot faster where the device multiplies it natively, so
    bfloat16 there and float32 elsewhere. `cpu_bfloat16=False` keeps an analysis whose
    bfloat16 error is unmeasured (the causal test's perplexities) in float32 on the CPU."""
    if dtype != "auto":
        return DTYPES[dtype], "set by snapshot.compute_dtype"
    native = native_bfloat16(device)
    if native is None:
        return torch.float32, f"auto: the {device.type} has no native bfloat16"
    if device.type == "cpu" and not cpu_bfloat16:
        return torch.float32, "auto: bfloat16 is not measured for this analysis on the CPU"
    return torch.bfloat16, f"auto: the {device.type} multiplies bfloat16 natively ({native})"


def load_model(
    name: str,
    path: str,
    revision: str | None = None,
    device: str = "auto",
    dtype: str = "auto",
    cpu_bfloat16: bool = True,
) -> LoadedModel:
    """Load model `name` from `path` (hub id or local directory) in `dtype` (`resolve_dtype`).
    Respects HF_HUB_OFFLINE; a missing model is one ModelLoadError naming the config entry."""
    dev = resolve_device(device)
    torch_dtype, why = resolve_dtype(dtype, dev, cpu_bfloat16)
    try:
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
