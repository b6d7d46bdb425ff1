import builtins
"""nabla.nn: modules, layers and losses"""

from collections.abc import Callable, Iterator, Sequence
from typing import Any, overload

import nabla._C
from nabla._C.nn import (
    functional as functional,
    init as init,
    utils as utils
)


class RemovableHandle:
    """
    A registered hook; remove() removes it (torch.utils.hooks.RemovableHandle)
    """

    def remove(self) -> None: ...

    @property
    def id(self) -> builtins.int: ...

    def __enter__(self) -> object: ...

    def __exit__(self, *args: Any) -> None: ...

class Module:
    """Base of every layer; subclass it and define forward()"""

    def __init__(self) -> None: ...

    def forward(self, input: nabla._C.Tensor) -> nabla._C.Tensor: ...

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """
        forward(*args, **kwargs), then the forward hooks (hook(module, args, output), whose non-None result replaces the output) and the backward hooks.
        """

    def __setattr__(self, arg0: str, arg1: object | None, /) -> None: ...

    def register_parameter(self, name: str, param: nabla._C.Tensor) -> None: ...

    def register_buffer(self, name: str, tensor: nabla._C.Tensor) -> None: ...

    def add_module(self, name: str, module: Module) -> None: ...

    def parameters(self, recurse: builtins.bool = True) -> Iterator[nabla._C.Tensor]: ...

    def named_parameters(self, prefix: str = '', recurse: builtins.bool = True) -> Iterator[tuple[str, nabla._C.Tensor]]: ...

    def buffers(self, recurse: builtins.bool = True) -> Iterator[nabla._C.Tensor]: ...

    def named_buffers(self, prefix: str = '', recurse: builtins.bool = True) -> Iterator[tuple[str, nabla._C.Tensor]]: ...

    def children(self) -> Iterator[Module]: ...

    def named_children(self) -> Iterator[tuple[str, Module]]: ...

    def modules(self) -> Iterator[Module]:
        """This module and every one below it, each once (depth first)."""

    def named_modules(self, prefix: str = '') -> Iterator[tuple[str, Module]]:
        """
        (name, module) of this module (named prefix) and every one below it, each once.
        """

    def apply(self, fn: Callable[[Module], object]) -> Module:
        """
        Calls fn on every submodule (children first, recursively), then on self; returns self.
        """

    def num_parameters(self, trainable_only: builtins.bool = False) -> builtins.int: ...

    def state_dict(self) -> dict: ...

    def load_state_dict(self, state_dict: dict, strict: builtins.bool = True) -> None: ...

    def train(self, mode: builtins.bool = True) -> object: ...

    def eval(self) -> object: ...

    @property
    def training(self) -> builtins.bool: ...

    def to(self, device_or_dtype: object) -> object: ...

    def cuda(self, device: builtins.int = 0) -> object: ...

    def cpu(self) -> object: ...

    def double(self) -> object: ...

    def float(self) -> object: ...

    def zero_grad(self, set_to_none: builtins.bool = True) -> None: ...

    def register_forward_hook(self, hook: object) -> RemovableHandle:
        """
        Calls hook(module, args, output) after each forward (args: the positional arguments, a tuple); a result other than None replaces the output. Returns a handle: handle.remove() removes it.
        """

    @overload
    def remove_forward_hook(self, handle: builtins.int) -> None: ...

    @overload
    def remove_forward_hook(self, handle: RemovableHandle) -> None: ...

    def register_backward_hook(self, hook: object) -> RemovableHandle:
        """
        Calls hook(module, grad_output) during backward; returns a handle (handle.remove()).
        """

    @overload
    def remove_backward_hook(self, handle: builtins.int) -> None: ...

    @overload
    def remove_backward_hook(self, handle: RemovableHandle) -> None: ...

    def __getattr__(self, arg: str, /) -> object: ...

    def extra_repr(self) -> str: ...

    def __reduce_ex__(self, protocol: builtins.int) -> object: ...

    def __repr__(self) -> str: ...

    @property
    def type_name(self) -> str: ...

def Parameter(data: nabla._C.Tensor, requires_grad: builtins.bool = True) -> nabla._C.Tensor:
    """
    A leaf tensor for a module parameter (assigning it to a Module attribute registers it).
    """

class Sequential(Module):
    def __init__(self, *args) -> None: ...

    def append(self, module: Module) -> None: ...

    def forward(self, input: Any) -> Any: ...

    def __len__(self) -> builtins.int: ...

    def __getitem__(self, arg: builtins.int, /) -> Module: ...

class Linear(Module):
    def __init__(self, in_features: builtins.int, out_features: builtins.int, bias: builtins.bool = True, *, device: nabla._C.device | str | None = None, dtype: nabla._C.dtype | None = None) -> None: ...

    @property
    def in_features(self) -> builtins.int: ...

    @property
    def out_features(self) -> builtins.int: ...

    @property
    def weight(self) -> nabla._C.Tensor: ...

    @property
    def bias(self) -> nabla._C.Tensor: ...

class Identity(Module):
    def __init__(self, *args, **kwargs) -> None: ...

    def forward(self, input: Any) -> Any: ...

class Flatten(Module):
    def __init__(self, start_dim: builtins.int = 1, end_dim: builtins.int = -1) -> None: ...

class Dropout(Module):
    def __init__(self, p: builtins.float = 0.5, inplace: builtins.bool = False) -> None: ...

    @property
    def p(self) -> builtins.float: ...

    @property
    def inplace(self) -> builtins.bool: ...

class ReLU(Module):
    def __init__(self, inplace: builtins.bool = False) -> None: ...

    @property
    def inplace(self) -> builtins.bool: ...

class LeakyReLU(Module):
    def __init__(self, negative_slope: builtins.float = 0.01, inplace: builtins.bool = False) -> None: ...

    @property
    def negative_slope(self) -> builtins.float: ...

    @property
    def inplace(self) -> builtins.bool: ...

class Sigmoid(Module):
    def __init__(self) -> None: ...

class Tanh(Module):
    def __init__(self) -> None: ...

class Softmax(Module):
    def __init__(self, dim: builtins.int) -> None: ...

class LogSoftmax(Module):
    def __init__(self, dim: builtins.int) -> None: ...

class GELU(Module):
    def __init__(self) -> None: ...

class SiLU(Module):
    def __init__(self, inplace: builtins.bool = False) -> None: ...

    @property
    def inplace(self) -> builtins.bool: ...

class ELU(Module):
    def __init__(self, alpha: builtins.float = 1.0, inplace: builtins.bool = False) -> None: ...

    @property
    def alpha(self) -> builtins.float: ...

    @property
    def inplace(self) -> builtins.bool: ...

class Softplus(Module):
    def __init__(self, beta: builtins.float = 1.0, threshold: builtins.float = 20.0) -> None: ...

class Conv2d(Module):
    def __init__(self, in_channels: builtins.int, out_channels: builtins.int, kernel_size: builtins.int | tuple[builtins.int, builtins.int], stride: builtins.int | tuple[builtins.int, builtins.int] = 1, padding: builtins.int | tuple[builtins.int, builtins.int] = 0, dilation: builtins.int | tuple[builtins.int, builtins.int] = 1, groups: builtins.int = 1, bias: builtins.bool = True, *, device: nabla._C.device | str | None = None, dtype: nabla._C.dtype | None = None) -> None: ...

    @property
    def weight(self) -> nabla._C.Tensor: ...

    @property
    def bias(self) -> nabla._C.Tensor: ...

class ConvTranspose2d(Module):
    def __init__(self, in_channels: builtins.int, out_channels: builtins.int, kernel_size: builtins.int | tuple[builtins.int, builtins.int], stride: builtins.int | tuple[builtins.int, builtins.int] = 1, padding: builtins.int | tuple[builtins.int, builtins.int] = 0, output_padding: builtins.int | tuple[builtins.int, builtins.int] = 0, groups: builtins.int = 1, bias: builtins.bool = True, dilation: builtins.int | tuple[builtins.int, builtins.int] = 1, *, device: nabla._C.device | str | None = None, dtype: nabla._C.dtype | None = None) -> None: ...

    @property
    def weight(self) -> nabla._C.Tensor: ...

    @property
    def bias(self) -> nabla._C.Tensor: ...

class MaxPool2d(Module):
    def __init__(self, kernel_size: builtins.int | tuple[builtins.int, builtins.int], stride: builtins.int | tuple[builtins.int, builtins.int] | None = None, padding: builtins.int | tuple[builtins.int, builtins.int] = 0, dilation: builtins.int | tuple[builtins.int, builtins.int] = 1, ceil_mode: builtins.bool = False) -> None: ...

class AvgPool2d(Module):
    def __init__(self, kernel_size: builtins.int | tuple[builtins.int, builtins.int], stride: builtins.int | tuple[builtins.int, builtins.int] | None = None, padding: builtins.int | tuple[builtins.int, builtins.int] = 0, ceil_mode: builtins.bool = False, count_include_pad: builtins.bool = True) -> None: ...

class AdaptiveAvgPool2d(Module):
    def __init__(self, output_size: builtins.int | tuple[builtins.int, builtins.int]) -> None: ...

class BatchNorm(Module):
    @property
    def weight(self) -> nabla._C.Tensor: ...

    @property
    def bias(self) -> nabla._C.Tensor: ...

    @property
    def running_mean(self) -> nabla._C.Tensor: ...

    @property
    def running_var(self) -> nabla._C.Tensor: ...

class BatchNorm1d(BatchNorm):
    def __init__(self, num_features: builtins.int, eps: builtins.float = 1e-05, momentum: builtins.float = 0.1, affine: builtins.bool = True, track_running_stats: builtins.bool = True, *, device: nabla._C.device | str | None = None, dtype: nabla._C.dtype | None = None) -> None: ...

class BatchNorm2d(BatchNorm):
    def __init__(self, num_features: builtins.int, eps: builtins.float = 1e-05, momentum: builtins.float = 0.1, affine: builtins.bool = True, track_running_stats: builtins.bool = True, *, device: nabla._C.device | str | None = None, dtype: nabla._C.dtype | None = None) -> None: ...

class LayerNorm(Module):
    def __init__(self, normalized_shape: builtins.int | Sequence[builtins.int], eps: builtins.float = 1e-05, elementwise_affine: builtins.bool = True, *, device: nabla._C.device | str | None = None, dtype: nabla._C.dtype | None = None) -> None: ...

    @property
    def weight(self) -> nabla._C.Tensor: ...

    @property
    def bias(self) -> nabla._C.Tensor: ...

class Dropout2d(Module):
    def __init__(self, p: builtins.float = 0.5, inplace: builtins.bool = False) -> None: ...

    @property
    def p(self) -> builtins.float: ...

    @property
    def inplace(self) -> builtins.bool: ...

class RNNBase(Module):
    def forward(self, input: nabla._C.Tensor, hx: object | None = None) -> object: ...

    def flatten_parameters(self) -> None:
        """
        A no-op, as there is nothing to pack: on the CPU nothing is, and on CUDA the cuDNN kernel packs the weights itself on the first call and again only after a parameter changed.
        """

    @property
    def input_size(self) -> builtins.int: ...

    @property
    def hidden_size(self) -> builtins.int: ...

    @property
    def num_layers(self) -> builtins.int: ...

    @property
    def batch_first(self) -> builtins.bool: ...

    @property
    def bidirectional(self) -> builtins.bool: ...

    @property
    def flat_weights(self) -> list[nabla._C.Tensor]: ...

class RNN(RNNBase):
    def __init__(self, input_size: builtins.int, hidden_size: builtins.int, num_layers: builtins.int = 1, nonlinearity: str = 'tanh', bias: builtins.bool = True, batch_first: builtins.bool = False, dropout: builtins.float = 0.0, bidirectional: builtins.bool = False, *, device: nabla._C.device | str | None = None, dtype: nabla._C.dtype | None = None) -> None: ...

class LSTM(RNNBase):
    def __init__(self, input_size: builtins.int, hidden_size: builtins.int, num_layers: builtins.int = 1, bias: builtins.bool = True, batch_first: builtins.bool = False, dropout: builtins.float = 0.0, bidirectional: builtins.bool = False, *, device: nabla._C.device | str | None = None, dtype: nabla._C.dtype | None = None) -> None: ...

class GRU(RNNBase):
    def __init__(self, input_size: builtins.int, hidden_size: builtins.int, num_layers: builtins.int = 1, bias: builtins.bool = True, batch_first: builtins.bool = False, dropout: builtins.float = 0.0, bidirectional: builtins.bool = False, *, device: nabla._C.device | str | None = None, dtype: nabla._C.dtype | None = None) -> None: ...

class RNNCellBase(Module):
    @property
    def input_size(self) -> builtins.int: ...

    @property
    def hidden_size(self) -> builtins.int: ...

    @property
    def weight_ih(self) -> nabla._C.Tensor: ...

    @property
    def weight_hh(self) -> nabla._C.Tensor: ...

    @property
    def bias_ih(self) -> nabla._C.Tensor: ...

    @property
    def bias_hh(self) -> nabla._C.Tensor: ...

class RNNCell(RNNCellBase):
    def __init__(self, input_size: builtins.int, hidden_size: builtins.int, bias: builtins.bool = True, nonlinearity: str = 'tanh', *, device: nabla._C.device | str | None = None, dtype: nabla._C.dtype | None = None) -> None: ...

    def forward(self, input: nabla._C.Tensor, hx: nabla._C.Tensor | None = None) -> nabla._C.Tensor: ...

class LSTMCell(RNNCellBase):
    def __init__(self, input_size: builtins.int, hidden_size: builtins.int, bias: builtins.bool = True, *, device: nabla._C.device | str | None = None, dtype: nabla._C.dtype | None = None) -> None: ...

    def forward(self, input: nabla._C.Tensor, hx: tuple[nabla._C.Tensor, nabla._C.Tensor] | None = None) -> tuple[nabla._C.Tensor, nabla._C.Tensor]: ...

class GRUCell(RNNCellBase):
    def __init__(self, input_size: builtins.int, hidden_size: builtins.int, bias: builtins.bool = True, *, device: nabla._C.device | str | None = None, dtype: nabla._C.dtype | None = None) -> None: ...

    def forward(self, input: nabla._C.Tensor, hx: nabla._C.Tensor | None = None) -> nabla._C.Tensor: ...

class Embedding(Module):
    def __init__(self, num_embeddings: builtins.int, embedding_dim: builtins.int, padding_idx: builtins.int | None = None, *, device: nabla._C.device | str | None = None, dtype: nabla._C.dtype | None = None) -> None: ...

    @property
    def num_embeddings(self) -> builtins.int: ...

    @property
    def embedding_dim(self) -> builtins.int: ...

    @property
    def padding_idx(self) -> builtins.int | None: ...

    @property
    def weight(self) -> nabla._C.Tensor: ...

class Loss(Module):
    def forward(self, input: nabla._C.Tensor, target: nabla._C.Tensor) -> nabla._C.Tensor: ...  # type: ignore[override]

    def __call__(self, input: nabla._C.Tensor, target: nabla._C.Tensor) -> nabla._C.Tensor: ...

class MSELoss(Loss):
    def __init__(self, reduction: str = 'mean') -> None: ...

class L1Loss(Loss):
    def __init__(self, reduction: str = 'mean') -> None: ...

class SmoothL1Loss(Loss):
    def __init__(self, reduction: str = 'mean', beta: builtins.float = 1.0) -> None: ...

class CrossEntropyLoss(Loss):
    def __init__(self, weight: nabla._C.Tensor | None = None, ignore_index: builtins.int = -100, reduction: str = 'mean', label_smoothing: builtins.float = 0.0) -> None: ...

class NLLLoss(Loss):
    def __init__(self, weight: nabla._C.Tensor | None = None, ignore_index: builtins.int = -100, reduction: str = 'mean') -> None: ...

class BCELoss(Loss):
    def __init__(self, weight: nabla._C.Tensor | None = None, reduction: str = 'mean') -> None: ...

class BCEWithLogitsLoss(Loss):
    def __init__(self, weight: nabla._C.Tensor | None = None, reduction: str = 'mean', pos_weight: nabla._C.Tensor | None = None) -> None: ...

class HingeEmbeddingLoss(Loss):
    def __init__(self, margin: builtins.float = 1.0, reduction: str = 'mean') -> None: ...

class MultiMarginLoss(Loss):
    def __init__(self, p: builtins.int = 1, margin: builtins.float = 1.0, weight: nabla._C.Tensor | None = None, reduction: str = 'mean') -> None: ...

class MultiheadAttention(Module):
    """Multi-head attention, as torch.nn.MultiheadAttention"""

    def __init__(self, embed_dim: builtins.int, num_heads: builtins.int, dropout: builtins.float = 0.0, bias: builtins.bool = True, add_bias_kv: builtins.bool = False, add_zero_attn: builtins.bool = False, kdim: builtins.int | None = None, vdim: builtins.int | None = None, batch_first: builtins.bool = False, *, device: nabla._C.device | str | None = None, dtype: nabla._C.dtype | None = None) -> None: ...

    def forward(self, query: nabla._C.Tensor, key: nabla._C.Tensor, value: nabla._C.Tensor, key_padding_mask: nabla._C.Tensor | None = None, need_weights: builtins.bool = True, attn_mask: nabla._C.Tensor | None = None, average_attn_weights: builtins.bool = True) -> tuple[nabla._C.Tensor, nabla._C.Tensor | None]:  # type: ignore[override]
        """(attn_output, attn_output_weights or None when need_weights is False)"""

    @property
    def embed_dim(self) -> builtins.int: ...

    @property
    def num_heads(self) -> builtins.int: ...

    @property
    def head_dim(self) -> builtins.int: ...

    @property
    def kdim(self) -> builtins.int: ...

    @property
    def vdim(self) -> builtins.int: ...

    @property
    def dropout(self) -> builtins.float: ...

    @property
    def batch_first(self) -> builtins.bool: ...

    @property
    def add_zero_attn(self) -> builtins.bool: ...

    @property
    def in_proj_weight(self) -> nabla._C.Tensor | None: ...

    @property
    def in_proj_bias(self) -> nabla._C.Tensor | None: ...

    @property
    def q_proj_weight(self) -> nabla._C.Tensor | None: ...

    @property
    def k_proj_weight(self) -> nabla._C.Tensor | None: ...

    @property
    def v_proj_weight(self) -> nabla._C.Tensor | None: ...

    @property
    def bias_k(self) -> nabla._C.Tensor | None: ...

    @property
    def bias_v(self) -> nabla._C.Tensor | None: ...

    @property
    def out_proj(self) -> Linear: ...

class TransformerEncoderLayer(Module):
    """Self-attention and feed-forward, as torch.nn.TransformerEncoderLayer"""

    def __init__(self, d_model: builtins.int, nhead: builtins.int, dim_feedforward: builtins.int = 2048, dropout: builtins.float = 0.1, activation: str | Callable[[nabla._C.Tensor], nabla._C.Tensor] = 'relu', layer_norm_eps: builtins.float = 1e-05, batch_first: builtins.bool = False, norm_first: builtins.bool = False, *, device: nabla._C.device | str | None = None, dtype: nabla._C.dtype | None = None) -> None: ...

    def forward(self, src: nabla._C.Tensor, src_mask: nabla._C.Tensor | None = None, src_key_padding_mask: nabla._C.Tensor | None = None) -> nabla._C.Tensor: ...  # type: ignore[override]

    def __deepcopy__(self, memo: object) -> TransformerEncoderLayer:
        """An independent copy (what TransformerEncoder makes of its layer)"""

    @property
    def norm_first(self) -> builtins.bool: ...

class TransformerDecoderLayer(Module):
    """
    Self-attention, memory attention and feed-forward, as torch.nn.TransformerDecoderLayer
    """

    def __init__(self, d_model: builtins.int, nhead: builtins.int, dim_feedforward: builtins.int = 2048, dropout: builtins.float = 0.1, activation: str | Callable[[nabla._C.Tensor], nabla._C.Tensor] = 'relu', layer_norm_eps: builtins.float = 1e-05, batch_first: builtins.bool = False, norm_first: builtins.bool = False, *, device: nabla._C.device | str | None = None, dtype: nabla._C.dtype | None = None) -> None: ...

    def forward(self, tgt: nabla._C.Tensor, memory: nabla._C.Tensor, tgt_mask: nabla._C.Tensor | None = None, memory_mask: nabla._C.Tensor | None = None, tgt_key_padding_mask: nabla._C.Tensor | None = None, memory_key_padding_mask: nabla._C.Tensor | None = None) -> nabla._C.Tensor: ...  # type: ignore[override]

    def __deepcopy__(self, memo: object) -> TransformerDecoderLayer:
        """An independent copy (what TransformerDecoder makes of its layer)"""

    @property
    def norm_first(self) -> builtins.bool: ...

class TransformerEncoder(Module):
    """num_layers copies of an encoder layer, as torch.nn.TransformerEncoder"""

    def __init__(self, encoder_layer: TransformerEncoderLayer, num_layers: builtins.int, norm: Module | None = None, enable_nested_tensor: builtins.bool = True, mask_check: builtins.bool = True) -> None: ...

    def forward(self, src: nabla._C.Tensor, mask: nabla._C.Tensor | None = None, src_key_padding_mask: nabla._C.Tensor | None = None) -> nabla._C.Tensor: ...  # type: ignore[override]

    @property
    def num_layers(self) -> builtins.int: ...

class TransformerDecoder(Module):
    """num_layers copies of a decoder layer, as torch.nn.TransformerDecoder"""

    def __init__(self, decoder_layer: TransformerDecoderLayer, num_layers: builtins.int, norm: Module | None = None) -> None: ...

    def forward(self, tgt: nabla._C.Tensor, memory: nabla._C.Tensor, tgt_mask: nabla._C.Tensor | None = None, memory_mask: nabla._C.Tensor | None = None, tgt_key_padding_mask: nabla._C.Tensor | None = None, memory_key_padding_mask: nabla._C.Tensor | None = None) -> nabla._C.Tensor: ...  # type: ignore[override]

    @property
    def num_layers(self) -> builtins.int: ...

class Transformer(Module):
    """Encoder and decoder, as torch.nn.Transformer"""

    def __init__(self, d_model: builtins.int = 512, nhead: builtins.int = 8, num_encoder_layers: builtins.int = 6, num_decoder_layers: builtins.int = 6, dim_feedforward: builtins.int = 2048, dropout: builtins.float = 0.1, activation: str | Callable[[nabla._C.Tensor], nabla._C.Tensor] = 'relu', custom_encoder: Module | None = None, custom_decoder: Module | None = None, layer_norm_eps: builtins.float = 1e-05, batch_first: builtins.bool = False, norm_first: builtins.bool = False, *, device: nabla._C.device | str | None = None, dtype: nabla._C.dtype | None = None) -> None: ...

    def forward(self, src: nabla._C.Tensor, tgt: nabla._C.Tensor, src_mask: nabla._C.Tensor | None = None, tgt_mask: nabla._C.Tensor | None = None, memory_mask: nabla._C.Tensor | None = None, src_key_padding_mask: nabla._C.Tensor | None = None, tgt_key_padding_mask: nabla._C.Tensor | None = None, memory_key_padding_mask: nabla._C.Tensor | None = None) -> nabla._C.Tensor: ...  # type: ignore[override]

    @staticmethod
    def generate_square_subsequent_mask(sz: builtins.int, device: nabla._C.device | str = 'cpu') -> nabla._C.Tensor:
        """[sz, sz] float: -inf above the diagonal, 0.0 on and below it"""

    @property
    def d_model(self) -> builtins.int: ...

    @property
    def nhead(self) -> builtins.int: ...

    @property
    def batch_first(self) -> builtins.bool: ...
