"""Synthetic cameras for the lifting images: perspective, elevated, rolled, off-axis.

The lifter (:mod:`mmssl.models.lifting`) assumes an upright orthographic camera; images drawn
with exactly that assumption would flatter it. :class:`SyntheticCamera` draws, per person, a
camera like Human3.6M's: a pinhole of focal length ``focal_length`` (pixels of a virtual
``frame_size`` frame) at ``distance_mm`` from the person's root, raised to ``elevation_deg``
(looking down at the person), rolled by ``roll_deg`` about its optical axis, with the person
anywhere in the frame (so off the optical axis, as in a crop of a wide frame). The image is
then the top-down crop around the person, resampled so the person fills ``fill`` of it (a
similarity of the image plane: the perspective shape is kept).

Frames: world ``(x, y, z)`` with ``z`` up (:mod:`.synthetic_pose3d`); camera
``(x right, y down, z forward)`` as Human3.6M's ``D3_Positions_mono``; the lifter's model
frame is ``(x right, depth, up)`` = camera ``(x, z, -y)``.
"""
from dataclasses import dataclass
from typing import Dict, Tuple

import numpy as np

#: camera ``(x right, y down, z forward)`` -> model ``(x right, depth, up)``: ``model = M @ cam``
CAMERA_TO_MODEL = np.array([[1., 0., 0.], [0., 0., 1.], [0., -1., 0.]])


def _rx(a: np.ndarray) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    out = np.zeros(np.shape(a) + (3, 3))
    out[..., 0, 0] = 1.
    out[..., 1, 1], out[..., 1, 2], out[..., 2, 1], out[..., 2, 2] = c, -s, s, c
    return out


def _rz(a: np.ndarray) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    out = np.zeros(np.shape(a) + (3, 3))
    out[..., 2, 2] = 1.
    out[..., 0, 0], out[..., 0, 1], out[..., 1, 0], out[..., 1, 1] = c, -s, s, c
    return out


def _ry(a: np.ndarray) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    out = np.zeros(np.shape(a) + (3, 3))
    out[..., 1, 1] = 1.
    out[..., 0, 0], out[..., 0, 2], out[..., 2, 0], out[..., 2, 2] = c, s, -s, c
    return out


@dataclass
class SyntheticCamera:
    """Distribution of the cameras of the synthetic lifting images (see the module doc).

    Args:
        projection: ``'perspective'`` or ``'orthographic'`` (the lifter's own assumption:
            upright, no perspective; elevation, roll and off-axis placement still apply).
        focal_length: Pinhole focal length in pixels of the virtual frame (Human3.6M: about
            1145 px for 1000 px frames).
        frame_size: Side of the virtual frame (px) the person is placed in.
        distance_mm: Range of the camera-to-root distance (Human3.6M: about 4-6 m; closer
            means stronger perspective).
        elevation_deg: Range of the camera's elevation (positive: above the person, looking
            down at it).
        roll_deg: Range of the roll about the optical axis.
        fill: Range of the fraction of the image side the person's larger extent fills.
        shift: Range of the crop's offset of the person centre (fraction of the image).
        off_axis: Place the person anywhere in the virtual frame (off the optical axis);
            otherwise at the principal point.
    """
    projection: str = 'perspective'
    focal_length: float = 1145.
    frame_size: float = 1000.
    distance_mm: Tuple[float, float] = (2500., 6000.)
    elevation_deg: Tuple[float, float] = (-10., 30.)
    roll_deg: Tuple[float, float] = (-10., 10.)
    fill: Tuple[float, float] = (0.6, 0.8)
    shift: Tuple[float, float] = (-0.08, 0.08)
    off_axis: bool = True

    def __post_init__(self) -> None:
        if self.projection not in ('perspective', 'orthographic'):
            raise ValueError(f"projection must be 'perspective' or 'orthographic', got "
                             f"'{self.projection}'")
        for name in ('distance_mm', 'elevation_deg', 'roll_deg', 'fill', 'shift'):
            lo, hi = getattr(self, name)
            if lo > hi:
                raise ValueError(f'{name} must be a (low, high) range, got {(lo, hi)}')
        if self.distance_mm[0] <= 0 or self.focal_length <= 0 or self.frame_size <= 0:
            raise ValueError('distance_mm, focal_length and frame_size must be positive')
        if not (0 < self.fill[0] and self.fill[1] <= 1):
            raise ValueError(f'fill must lie in (0, 1], got {self.fill}')

    @classmethod
    def upright_orthographic(cls) -> 'SyntheticCamera':
        """The lifter's own assumption (the renderer before perspective was added)."""
        return cls(projection='orthographic', elevation_deg=(0., 0.), roll_deg=(0., 0.),
                   off_axis=False)

    def sample(self, poses: np.ndarray, rng: np.random.Generator) -> Dict[str, np.ndarray]:
        """Cameras for world poses ``(N, L, 3)`` (mm, ``z`` up, root at the origin).

        Returns:
            dict: ``cam`` ``(N, L, 3)`` the poses in camera coordinates (mm, ``x`` right,
            ``y`` down, ``z`` forward), ``rotation`` ``(N, 3, 3)`` and ``translation``
            ``(N, 3)`` with ``cam = rotation @ world + translation``, and ``frame_xy``
            ``(N, L, 2)`` the projections in pixels of the virtual frame.
        """
        poses = np.asarray(poses, dtype=np.float64)
        num = len(poses)
        deg = np.deg2rad
        yaw = rng.uniform(0, 2 * np.pi, num)  # the person's heading seen from the camera
        elev = deg(rng.uniform(*self.elevation_deg, num))
        roll = deg(rng.uniform(*self.roll_deg, num))
        dist = rng.uniform(*self.distance_mm, num)
        # Where the person appears in the frame (pixels from the principal point): anywhere
        # the body (about 1.8 m) stays inside the frame.
        half = self.frame_size / 2
        body_px = self.focal_length * 1800. / dist
        room = np.clip(half - 0.6 * body_px, 0, None)
        pix = rng.uniform(-1, 1, (num, 2)) * room[:, None] * float(self.off_axis)
        # In the model-like camera frame (x right, forward, up): heading about the world's
        # z, the camera pitched down by the elevation, its line of sight turned so the root
        # lands at ``pix`` (off-axis), then the roll about its own optical axis.
        f = self.focal_length
        off = _rz(np.arctan2(-pix[:, 0], f)) @ _rx(np.arctan2(-pix[:, 1],
                                                             np.hypot(pix[:, 0], f)))
        turn = _ry(roll) @ off
        rot_model = turn @ _rx(elev) @ _rz(-yaw)
        t_model = turn[..., 1] * dist[:, None]  # the root at ``dist`` along the sight line
        rotation = np.einsum('ij,njk->nik', CAMERA_TO_MODEL.T, rot_model)
        translation = np.einsum('ij,nj->ni', CAMERA_TO_MODEL.T, t_model)
        cam = np.einsum('nij,nlj->nli', rotation, poses) + translation[:, None]
        if self.projection == 'perspective':
            frame_xy = self.focal_length * cam[..., :2] / cam[..., 2:3]
        else:  # orthographic at the root's depth
            frame_xy = self.focal_length * cam[..., :2] / dist[:, None, None]
        return dict(cam=cam, rotation=rotation, translation=translation,
                    frame_xy=frame_xy + half)

    def crop(self, frame_xy: np.ndarray, img_size: int,
             rng: np.random.Generator) -> np.ndarray:
        """Landmarks of the top-down crop around each person: ``(N, L, 2)`` pixels of a
        square ``img_size`` image (a scale and shift of the frame: the shape is kept)."""
        num = len(frame_xy)
        lo, hi = frame_xy.min(1), frame_xy.max(1)
        extent = np.maximum((hi - lo).max(-1), 1e-6)
        zoom = rng.uniform(*self.fill, num) * img_size / extent
        offset = img_size / 2 + rng.uniform(*self.shift, (num, 2)) * img_size
        return (frame_xy - (lo + hi)[:, None] / 2) * zoom[:, None, None] + offset[:, None]
