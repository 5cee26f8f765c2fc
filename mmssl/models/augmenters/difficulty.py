"""How hard an augmented image is for the pose network D (seed 001): the quantity the bin
sweep accumulates (Sec. 4.1) and the reward/penalty compares (Sec. 4.3).

Two measures, both per sample on whole batch tensors:

* ``'mse'`` (the paper's "loss"): D's weighted heatmap MSE, see
  ``AdversarialPoseEstimator.per_sample_loss``;
* ``'pckh'`` (the authors' release, ``Evaluation.per_person_pckh``): ``1 - PCKh`` of each
  image, the share of its labelled joints that D's decoded prediction misses by more than
  ``thr`` times the person's head size.

For ``'pckh'`` the heatmaps are decoded exactly as mmpose's ``MSRAHeatmap.decode`` does
(argmax, quarter-pixel shift toward the higher neighbour, times the stride:
:func:`decode_heatmaps`), mapped back from the augmented crop to the standard crop through
the inverse of the augmentation's affine, and compared with the standard crop's keypoints;
the count follows mmpose's ``keypoint_pck_accuracy`` (a joint is correct when its
normalised distance is ``< thr``; joints with weight 0, e.g. moved out of the crop by the
augmentation, do not count). An image with no countable joint gets difficulty 1 (the
release: accuracy 0).
"""
from typing import Optional, Sequence, Tuple, Union

import torch

from mmssl.models.semi_pose.batch_augment import apply_to_points

DIFFICULTIES = ('mse', 'pckh')


def decode_heatmaps(heatmaps: torch.Tensor, stride: Tuple[float, float]) -> torch.Tensor:
    """``[B, K, H, W]`` heatmaps -> ``[B, K, 2]`` keypoints in input pixels, the batched twin
    of mmpose's ``MSRAHeatmap.decode`` (biased): ``get_heatmap_maximum`` (-1 where the
    maximum is <= 0), ``refine_keypoints`` (+-0.25 toward the higher neighbour, only strictly
    inside the map), then times the stride."""
    b, k, h, w = heatmaps.shape
    flat = heatmaps.detach().reshape(b, k, h * w)
    vals, idx = flat.max(-1)
    x, y = idx % w, torch.div(idx, w, rounding_mode='floor')
    found = vals > 0
    xc, yc = x.clamp(1, w - 2), y.clamp(1, h - 2)
    maps = heatmaps.detach()
    bi = torch.arange(b, device=heatmaps.device)[:, None].expand(b, k)
    ki = torch.arange(k, device=heatmaps.device)[None].expand(b, k)
    dx = maps[bi, ki, y.clamp(0, h - 1), xc + 1] - maps[bi, ki, y.clamp(0, h - 1), xc - 1]
    dy = maps[bi, ki, yc + 1, x.clamp(0, w - 1)] - maps[bi, ki, yc - 1, x.clamp(0, w - 1)]
    # mmpose: 1 < x < W - 1 (and 0 < y < H) for dx; 1 < y < H - 1 (and 0 < x < W) for dy
    dx = torch.where((x > 1) & (x < w - 1) & (y > 0) & found, dx, torch.zeros_like(dx))
    dy = torch.where((y > 1) & (y < h - 1) & (x > 0) & found, dy, torch.zeros_like(dy))
    kpts = torch.stack([x, y], -1).to(torch.float32)
    kpts = torch.where(found[..., None], kpts, torch.full_like(kpts, -1.))
    kpts = kpts + 0.25 * torch.stack([torch.sign(dx), torch.sign(dy)], -1).float()
    return kpts * kpts.new_tensor(stride)


def pck_difficulty(pred: torch.Tensor, gt: torch.Tensor, mask: torch.Tensor,
                   norm: torch.Tensor, thr: float = 0.5) -> torch.Tensor:
    """``[B]`` 1 - PCK of each sample (mmpose's ``keypoint_pck_accuracy`` per sample).

    Args:
        pred, gt: ``[B, K, 2]`` keypoints in one frame.
        mask: ``[B, K]`` bool, the joints that count.
        norm: ``[B]`` normalisation length per sample (<= 0: no joint counts).
        thr: the PCK threshold (a joint is correct when distance / norm < thr).
    """
    valid = mask & (norm > 0)[:, None]
    dist = (pred - gt).norm(dim=-1) / norm.clamp_min(1e-12)[:, None]
    correct = (dist < thr) & valid
    count = valid.sum(-1)
    acc = correct.sum(-1).to(pred.dtype) / count.clamp_min(1).to(pred.dtype)
    return torch.where(count > 0, 1 - acc, torch.ones_like(acc))


class PCKhDifficulty:
    """``1 - PCKh`` of D's predictions (the release's difficulty), batched.

    Args:
        thr: PCKh threshold (release: 0.5).
        norm: ``'head_size'`` (each sample's ``head_size``, e.g. from ``MpiiDataset`` with a
            ``headbox_file``, converted to standard-crop pixels with its box scale) or a pair
            of joint indices whose distance in the standard crop is the head size (e.g.
            MPII's upper neck and head top ``(8, 9)``, for training sets without head boxes).
        joints: the joint indices that count (default all; the release and MPII's PCKh
            leave out pelvis and thorax: ``(0, 1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 13, 14,
            15)``).
    """

    def __init__(self, thr: float = 0.5, norm: Union[str, Sequence[int]] = 'head_size',
                 joints: Optional[Sequence[int]] = None) -> None:
        if not thr > 0:
            raise ValueError(f'difficulty thr must be > 0, got {thr}')
        if norm != 'head_size' and not (isinstance(norm, (list, tuple)) and len(norm) == 2):
            raise ValueError("difficulty norm must be 'head_size' or a pair of joint indices, "
                             f'got {norm!r}')
        self.thr = float(thr)
        self.norm = norm if norm == 'head_size' else tuple(int(j) for j in norm)
        self.joints = None if joints is None else tuple(int(j) for j in joints)

    def __call__(self, heatmaps: torch.Tensor, matrices: torch.Tensor,
                 weights: torch.Tensor, keypoints: torch.Tensor, norm: torch.Tensor,
                 stride: Tuple[float, float]) -> torch.Tensor:
        """``[B]`` difficulties.

        Args:
            heatmaps: ``[B, K, h, w]`` D's output for the augmented images.
            matrices: ``[B, 3, 3]`` standard crop -> augmented crop (identity for AHO).
            weights: ``[B, K]`` keypoint weights after the augmentation.
            keypoints: ``[B, K, 2]`` ground truth in the standard crop.
            norm: ``[B]`` head size in standard-crop pixels (:meth:`norm_lengths`).
            stride: input pixels per heatmap pixel.
        """
        pred = apply_to_points(torch.linalg.inv(matrices.double()).to(matrices.dtype),
                               decode_heatmaps(heatmaps, stride).to(matrices.dtype))
        mask = weights > 0
        if self.joints is not None:
            keep = torch.zeros_like(mask)
            keep[:, list(self.joints)] = True
            mask = mask & keep
        return pck_difficulty(pred, keypoints.to(pred.dtype), mask, norm.to(pred.dtype),
                              self.thr)

    def norm_lengths(self, data_samples: list, keypoints: torch.Tensor,
                     weights: torch.Tensor, input_size: Tuple[int, int]) -> torch.Tensor:
        """``[B]`` head sizes in standard-crop pixels (0 where unknown: no joint counts)."""
        if self.norm == 'head_size':
            sizes = []
            for d in data_samples:
                gt = d.gt_instances
                if 'head_size' not in gt or 'bbox_scales' not in gt:
                    raise KeyError(
                        "difficulty=dict(type='pckh', norm='head_size') needs head_size and "
                        'bbox_scales on every training sample (MpiiDataset with a '
                        'headbox_file); for a training set without head boxes use a joint '
                        'pair, e.g. norm=(8, 9) (MPII upper neck, head top)')
                head = torch.as_tensor(gt.head_size, dtype=torch.float32).reshape(-1)[0]
                box_w = torch.as_tensor(gt.bbox_scales, dtype=torch.float32).reshape(-1)[0]
                sizes.append(head * input_size[0] / box_w)
            return torch.stack(sizes).to(keypoints.device)
        i, j = self.norm
        k = keypoints.shape[1]
        if not (0 <= i < k and 0 <= j < k):
            raise ValueError(f'difficulty norm joints {self.norm} are out of range for '
                             f'{k} keypoints')
        length = (keypoints[:, i] - keypoints[:, j]).norm(dim=-1)
        labelled = (weights[:, i] > 0) & (weights[:, j] > 0)
        return torch.where(labelled, length, torch.zeros_like(length))


def build_difficulty(cfg: Union[str, dict, None]) -> Optional[PCKhDifficulty]:
    """``'mse'``/``None`` -> None (the heatmap MSE); ``'pckh'`` or ``dict(type='pckh',
    thr=..., norm=..., joints=...)`` -> :class:`PCKhDifficulty`."""
    if cfg is None or cfg == 'mse':
        return None
    if cfg == 'pckh':
        cfg = dict(type='pckh')
    if not isinstance(cfg, dict) or cfg.get('type') not in DIFFICULTIES:
        raise ValueError(f"difficulty must be 'mse', 'pckh' or dict(type='pckh', thr=..., "
                         f'norm=..., joints=...), got {cfg!r}')
    cfg = dict(cfg)
    if cfg.pop('type') == 'mse':
        if cfg:
            raise ValueError(f"difficulty 'mse' takes no settings, got {sorted(cfg)}")
        return None
    return PCKhDifficulty(**cfg)


__all__ = ['DIFFICULTIES', 'decode_heatmaps', 'pck_difficulty', 'PCKhDifficulty',
           'build_difficulty']
