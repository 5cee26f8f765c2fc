"""PoseDual consistency for top-down heads without heatmap outputs, through their codecs.

A heatmap teacher is moved to the hard view by warping its heatmaps (``pose_dual.py``). The
other top-down heads of MMPose predict coordinates (``RegressionHead``, ``RLEHead``,
``IntegralRegressionHead``, ``DSNTHead``) or 1-D coordinate distributions (``RTMCCHead``,
``SimCCHead``), which cannot be warped. Here a teacher's easy-view output is *decoded* by its
head's codec (keypoints in input pixels + scores), the keypoints are mapped to the hard view
with the same pixel matrix that warped the images (``apply_to_points``) and *encoded* by the
student's codec into the student's training target, on the batch tensor; the student trains
with its head's own ``loss_module``, each keypoint weighted by the teacher's score.

One :class:`CodecConsistency` per network knows its head family: how to run the head, decode
a batch, encode a batch (the semantics of the mmpose codec's ``encode``, checked against it by
the tests), call its loss and average several networks for the ensemble.
"""
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.structures import InstanceData
from mmpose.models.heads import (DSNTHead, IntegralRegressionHead, RegressionHead, RLEHead,
                                 RTMCCHead, SimCCHead)
from mmpose.models.pose_estimators import TopdownPoseEstimator
from mmpose.models.utils.tta import flip_vectors

Output = object  # a head's raw forward output: a tensor or a tuple of tensors


class CodecConsistency:
    """Decode / encode / loss of one estimator's head on whole batches.

    Args:
        net: the top-down estimator.
        name: its name in the wrapper (``net1``), for error messages.
    """

    #: whether the head reports a confidence worth logging as the collapse ``response``
    has_confidence = True

    def __init__(self, net: TopdownPoseEstimator, name: str) -> None:
        self.head = net.head
        self.codec = self.head.decoder
        self.name = name
        size = getattr(self.codec, 'input_size', None)
        if size is None:  # IntegralRegressionLabel keeps it in its keypoint codec
            size = self.codec.keypoint_codec.input_size
        self.input_size = tuple(int(v) for v in size)  # (w, h)

    # -------------------------------------------------------------- per family
    def forward(self, net: TopdownPoseEstimator, images: torch.Tensor) -> Output:
        return self.head.forward(net.extract_feat(images))

    def decode(self, out: Output) -> Tuple[torch.Tensor, torch.Tensor]:
        """``(keypoints [B, K, 2] in input pixels, scores [B, K])`` as the codec decodes."""
        raise NotImplementedError

    def confidence(self, out: Output) -> torch.Tensor:
        """``[B, K]`` confidence logged as the response (defaults to the decoded scores)."""
        return self.decode(out)[1]

    def encode(self, keypoints: torch.Tensor,
               weights: torch.Tensor) -> Tuple[tuple, torch.Tensor]:
        """Training target of hard-view ``keypoints`` and the keypoint weights (zeroed where
        the codec would drop a keypoint, e.g. outside the input)."""
        raise NotImplementedError

    def loss(self, pred: Output, target: tuple, weights: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def predict(self, net, feats, samples: list, test_cfg: dict
                ) -> Tuple[List[InstanceData], Output]:
        """The head's predictions and what :meth:`ensemble` averages."""
        preds = self.head.predict(feats, samples, test_cfg=test_cfg)
        return preds, preds

    def ensemble(self, per_net: Sequence[Output]) -> List[InstanceData]:
        """Score-weighted mean of the networks' decoded keypoints (equal weights where all
        scores are 0); scores are the networks' mean."""
        out = []
        for insts in zip(*per_net):
            kpts = np.stack([i.keypoints for i in insts])  # [M, N, K, 2]
            scores = np.stack([i.keypoint_scores for i in insts]).astype(np.float64)
            w = np.clip(scores, 0, None)
            w = np.where(w.sum(0, keepdims=True) > 0, w, 1.)
            mean = (kpts * w[..., None]).sum(0) / w.sum(0)[..., None]
            out.append(InstanceData(keypoints=mean.astype(np.float32),
                                    keypoint_scores=scores.mean(0).astype(np.float32)))
        return out

    # -------------------------------------------------------------- shared
    def in_bounds(self, keypoints: torch.Tensor) -> torch.Tensor:
        w, h = self.input_size
        return ((keypoints[..., 0] >= 0) & (keypoints[..., 0] <= w - 1) &
                (keypoints[..., 1] >= 0) & (keypoints[..., 1] <= h - 1))


class SimCCConsistency(CodecConsistency):
    """``RTMCCHead`` / ``SimCCHead`` with a ``SimCCLabel`` codec (RTMPose).

    Decoding is mmpose's ``get_simcc_maximum`` on the batch (argmax per axis divided by
    ``simcc_split_ratio``; score = the smaller of the two axis maxima, the "SimCC maximum"
    logged as the response). Encoding builds the Gaussian (or standard/label-smoothed) 1-D
    labels of ``SimCCLabel.encode`` for the whole batch at once. The ensemble averages the
    networks' SimCC vectors (each flip-tested as its head does) and decodes the mean.
    """

    def decode(self, out):
        pred_x, pred_y = out
        max_x, loc_x = pred_x.max(-1)
        max_y, loc_y = pred_y.max(-1)
        scores = torch.minimum(max_x, max_y)
        kpts = torch.stack([loc_x, loc_y], -1).to(pred_x.dtype)
        kpts = torch.where((scores <= 0)[..., None], torch.full_like(kpts, -1), kpts)
        return kpts / self.codec.simcc_split_ratio, scores

    def encode(self, keypoints, weights):
        codec = self.codec
        ratio = codec.simcc_split_ratio
        w, h = self.input_size
        size_x, size_y = int(np.around(w * ratio)), int(np.around(h * ratio))
        mu = torch.round(keypoints * ratio)  # np.around: half to even, as torch.round
        xs = torch.arange(size_x, device=mu.device, dtype=mu.dtype)
        ys = torch.arange(size_y, device=mu.device, dtype=mu.dtype)
        if codec.smoothing_type == 'gaussian':
            sigma = [float(s) for s in codec.sigma]
            radius = torch.tensor([3 * s for s in sigma], device=mu.device, dtype=mu.dtype)
            lo, hi = mu - radius, mu + radius + 1
            keep = ~((lo[..., 0] >= size_x) | (lo[..., 1] >= size_y) | (hi[..., 0] < 0) |
                     (hi[..., 1] < 0))
            tx = torch.exp(-(xs - mu[..., :1])**2 / (2 * sigma[0]**2))
            ty = torch.exp(-(ys - mu[..., 1:])**2 / (2 * sigma[1]**2))
            if codec.normalize:
                tx = tx / (sigma[0] * np.sqrt(np.pi * 2))
                ty = ty / (sigma[1] * np.sqrt(np.pi * 2))
        else:  # 'standard': one-hot, optionally label-smoothed
            keep = ((mu[..., 0] >= 0) & (mu[..., 0] < size_x) & (mu[..., 1] >= 0) &
                    (mu[..., 1] < size_y))
            smooth = codec.label_smooth_weight
            tx = (xs == mu[..., :1]).to(mu.dtype) * (1 - smooth)
            ty = (ys == mu[..., 1:]).to(mu.dtype) * (1 - smooth)
            if smooth > 0:
                tx = tx + (xs != mu[..., :1]).to(mu.dtype) * smooth / (size_x - 1)
                ty = ty + (ys != mu[..., 1:]).to(mu.dtype) * smooth / (size_y - 1)
        keep = keep.to(tx.dtype)
        return (tx * keep[..., None], ty * keep[..., None]), weights * keep

    def loss(self, pred, target, weights):
        return self.head.loss_module(tuple(pred), tuple(target), weights)

    def predict(self, net, feats, samples, test_cfg):
        """The SimCC vectors the head decodes (flip-averaged as ``RTMCCHead.predict`` does
        under ``flip_test``) and their decoded predictions."""
        if test_cfg.get('flip_test', False):
            x, y = self.head.forward(feats[0])
            fx, fy = flip_vectors(*self.head.forward(feats[1]),
                                  flip_indices=samples[0].metainfo['flip_indices'])
            out = ((x + fx) * 0.5, (y + fy) * 0.5)
        else:
            out = self.head.forward(feats)
        return self.head.decode(out), out

    def ensemble(self, per_net):
        xs, ys = zip(*per_net)
        return self.head.decode((torch.stack(xs).mean(0), torch.stack(ys).mean(0)))


class RegressionConsistency(CodecConsistency):
    """``RegressionHead`` with a ``RegressionLabel`` codec: normalised coordinates; every
    decoded score is 1 (the codec's), so there is no confidence to log."""

    has_confidence = False

    def coords(self, out) -> torch.Tensor:
        return out[..., :2]

    def decode(self, out):
        coords = self.coords(out)
        scale = coords.new_tensor(self.input_size)
        return coords * scale, coords.new_ones(coords.shape[:2])

    def encode(self, keypoints, weights):
        labels = keypoints / keypoints.new_tensor(self.input_size)
        return (labels, ), weights * self.in_bounds(keypoints).to(weights.dtype)

    def loss(self, pred, target, weights):
        return self.head.loss_module(self.coords(pred), target[0], weights[..., None])


class RLEConsistency(RegressionConsistency):
    """``RLEHead``: coordinates + sigma; score = ``1 - mean(sigmoid(sigma))`` (the codec's
    score of the sigmoid-ed sigma ``RLEHead.predict`` decodes), logged as the response."""

    has_confidence = True

    def decode(self, out):
        kpts, _ = super().decode(out)
        return kpts, 1 - out[..., 2:4].sigmoid().mean(-1)

    def loss(self, pred, target, weights):
        return self.head.loss_module(pred[..., :2], pred[..., 2:4], target[0],
                                     weights[..., None])


class IntegralConsistency(RegressionConsistency):
    """``IntegralRegressionHead`` (and ``DSNTHead``): soft-argmax coordinates of a heatmap;
    scores are the codec's (1), the logged response is the maximum of the softmax heatmap."""

    has_confidence = True

    def coords(self, out):
        return out[0]

    def confidence(self, out):
        return out[1].flatten(2).amax(-1)

    def loss(self, pred, target, weights):
        return self.head.loss_module(pred[0], target[0], weights)


class DSNTConsistency(IntegralConsistency):
    """``DSNTHead``: its loss also compares the heatmap with the codec's normalised Gaussian
    heatmap (``IntegralRegressionLabel``), until epoch ``lambda_t`` as the head does."""

    def encode(self, keypoints, weights):
        # here, not at the top: augmenters.asr_warp imports this package's batch_augment
        from ..augmenters.asr_warp import codec_geometry, render_msra_heatmaps
        (labels, ), coord_weights = super().encode(keypoints, weights)
        geo = codec_geometry(self.codec.heatmap_codec)
        # as the codec: a Gaussian also for a keypoint just off the input (weight 0)
        heatmaps, weights = render_msra_heatmaps(keypoints, weights, geo['heatmap_size'],
                                                 geo['stride'], float(geo['sigma']),
                                                 geo['unbiased'])
        weights = torch.minimum(weights, coord_weights)
        if self.codec.normalize:
            heatmaps = heatmaps / (heatmaps.sum((-1, -2), keepdim=True) + 1e-24)
        return (labels, heatmaps), weights

    def loss(self, pred, target, weights):
        from mmengine.logging import MessageHub
        coord_loss, heatmap_loss = self.head.loss_module(list(pred), list(target), weights)
        lambda_t = self.head.lambda_t
        epoch = MessageHub.get_current_instance().get_info('epoch', 0)
        return coord_loss if lambda_t > 0 and epoch >= lambda_t else coord_loss + heatmap_loss


#: head classes -> their consistency (subclasses first)
FAMILIES = ((RTMCCHead, SimCCConsistency), (SimCCHead, SimCCConsistency),
            (RLEHead, RLEConsistency), (DSNTHead, DSNTConsistency),
            (IntegralRegressionHead, IntegralConsistency),
            (RegressionHead, RegressionConsistency))


def build_codec_consistency(net, name: str, model: str = 'PoseDual'
                            ) -> Optional[CodecConsistency]:
    """The consistency of ``net``'s head; ``None`` for a heatmap head (warped directly).

    Raises:
        TypeError: for a bottom-up or other non-top-down estimator, a head without a codec
            that can encode keypoints, or a head family this module does not know.
    """
    head = getattr(net, 'head', None)
    kind = type(net).__name__
    if not isinstance(net, TopdownPoseEstimator):
        raise TypeError(f'{model} needs top-down estimators (a TopdownPoseEstimator); {name} '
                        f'is {kind} with {type(head).__name__}: a bottom-up model predicts '
                        'several people per image, there is no per-crop teacher to follow')
    codec = getattr(head, 'decoder', None)
    where = f'{name} ({kind} with {type(head).__name__}, codec {type(codec).__name__})'
    if codec is None or not callable(getattr(codec, 'encode', None)) or \
            not callable(getattr(codec, 'decode', None)):
        raise TypeError(f'{model}: {where} has no codec that can encode and decode keypoints: '
                        "a teacher's prediction is decoded by its codec and encoded into the "
                        "student's target; set the head's decoder")
    try:  # a decode-only codec (its encode raises NotImplementedError)
        if not getattr(codec, 'auxiliary_encode_keys', None):
            codec.encode(np.zeros((1, 1, 2), np.float32), np.ones((1, 1), np.float32))
    except NotImplementedError as err:
        raise TypeError(f'{model}: the codec of {where} cannot encode keypoints ({err!r}); '
                        "the student's target is the teacher's keypoints encoded by it") from err
    if not hasattr(head, 'loss_module'):
        raise TypeError(f'{model}: {where} has no loss_module to train the student with')
    for cls, family in FAMILIES:
        if isinstance(head, cls):
            return family(net, name)
    if hasattr(codec, 'heatmap_size'):
        return None
    raise TypeError(f'{model} supports heatmap heads and the SimCC and regression heads of '
                    f'mmpose ({", ".join(c.__name__ for c, _ in FAMILIES)}); {where} is none')


__all__ = ['CodecConsistency', 'SimCCConsistency', 'RegressionConsistency', 'RLEConsistency',
           'IntegralConsistency', 'DSNTConsistency', 'build_codec_consistency']
