"""STLD's TF head: transformer-decoder landmark regression (coordinate model).

Architecture (paper Sec. IV-B2, Fig. 5b; details from the authors' release):
backbone C5 -> 1x1 projection to d -> sine position encoding -> decoder only (no encoder):
``num_layers`` post-norm layers (:class:`STLDDecoderLayer`), final LayerNorm. N landmark
queries: content queries initialised *from the image* (a linear layer over the pooled memory,
d -> N*d, small init), learned positional query embeddings. Each refined query goes through an
MLP d -> 512 -> 512 and two parallel linear outputs: the main one and the shrink one (used for
pseudo-labeled samples while the shrink power p differs from 1). Coordinates are normalised to
[0, 1] of the input crop (:class:`mmpose.codecs.RegressionLabel`). The loss is on the last
decoder layer only.

Loss (source-aware): ``L = mean(w_gt * L1(main)) + lambda * mean(w_ps * |shrink - y|^p / p)``,
both means over the whole batch as in the release, so lambda is a per-sample weight.
"""
from typing import Optional, Tuple, Union

import numpy as np
import torch
from mmdet.models.layers import SinePositionalEncoding
from mmpose.evaluation.functional import keypoint_pck_accuracy
from mmpose.models.heads import RegressionHead
from mmpose.models.heads.base_head import BaseHead
from mmpose.registry import KEYPOINT_CODECS, MODELS
from mmpose.utils.tensor_utils import to_numpy
from mmpose.utils.typing import ConfigType, OptConfigType, OptSampleList
from torch import Tensor, nn

from mmssl.datasets.transforms.stld_source import pseudo_flags
from ..losses.shrink_loss import LpShrinkLoss
from .stld_decoder_layer import STLDDecoderLayer
from .stld_heatmap_head import zero_touch


@MODELS.register_module()
class STLDTransformerHead(BaseHead):
    """Transformer-decoder coordinate head with main + shrink outputs.

    Args:
        in_channels (int): Channels of the last backbone/neck feature map.
        num_keypoints (int): N, number of landmarks (= number of queries).
        embed_dims (int): d. Defaults to 256.
        num_layers (int): Decoder layers. Defaults to 4.
        num_heads (int): Attention heads. Defaults to 8.
        ffn_channels (int): FFN hidden size. Defaults to 2048.
        dropout (float): Defaults to 0.1.
        mlp_channels (int): Hidden size of the output MLP. Defaults to 512.
        query_init_std (float): Init std of the dynamic query layer. Defaults to 0.001.
        loss (dict): Loss of ground-truth samples. Defaults to L1 (``LpShrinkLoss``, p=1).
        shrink_p (float): p of the shrink loss on pseudo-labeled samples. Defaults to 1.0.
        pseudo_loss_weight (float): lambda. Defaults to 1.0.
        shrink_branch (bool, optional): Route pseudo-labeled samples through the shrink
            output; ``None`` means ``shrink_p != 1`` (the release merges the outputs at p=1).
        decoder (dict, optional): Codec config, ``RegressionLabel``.
        init_cfg (dict, optional): Extra init config.
    """

    #: what the self-training runner's curriculum controls for this head
    shrink_kind = 'lp'

    def __init__(self,
                 in_channels: int,
                 num_keypoints: int,
                 embed_dims: int = 256,
                 num_layers: int = 4,
                 num_heads: int = 8,
                 ffn_channels: int = 2048,
                 dropout: float = 0.1,
                 mlp_channels: int = 512,
                 query_init_std: float = 0.001,
                 loss: ConfigType = dict(type='LpShrinkLoss', p=1.0, use_target_weight=True),
                 shrink_p: float = 1.0,
                 pseudo_loss_weight: float = 1.0,
                 shrink_branch: Optional[bool] = None,
                 decoder: OptConfigType = None,
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(init_cfg)
        if embed_dims % 2:
            raise ValueError(f'embed_dims must be even (sine encoding), got {embed_dims}')
        if pseudo_loss_weight < 0:
            raise ValueError(f'pseudo_loss_weight must be >= 0, got {pseudo_loss_weight}')
        self.in_channels = in_channels
        self.num_keypoints = num_keypoints
        self.embed_dims = embed_dims
        self.query_init_std = query_init_std
        self.loss_module = MODELS.build(loss)
        self.shrink_loss = LpShrinkLoss(p=shrink_p, use_target_weight=True)
        self.shrink_p = float(shrink_p)
        self.pseudo_loss_weight = float(pseudo_loss_weight)
        self.shrink_branch = (self.shrink_p != 1.0) if shrink_branch is None else bool(
            shrink_branch)
        self.decoder = KEYPOINT_CODECS.build(decoder) if decoder is not None else None

        self.input_proj = nn.Conv2d(in_channels, embed_dims, kernel_size=1)
        self.pos_enc = SinePositionalEncoding(num_feats=embed_dims // 2, normalize=True)
        self.query_init = nn.Linear(embed_dims, num_keypoints * embed_dims)
        self.query_pos = nn.Embedding(num_keypoints, embed_dims)
        self.layers = nn.ModuleList([
            STLDDecoderLayer(num_keypoints, embed_dims, num_heads, ffn_channels, dropout)
            for _ in range(num_layers)
        ])
        self.norm = nn.LayerNorm(embed_dims)
        self.mlp = nn.Sequential(
            nn.Linear(embed_dims, mlp_channels), nn.ReLU(inplace=True),
            nn.Linear(mlp_channels, mlp_channels), nn.ReLU(inplace=True))
        self.out_main = nn.Linear(mlp_channels, 2)
        self.out_shrink = nn.Linear(mlp_channels, 2)
        self._reset_decoder()

    def _reset_decoder(self) -> None:
        """Release init: Xavier for the decoder's matrices, small-std dynamic queries."""
        for layer in self.layers:
            for name, p in layer.named_parameters():
                if p.dim() > 1 and not name.startswith('query_map'):
                    nn.init.xavier_uniform_(p)
            layer.query_map.reset_parameters()
        nn.init.normal_(self.query_init.weight, std=self.query_init_std)
        nn.init.zeros_(self.query_init.bias)

    def init_weights(self) -> None:
        super().init_weights()
        self._reset_decoder()

    def forward_both(self, feats: Union[Tuple[Tensor], Tensor]) -> Tuple[Tensor, Tensor]:
        """Main and shrink coordinates, each ``(B, K, 2)`` normalised to the input crop."""
        x = feats[-1] if isinstance(feats, (list, tuple)) else feats
        x = self.input_proj(x)
        b, d = x.shape[:2]
        pos = self.pos_enc(None, x).flatten(2).transpose(1, 2)  # (B, HW, d)
        memory = x.flatten(2).transpose(1, 2)  # (B, HW, d)
        query = self.query_init(memory.mean(dim=1)).view(b, self.num_keypoints, d)
        query_pos = self.query_pos.weight.unsqueeze(0)
        for layer in self.layers:
            query = layer(query, memory, pos, query_pos)
        hidden = self.mlp(self.norm(query))
        return self.out_main(hidden), self.out_shrink(hidden)

    def forward(self, feats: Tuple[Tensor]) -> Tensor:
        """Main-output coordinates ``(B, K, 2)`` (what prediction uses)."""
        return self.forward_both(feats)[0]

    #: prediction is mmpose's ``RegressionHead.predict`` (flip test included): it uses only
    #: ``self.forward`` (the main output, ``(B, K, 2)``) and ``self.decode``, as this head has
    predict = RegressionHead.predict

    def loss(self, feats: Tuple[Tensor], batch_data_samples: OptSampleList,
             train_cfg: ConfigType = {}) -> dict:
        """Source-aware coordinate loss (see the module docstring)."""
        main, shrink = self.forward_both(feats)
        labels = torch.cat([d.gt_instance_labels.keypoint_labels for d in batch_data_samples])
        weights = torch.cat(
            [d.gt_instance_labels.keypoint_weights for d in batch_data_samples])
        pseudo = torch.tensor(pseudo_flags(batch_data_samples), device=main.device)
        labeled = ~pseudo
        lam = self.pseudo_loss_weight
        losses = dict()
        if self.shrink_branch:
            losses['loss_kpt'] = self.loss_module(main, labels, weights * labeled[:, None])
            losses['loss_kpt_pseudo'] = lam * self.shrink_loss(
                shrink, labels, weights * pseudo[:, None], p=self.shrink_p)
        else:
            sample_w = torch.where(pseudo, torch.full_like(weights[:, 0], lam),
                                   torch.ones_like(weights[:, 0]))
            losses['loss_kpt'] = self.loss_module(main, labels, weights * sample_w[:, None]) \
                + zero_touch(self.out_shrink)
        losses['pseudo_frac'] = pseudo.float().mean()
        if bool(labeled.any()):
            _, avg_acc, _ = keypoint_pck_accuracy(
                pred=to_numpy(main[labeled]), gt=to_numpy(labels[labeled]),
                mask=to_numpy(weights[labeled]) > 0, thr=0.05,
                norm_factor=np.ones((int(labeled.sum()), 2), dtype=np.float32))
            losses['acc_pose'] = torch.tensor(avg_acc, device=main.device)
        return losses
