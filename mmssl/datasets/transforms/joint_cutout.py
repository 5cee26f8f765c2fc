"""Joint Cutout as a pipeline transform (seed 000, PoseDual's hard augmentation).

PoseDual cuts the student's hard view on the batch tensor at the joints its teacher predicts
(:func:`mmssl.models.semi_pose.batch_augment.sample_joint_cutout`). This transform makes the
same cutout for any mmpose pipeline, at the keypoints a sample carries: its ground truth, or
the keypoints of a pseudo-label file loaded by the dataset. ``m`` joints are chosen at
random with replacement among the visible ones (the release's ``m = 5``); each box is centred
on the joint plus N(0, 10 px) jitter and has half sizes U(10, 20) px per axis, both given for
a 256-pixel-high input and scaled to the crop. The boxes go through the one rule shared with
the batch tensor (:func:`cutout_boxes`, :func:`cutout_mask`) and are filled with ``fill``
(default: mmpose's ImageNet mean in BGR, i.e. 0 after the data preprocessor's
normalisation, as the batch version zeroes the normalised tensor).
"""
from typing import Dict, Sequence, Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness
from mmpose.registry import TRANSFORMS

#: mmpose's PoseDataPreprocessor mean (RGB 123.675, 116.28, 103.53) in the pipeline's BGR
MEAN_BGR = (103.53, 116.28, 123.675)


@TRANSFORMS.register_module()
class JointCutout(BaseTransform):
    """Fill boxes around ``num_joints`` randomly chosen visible keypoints of the crop.

    Place it after ``TopdownAffine`` (the keypoints must be in crop pixels). Keypoints and
    their visibility are left unchanged (as in the paper: the joint is hidden, not removed).

    Args:
        num_joints: boxes per sample, joints chosen with replacement (seed: m = 5).
        jitter: std of the centre jitter in pixels at ``reference_height``.
        half_size_range: ``(lo, hi)`` half sizes in pixels at ``reference_height``.
        reference_height: the input height the pixel values are given for (256).
        keypoints_key: where the crop keypoints are (``'transformed_keypoints'`` after
            ``TopdownAffine``; pseudo-labels loaded as keypoints land there too).
        visible_thr: a keypoint is a candidate when ``keypoints_visible > visible_thr``.
        fill: fill value per channel (default :data:`MEAN_BGR`), or one number.
        prob: probability of cutting a sample. Defaults to 1.
    """

    def __init__(self, num_joints: int = 5, jitter: float = 10.,
                 half_size_range: Sequence[float] = (10., 20.),
                 reference_height: float = 256.,
                 keypoints_key: str = 'transformed_keypoints', visible_thr: float = 0.,
                 fill=MEAN_BGR, prob: float = 1.) -> None:
        super().__init__()
        if num_joints < 1:
            raise ValueError(f'JointCutout: num_joints must be >= 1, got {num_joints}')
        lo, hi = half_size_range
        if not 0 <= lo <= hi:
            raise ValueError(f'JointCutout: half_size_range must be 0 <= lo <= hi, got '
                             f'{half_size_range}')
        if not 0 <= prob <= 1:
            raise ValueError(f'JointCutout: prob must be in [0, 1], got {prob}')
        self.num_joints, self.jitter = int(num_joints), float(jitter)
        self.half_size_range = (float(lo), float(hi))
        self.reference_height = float(reference_height)
        self.keypoints_key, self.visible_thr = keypoints_key, float(visible_thr)
        self.fill, self.prob = fill, float(prob)

    @cache_randomness
    def _draw(self, num_visible: int) -> Tuple[bool, np.ndarray, np.ndarray, np.ndarray]:
        """(apply, picks among the visible joints, centre noise, half-size uniforms)."""
        apply = bool(np.random.rand() < self.prob)
        pick = np.random.randint(max(num_visible, 1), size=self.num_joints)
        noise = np.random.randn(self.num_joints, 2)
        unit = np.random.rand(self.num_joints, 2)
        return apply, pick, noise, unit

    def boxes(self, chosen: np.ndarray, noise: np.ndarray, unit: np.ndarray,
              height: int) -> Tuple[np.ndarray, np.ndarray]:
        """(centers, half sizes) ``[M, 2]`` of the given draws (the rule shared with the
        batch tensor)."""
        import torch
        from mmssl.models.semi_pose.batch_augment import cutout_boxes
        c, h = cutout_boxes(torch.as_tensor(chosen, dtype=torch.float32)[None],
                            torch.as_tensor(noise, dtype=torch.float32)[None],
                            torch.as_tensor(unit, dtype=torch.float32)[None], height,
                            jitter=self.jitter, half_size_range=self.half_size_range,
                            reference_height=self.reference_height)
        return c[0].numpy(), h[0].numpy()

    def cut(self, img: np.ndarray, centers: np.ndarray, half_sizes: np.ndarray) -> np.ndarray:
        """``img`` with the boxes filled (a copy)."""
        import torch
        from mmssl.models.semi_pose.batch_augment import cutout_mask
        height, width = img.shape[:2]
        mask = cutout_mask(height, width, torch.as_tensor(centers)[None],
                           torch.as_tensor(half_sizes)[None])[0].numpy()
        out = np.array(img, copy=True)
        fill = np.asarray(self.fill, dtype=np.float64)
        if img.ndim == 2 or fill.size == 1:
            fill = fill.reshape(-1)[0]
        elif fill.size != img.shape[2]:
            raise ValueError(f'JointCutout: fill has {fill.size} values for an image with '
                             f'{img.shape[2]} channels')
        out[mask] = np.round(fill).astype(img.dtype) if np.issubdtype(
            img.dtype, np.integer) else fill.astype(img.dtype)
        return out

    def transform(self, results: Dict) -> Dict:
        if self.keypoints_key not in results:
            raise KeyError(f'JointCutout needs results["{self.keypoints_key}"] (crop '
                           'keypoints): put it after TopdownAffine in the pipeline')
        kpts = np.asarray(results[self.keypoints_key], dtype=np.float32)
        if kpts.ndim != 3 or kpts.shape[0] != 1:
            raise ValueError(f'JointCutout works on top-down samples (one instance), got '
                             f'keypoints of shape {kpts.shape}')
        vis = results.get('keypoints_visible')
        vis = np.ones(kpts.shape[:2], np.float32) if vis is None else np.asarray(vis)
        if vis.ndim == 3:  # mmpose >= 1.2 may carry (N, K, 1)
            vis = vis[..., 0]
        candidates = kpts[0][vis[0] > self.visible_thr]
        apply, pick, noise, unit = self._draw(len(candidates))
        if not apply or len(candidates) == 0:
            return results
        img = results['img']
        centers, half = self.boxes(candidates[pick, :2], noise, unit, img.shape[0])
        results['img'] = self.cut(img, centers, half)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(num_joints={self.num_joints}, jitter={self.jitter}, '
                f'half_size_range={self.half_size_range}, keypoints_key='
                f'{self.keypoints_key!r}, prob={self.prob})')
