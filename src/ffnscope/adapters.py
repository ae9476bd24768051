"""FFN adapters: the only place that knows each architecture family's module names.

Every supported FFN computes  out = W2 · f(x)  where W2 is the FFN's second linear
sublayer. The paper's *detector* vector is the input of W2 (post-activation; for gated FFNs
act(gate(x)) * up(x)) and its *combinator* vector is the output of W2. An adapter names the
decoder-layer list, W2 and the first linear sublayer (W1, or the gate of a gated FFN, whose
raw output is what the authors' scripts stored as detectors), the FFN family (ffnscope.neurons)
and where the model's config names its FFN activation function.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from .activations import check_activation


@dataclass(frozen=True)
class FFNAdapter:
    family: str
    layers: str  # attribute path from the base model to the list of decoder layers
    first_linear: str  # path from a decoder layer to W1 (gated: gate_proj)
    second_linear: str  # path from a decoder layer to W2
    ffn_family: str = "plain"  # "gated": W2(act(gate x) * up x); "plain": W2(act(W1 x))
    # config attributes naming the activation (transformers' ACT2FN key), first present wins;
    # a str starting with "=" is the family's fixed activation (BLOOM's config names none)
    activation_keys: tuple[str, ...] = ("activation_function",)

    def activation_of(self, config) -> str:
        """The FFN activation function of a model with transformers config `config`."""
        for key in self.activation_keys:
            if key.startswith("="):
                return check_activation(key[1:])
            if getattr(config, key, None):
                return check_activation(getattr(config, key))
        raise ValueError(f"{self.family} model config names no FFN activation (looked for {self.activation_keys})")

    def decoder_layers(self, base_model: nn.Module) -> nn.ModuleList:
        return base_model.get_submodule(self.layers)

    def first_linear_of(self, layer: nn.Module) -> nn.Module:
        return layer.get_submodule(self.first_linear)

    def second_linear_of(self, layer: nn.Module) -> nn.Module:
        return layer.get_submodule(self.second_linear)

    def module_names(self, layer_index: int) -> dict[str, str]:
        """Qualified names (relative to the base model) of the hooked modules of a layer."""
        prefix = f"{self.layers}.{layer_index}"
        return {
            "first_linear": f"{prefix}.{self.first_linear}",
            "second_linear": f"{prefix}.{self.second_linear}",
        }


_GATED = ("layers", "mlp.gate_proj", "mlp.down_proj", "gated")
ADAPTERS: dict[str, FFNAdapter] = {
    "xglm": FFNAdapter("xglm", "layers", "fc1", "fc2"),
    "opt": FFNAdapter("opt", "decoder.layers", "fc1", "fc2"),
    "gpt2": FFNAdapter("gpt2", "h", "mlp.c_fc", "mlp.c_proj"),
    "bloom": FFNAdapter("bloom", "h", "mlp.dense_h_to_4h", "mlp.dense_4h_to_h", activation_keys=("=bloom_gelu",)),
    **{
        model_type: FFNAdapter(model_type, *_GATED, ("hidden_act",))
        for model_type in ("llama", "mistral", "qwen2", "qwen3")
    },
    # Gemma's MLP reads hidden_activation (older Gemma configs only hidden_act)
    **{
        model_type: FFNAdapter(model_type, *_GATED, ("hidden_activation", "hidden_act"))
        for model_type in ("gemma", "gemma2", "gemma3_text")
    },
}


class UnsupportedArchitecture(ValueError):
    pass


def adapter_for(model_type: str) -> FFNAdapter:
    """The adapter for a transformers `config.model_type`; an error lists the supported ones."""
    try:
        return ADAPTERS[model_type]
    except KeyError:
        raise UnsupportedArchitecture(
            f"no FFN adapter for model_type {model_type!r}; supported: {', '.join(sorted(ADAPTERS))}"
        ) from None
