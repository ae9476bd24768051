"""Loading a causal LM and its tokenizer from a hub id or a local directory."""

from __future__ import annotations

import os
from dataclasses import dataclass

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

    @property
    def base(self) -> torch.nn.Module:
        """The decoder stack without the LM head."""
        return self.model.base_model


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def resolve_dtype(dtype: str, device: torch.device) -> torch.dtype:
    """`auto` is bfloat16 on a GPU (half the memory, tensor cores) and float32 on the CPU,
    where bfloat16 matmuls are slow and lose precision for nothing."""
    if dtype == "auto":
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    return DTYPES[dtype]


def load_model(
    name: str, path: str, revision: str | None = None, device: str = "auto", dtype: str = "auto"
) -> LoadedModel:
    """Load model `name` from `path` (hub id or local directory). Respects HF_HUB_OFFLINE;
    a missing model is one ModelLoadError naming the config entry."""
    dev = resolve_device(device)
    torch_dtype = resolve_dtype(dtype, dev)
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
    return LoadedModel(model, tokenizer, adapter, dev, torch_dtype, revision or sha or "local")
