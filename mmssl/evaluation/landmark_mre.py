"""Mean radial error (MRE) in millimetres and successful detection rates (SDR).

Medical landmark papers report errors in millimetres. The hand X-rays of the Digital Hand
Atlas have no pixel spacing, so Payer et al. (MedIA 2019) give each image a physical scale by
assuming a 50 mm wrist width: ``mm per pixel = 50 / |gt[1] - gt[5]|``, the distance between
two wrist landmarks of the *ground truth* (their evaluation: ``normalization_indizes=[1, 5]``,
``normalization_factor=50``). STLD (seed 003, Table IV) adopts this and reports the MRE; the
SDR (the percentage of landmark errors within 2, 4 and 10 mm) is the usual companion in this
literature (Payer et al. count "outliers >= r", so a landmark is within r when its error is
below r).

:class:`LandmarkMRE` computes both for any dataset with a reference distance between two
landmarks. Predictions and ground truth are compared in the same (original image) pixels, so
the result does not depend on the network's input resolution.
"""
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger
from mmpose.registry import METRICS


def radial_errors_mm(pred: np.ndarray, gt: np.ndarray, mask: np.ndarray,
                     reference_keypoints: Tuple[int, int],
                     reference_mm: float) -> np.ndarray:
    """Per-landmark radial errors in millimetres.

    Args:
        pred (np.ndarray): Predictions ``(N, K, 2)`` in pixels.
        gt (np.ndarray): Ground truth ``(N, K, 2)`` in the same pixels.
        mask (np.ndarray): Visible ground-truth landmarks ``(N, K)`` (bool).
        reference_keypoints (tuple[int, int]): The two landmarks whose ground-truth distance
            is ``reference_mm`` in every image.
        reference_mm (float): That distance in millimetres.

    Returns:
        np.ndarray: ``(N, K)`` errors in mm; NaN for invisible landmarks and for every
        landmark of an image whose reference pair is invisible or coincident (no scale).
    """
    a, b = reference_keypoints
    ref_px = np.linalg.norm(gt[:, a] - gt[:, b], axis=-1)  # (N,)
    scalable = mask[:, a] & mask[:, b] & (ref_px > 0)
    mm_per_px = np.where(scalable, reference_mm / np.where(ref_px > 0, ref_px, 1.0), np.nan)
    err = np.linalg.norm(pred - gt, axis=-1) * mm_per_px[:, None]
    return np.where(mask.astype(bool), err, np.nan)


@METRICS.register_module()
class LandmarkMRE(BaseMetric):
    """MRE (mm) and SDR@r mm (%) with a per-image scale from a reference landmark distance.

    Args:
        reference_keypoints (Sequence[int]): The two landmarks (0-based) whose ground-truth
            distance is ``reference_mm``. The hand X-ray default ``(1, 5)`` is Payer et al.'s
            wrist-width pair (``WRIST_WIDTH_KEYPOINTS`` of ``hand_xray_dataset.py``).
        reference_mm (float): The physical length of that distance. Defaults to 50 (mm, the
            wrist width Payer et al. assume).
        sdr_thresholds (Sequence[float]): Radii (mm) of the SDR. Defaults to (2, 4, 10).
        collect_device (str): ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Prefix of the metric names.

    Returned metrics: ``MRE`` (mean over every visible landmark of every scalable image, mm),
    ``MRE_std`` (their standard deviation, mm) and ``SDR@<r>mm`` (percent of those landmarks
    with an error below r). Images without a usable reference pair are left out (logged);
    with none left, ``compute_metrics`` raises.
    """

    def __init__(self, reference_keypoints: Sequence[int] = (1, 5), reference_mm: float = 50.,
                 sdr_thresholds: Sequence[float] = (2., 4., 10.), collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        pair = tuple(int(k) for k in reference_keypoints)
        if len(pair) != 2 or pair[0] == pair[1] or min(pair) < 0:
            raise ValueError(f'reference_keypoints must be two different keypoint indices, '
                             f'got {reference_keypoints}')
        if not reference_mm > 0:
            raise ValueError(f'reference_mm must be > 0, got {reference_mm}')
        if not sdr_thresholds or min(sdr_thresholds) <= 0:
            raise ValueError(f'sdr_thresholds must be positive radii (mm), got '
                             f'{sdr_thresholds}')
        self.reference_keypoints = pair
        self.reference_mm = float(reference_mm)
        self.sdr_thresholds = tuple(float(r) for r in sdr_thresholds)

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            gt = sample['gt_instances']
            mask = np.asarray(gt['keypoints_visible']).astype(bool)
            if mask.ndim == 3:
                mask = mask[..., 0]
            self.results.append(dict(
                pred=np.asarray(sample['pred_instances']['keypoints'], np.float64)[0, :, :2],
                gt=np.asarray(gt['keypoints'], np.float64)[0, :, :2],
                mask=mask.reshape(-1)))

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """MRE, its standard deviation and the SDRs over all processed images."""
        pred = np.stack([r['pred'] for r in results])
        gt = np.stack([r['gt'] for r in results])
        mask = np.stack([r['mask'] for r in results])
        num_k = gt.shape[1]
        if max(self.reference_keypoints) >= num_k:
            raise ValueError(f'LandmarkMRE: reference_keypoints {self.reference_keypoints} '
                             f'out of range for {num_k} keypoints')
        err = radial_errors_mm(pred, gt, mask, self.reference_keypoints, self.reference_mm)
        valid = ~np.isnan(err)
        skipped = int(np.sum(~valid.any(axis=1)))
        if not valid.any():
            raise ValueError(f'LandmarkMRE: none of the {len(gt)} images has visible '
                             f'reference landmarks {self.reference_keypoints} at a positive '
                             'distance (no physical scale)')
        errors = err[valid]
        out = {'MRE': float(errors.mean()), 'MRE_std': float(errors.std())}
        for r in self.sdr_thresholds:
            out[f'SDR@{r:g}mm'] = float(100.0 * np.mean(errors < r))
        values = ', '.join(f'{k} {v:.4f}' for k, v in out.items())
        MMLogger.get_current_instance().info(
            f'LandmarkMRE on {len(gt) - skipped} images ({skipped} without a reference '
            f'distance or a visible landmark left out): {values}')
        return out
