"""ffnscope: detector/combinator analyses of FFN sublayers in multilingual causal LMs."""

__version__ = "0.1.0"
