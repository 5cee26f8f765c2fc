"""Face-alignment metrics: NME, AUC of the CED curve and failure rate (FR).

MMPose's :class:`~mmpose.evaluation.NME` gives the mean NME (inter-ocular for 300W/WFLW,
box size for AFLW). Face-alignment papers (STLD Table II, HRNet-face, PIPNet) also report the
area under the cumulative error distribution up to a threshold (AUC@0.1) and the fraction of
images whose NME exceeds it (FR@0.1); MMPose has neither for faces (its ``AUC`` is PCK-based
in pixels). :class:`FaceLandmarkMetric` keeps mmpose's NME (same normalisation, same value) and
adds both from the per-image NMEs.
"""
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
from mmengine.logging import MMLogger
from mmpose.evaluation.functional import keypoint_nme
from mmpose.evaluation.metrics import NME
from mmpose.registry import METRICS


def per_image_nme(pred: np.ndarray, gt: np.ndarray, mask: np.ndarray,
                  norm: np.ndarray) -> np.ndarray:
    """Mean normalised point-to-point error of each image.

    Args:
        pred (np.ndarray): Predictions ``(N, K, 2)``.
        gt (np.ndarray): Ground truth ``(N, K, 2)``.
        mask (np.ndarray): Visible keypoints ``(N, K)`` (bool).
        norm (np.ndarray): Normalisation factor per image ``(N,)`` (e.g. inter-ocular).

    Returns:
        np.ndarray: ``(N,)``; NaN for images without a visible keypoint or a positive norm.
    """
    dist = np.linalg.norm(pred - gt, axis=-1)  # (N, K)
    valid = mask.astype(bool) & (norm[:, None] > 0)
    count = valid.sum(axis=1)
    safe_norm = np.where(norm > 0, norm, 1.0)
    total = np.where(valid, dist, 0.0).sum(axis=1) / safe_norm
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def ced_auc_fr(nmes: np.ndarray, thr: float = 0.1, step: float = 1e-4) -> Tuple[float, float]:
    """AUC of the cumulative error distribution on ``[0, thr]`` (normalised to 1) and FR.

    Args:
        nmes (np.ndarray): Per-image NMEs ``(N,)`` (NaNs are ignored).
        thr (float): Failure threshold. Defaults to 0.1.
        step (float): Integration step of the CED curve. Defaults to 1e-4.

    Returns:
        tuple[float, float]: ``(auc, fr)`` as fractions in [0, 1].
    """
    nmes = np.asarray(nmes, dtype=np.float64)
    nmes = nmes[~np.isnan(nmes)]
    if nmes.size == 0:
        raise ValueError('ced_auc_fr: no image with a valid NME')
    xs = np.linspace(0.0, thr, int(round(thr / step)) + 1)
    ced = np.searchsorted(np.sort(nmes), xs, side='right') / nmes.size  # P(nme <= x)
    auc = float(np.sum((ced[1:] + ced[:-1]) * np.diff(xs)) / 2.0 / thr)
    fr = float(np.mean(nmes > thr))
    return auc, fr


@METRICS.register_module()
class FaceLandmarkMetric(NME):
    """NME (as mmpose's ``NME``) plus ``AUC@thr`` and ``FR@thr`` from per-image NMEs.

    Arguments are those of :class:`mmpose.evaluation.NME` (``norm_mode``, ``norm_item``,
    ``keypoint_indices``, ``collect_device``, ``prefix``) plus:

    Args:
        failure_thr (float): The failure threshold of FR and the upper limit of the AUC.
            Defaults to 0.1 (``AUC@0.1``, ``FR@0.1``).
        step (float): Integration step of the CED curve. Defaults to 1e-4.

    All values are fractions (the paper's tables show percentages: NME 0.0381 = 3.81 %).
    """

    def __init__(self, norm_mode: str = 'keypoint_distance', norm_item: Optional[str] = None,
                 keypoint_indices: Optional[Sequence[int]] = None, failure_thr: float = 0.1,
                 step: float = 1e-4, collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(norm_mode=norm_mode, norm_item=norm_item,
                         keypoint_indices=keypoint_indices, collect_device=collect_device,
                         prefix=prefix)
        if not 0 < failure_thr:
            raise ValueError(f'failure_thr must be > 0, got {failure_thr}')
        self.failure_thr = failure_thr
        self.step = step

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """NME, AUC@thr and FR@thr over all processed samples."""
        pred = np.concatenate([r['pred_coords'] for r in results])
        gt = np.concatenate([r['gt_coords'] for r in results])
        mask = np.concatenate([r['mask'] for r in results])
        if self.norm_mode == 'use_norm_item':
            norm = np.concatenate([r[self.norm_item] for r in results]).reshape(-1)
        else:
            if self.keypoint_indices is None:
                name = self.dataset_meta['dataset_name']
                if name not in self.DEFAULT_KEYPOINT_INDICES:
                    raise KeyError(f'FaceLandmarkMetric: no default inter-ocular keypoints '
                                   f'for dataset "{name}"; set keypoint_indices')
                self.keypoint_indices = self.DEFAULT_KEYPOINT_INDICES[name]
            norm = self._get_normalize_factor(gt_coords=gt)[:, 0]
        nme = keypoint_nme(pred, gt, mask, np.tile(norm[:, None], (1, 2)).copy())
        auc, fr = ced_auc_fr(per_image_nme(pred, gt, mask, norm), self.failure_thr, self.step)
        MMLogger.get_current_instance().info(
            f'FaceLandmarkMetric on {len(pred)} images: NME {nme:.5f}, '
            f'AUC@{self.failure_thr:g} {auc:.5f}, FR@{self.failure_thr:g} {fr:.5f}')
        return {'NME': float(nme), f'AUC@{self.failure_thr:g}': auc,
                f'FR@{self.failure_thr:g}': fr}
