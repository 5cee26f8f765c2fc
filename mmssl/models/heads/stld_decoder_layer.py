"""Transformer decoder layer of STLD's TF landmark head.

A post-norm DETR decoder layer (self-attention, cross-attention, FFN, each followed by
residual + LayerNorm) with one addition taken from the authors' release: after
cross-attention every landmark query passes its *own* linear map + ReLU (a grouped 1x1
convolution with one group per query), so each landmark can specialise what it reads from
the image memory. The per-query map is computed for the whole batch with one ``einsum``.
"""
import math
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class PerQueryLinear(nn.Module):
    """``y[b, n] = x[b, n] @ W[n] + b[n]``: one linear map per query (grouped 1x1 conv).

    Args:
        num_queries (int): N, the number of queries (landmarks).
        dims (int): Feature size of each query.
    """

    def __init__(self, num_queries: int, dims: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(num_queries, dims, dims))
        self.bias = nn.Parameter(torch.zeros(num_queries, dims))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # Xavier-uniform with the fans of the equivalent grouped Conv2d(N*d, N*d, groups=N):
        # fan_in = d, fan_out = N * d (what the release's xavier init sees).
        n, d, _ = self.weight.shape
        bound = math.sqrt(6.0 / (d + n * d))
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.zeros_(self.bias)

    def forward(self, x: Tensor) -> Tensor:
        """``x``: ``(B, N, d)`` -> ``(B, N, d)``."""
        return torch.einsum('bnd,nde->bne', x, self.weight) + self.bias


class STLDDecoderLayer(nn.Module):
    """Post-norm decoder layer with a per-query map after cross-attention.

    Args:
        num_queries (int): Number of landmark queries.
        embed_dims (int): Feature size d. Defaults to 256.
        num_heads (int): Attention heads. Defaults to 8.
        ffn_channels (int): Hidden size of the FFN. Defaults to 2048.
        dropout (float): Dropout of attention and FFN. Defaults to 0.1.
    """

    def __init__(self, num_queries: int, embed_dims: int = 256, num_heads: int = 8,
                 ffn_channels: int = 2048, dropout: float = 0.1) -> None:
        super().__init__()
        if embed_dims % num_heads:
            raise ValueError(f'embed_dims ({embed_dims}) must be divisible by num_heads '
                             f'({num_heads})')
        self.self_attn = nn.MultiheadAttention(embed_dims, num_heads, dropout=dropout,
                                               batch_first=True)
        self.cross_attn = nn.MultiheadAttention(embed_dims, num_heads, dropout=dropout,
                                                batch_first=True)
        self.query_map = PerQueryLinear(num_queries, embed_dims)
        self.linear1 = nn.Linear(embed_dims, ffn_channels)
        self.linear2 = nn.Linear(ffn_channels, embed_dims)
        self.norm1 = nn.LayerNorm(embed_dims)
        self.norm2 = nn.LayerNorm(embed_dims)
        self.norm3 = nn.LayerNorm(embed_dims)
        self.dropout = nn.Dropout(dropout)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)
        self.dropout3 = nn.Dropout(dropout)

    def forward(self, query: Tensor, memory: Tensor, memory_pos: Tensor,
                query_pos: Optional[Tensor] = None) -> Tensor:
        """Refine the queries.

        Args:
            query (Tensor): Content queries ``(B, N, d)``.
            memory (Tensor): Image memory ``(B, HW, d)``.
            memory_pos (Tensor): Position encoding of the memory ``(B, HW, d)``.
            query_pos (Tensor, optional): Positional query embedding ``(1 or B, N, d)``.

        Returns:
            Tensor: The refined queries ``(B, N, d)``.
        """
        q = query if query_pos is None else query + query_pos
        out = self.self_attn(q, q, query, need_weights=False)[0]
        query = self.norm1(query + self.dropout1(out))
        q = query if query_pos is None else query + query_pos
        out = self.cross_attn(q, memory + memory_pos, memory, need_weights=False)[0]
        out = F.relu(self.query_map(out))
        query = self.norm2(query + self.dropout2(out))
        out = self.linear2(self.dropout(F.relu(self.linear1(query))))
        return self.norm3(query + self.dropout3(out))
