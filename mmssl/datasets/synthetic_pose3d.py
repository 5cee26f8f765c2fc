"""Synthetic 3D human poses from a kinematic skeleton with joint-angle limits.

No 3D pose data ships with the project, so the pose-prior fitting tool and the 3D lifter
(:mod:`mmssl.models.lifting`) are tested end to end on poses drawn from this generator: a
17-joint Human3.6M skeleton (joint order and names of ``mmpose::_base_/datasets/h36m.py``)
whose joints rotate within anatomical limits. Samples come from a few activities (standing,
walking, sitting, crouching, reaching) so the pose distribution is multi-modal like real data,
and every joint angle is clipped to its limits.

Frames: the world frame is right-handed with ``z`` up; a pose is ``(17, 3)`` in millimetres
with the pelvis (root) at the origin. :func:`world_to_camera` turns poses into the frame of an
upright orthographic camera that looks horizontally: ``(x right, depth away from the camera,
up)``, the model frame of the lifter.
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

H36M_JOINT_NAMES: Tuple[str, ...] = (
    'root', 'right_hip', 'right_knee', 'right_foot', 'left_hip', 'left_knee', 'left_foot',
    'spine', 'thorax', 'neck_base', 'head', 'left_shoulder', 'left_elbow', 'left_wrist',
    'right_shoulder', 'right_elbow', 'right_wrist')
#: Parent of every joint (-1 for the root); bones are (parent, child) pairs.
H36M_PARENTS: Tuple[int, ...] = (-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15)

# Mean bone lengths in mm (adult, Human3.6M-like), indexed by child joint.
_BONE_MM = np.array([0., 130., 450., 440., 130., 450., 440., 230., 250., 110., 120., 150.,
                     280., 250., 150., 280., 250.])

# Body frame: x to the person's left, y forward (facing direction), z up.
_REST_DIR = np.array([
    [0, 0, 0], [-1, 0, 0], [0, 0, -1], [0, 0, -1], [1, 0, 0], [0, 0, -1], [0, 0, -1],
    [0, 0, 1], [0, 0, 1], [0, 0, 1], [0, 0, 1], [1, 0, 0], [0, 0, -1], [0, 0, -1],
    [-1, 0, 0], [0, 0, -1], [0, 0, -1]], dtype=np.float64)

# Joint-angle limits in degrees: name -> (low, high). Flexion is forward for hips, spine,
# neck and shoulders and backward for knees; abduction is outward for both sides.
JOINT_LIMITS_DEG: Dict[str, Tuple[float, float]] = {
    'pelvis_pitch': (-10., 60.), 'pelvis_roll': (-15., 15.),
    'hip_flex': (-30., 125.), 'hip_abd': (-15., 50.), 'hip_twist': (-35., 35.),
    'knee_flex': (0., 150.),
    'spine_flex': (-25., 50.), 'spine_bend': (-30., 30.), 'spine_twist': (-40., 40.),
    'neck_flex': (-40., 50.), 'neck_bend': (-30., 30.), 'neck_twist': (-60., 60.),
    'shoulder_flex': (-50., 170.), 'shoulder_abd': (0., 160.), 'shoulder_twist': (-60., 60.),
    'elbow_flex': (0., 145.),
}

# Activities: per-angle (mean, spread) in degrees; sides are sampled independently unless the
# activity couples them (walking swings legs and arms in anti-phase).
_ACTIVITIES: Dict[str, Dict[str, Tuple[float, float]]] = {
    'stand': dict(pelvis_pitch=(0, 5), hip_flex=(0, 10), hip_abd=(5, 6), knee_flex=(5, 8),
                  spine_flex=(3, 8), shoulder_flex=(10, 30), shoulder_abd=(15, 15),
                  elbow_flex=(25, 25)),
    'walk': dict(pelvis_pitch=(5, 4), hip_flex=(0, 0), hip_abd=(3, 3), knee_flex=(20, 15),
                 spine_flex=(5, 5), shoulder_flex=(0, 0), shoulder_abd=(10, 6),
                 elbow_flex=(30, 15)),
    'sit': dict(pelvis_pitch=(5, 8), hip_flex=(90, 12), hip_abd=(12, 8), knee_flex=(90, 15),
                spine_flex=(15, 12), shoulder_flex=(30, 25), shoulder_abd=(15, 10),
                elbow_flex=(70, 30)),
    'crouch': dict(pelvis_pitch=(35, 12), hip_flex=(100, 15), hip_abd=(20, 10),
                   knee_flex=(120, 15), spine_flex=(25, 12), shoulder_flex=(40, 30),
                   shoulder_abd=(20, 15), elbow_flex=(50, 30)),
    'reach': dict(pelvis_pitch=(10, 10), hip_flex=(10, 12), hip_abd=(8, 6), knee_flex=(10, 10),
                  spine_flex=(10, 15), shoulder_flex=(120, 35), shoulder_abd=(60, 40),
                  elbow_flex=(30, 30)),
}
ACTIVITIES: Tuple[str, ...] = tuple(_ACTIVITIES)
# Spread (degrees) of the angles an activity leaves free (their mean is 0).
_DEFAULT_SPREAD_DEG: Dict[str, float] = dict(
    pelvis_pitch=5., pelvis_roll=5., hip_flex=10., hip_abd=8., hip_twist=12., knee_flex=10.,
    spine_flex=8., spine_bend=8., spine_twist=15., neck_flex=12., neck_bend=8., neck_twist=30.,
    shoulder_flex=20., shoulder_abd=15., shoulder_twist=25., elbow_flex=20.)


def _rot(axis: int, ang: np.ndarray) -> np.ndarray:
    """Rotation matrices ``(N, 3, 3)`` about a coordinate axis by angles in radians."""
    c, s = np.cos(ang), np.sin(ang)
    out = np.zeros(ang.shape + (3, 3))
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    out[..., axis, axis] = 1.
    out[..., i, i] = c
    out[..., j, j] = c
    out[..., i, j] = -s
    out[..., j, i] = s
    return out


def _sample_angles(rng: np.random.Generator, n: int, activity_probs: Optional[Sequence[float]]
                   ) -> Tuple[Dict[str, np.ndarray], np.ndarray]:
    """Joint angles (degrees) of ``n`` people, clipped to :data:`JOINT_LIMITS_DEG`, and their
    activity indices."""
    probs = np.full(len(ACTIVITIES), 1. / len(ACTIVITIES)) if activity_probs is None \
        else np.asarray(activity_probs, dtype=np.float64)
    if probs.shape != (len(ACTIVITIES), ) or (probs < 0).any() or probs.sum() <= 0:
        raise ValueError(f'activity_probs must be {len(ACTIVITIES)} non-negative weights for '
                         f'{ACTIVITIES}, got {activity_probs}')
    act = rng.choice(len(ACTIVITIES), size=n, p=probs / probs.sum())
    ang: Dict[str, np.ndarray] = {}

    def draw(key: str, side_sign: Optional[np.ndarray] = None) -> np.ndarray:
        default = (0., _DEFAULT_SPREAD_DEG[key])
        mean = np.array([_ACTIVITIES[a].get(key, default)[0] for a in ACTIVITIES])[act]
        spread = np.array([_ACTIVITIES[a].get(key, default)[1] for a in ACTIVITIES])[act]
        val = mean + spread * rng.standard_normal(n)
        if side_sign is not None:
            val = val + side_sign
        lo, hi = JOINT_LIMITS_DEG[key]
        return np.clip(val, lo, hi)

    walk = act == ACTIVITIES.index('walk')
    phase = rng.uniform(-1., 1., n) * walk
    for key in ('pelvis_pitch', 'pelvis_roll', 'spine_flex', 'spine_bend', 'spine_twist',
                'neck_flex', 'neck_bend', 'neck_twist'):
        ang[key] = draw(key)
    for side, sgn in (('l', 1.), ('r', -1.)):
        # Walking: legs swing +-30 deg and arms +-25 deg in anti-phase.
        ang[f'{side}_hip_flex'] = draw('hip_flex', 30. * sgn * phase)
        ang[f'{side}_shoulder_flex'] = draw('shoulder_flex', -25. * sgn * phase)
        for key in ('hip_abd', 'hip_twist', 'knee_flex', 'shoulder_abd', 'shoulder_twist',
                    'elbow_flex'):
            ang[f'{side}_{key}'] = draw(key)
    return ang, act


def sample_poses3d(num: int,
                   seed: Optional[int] = None,
                   random_yaw: bool = True,
                   bone_scale_range: Tuple[float, float] = (0.9, 1.1),
                   activity_probs: Optional[Sequence[float]] = None,
                   return_activity: bool = False
                   ) -> Union[np.ndarray, Tuple[np.ndarray, np.ndarray]]:
    """Draw 3D poses of the 17-joint Human3.6M skeleton (vectorised over people).

    Args:
        num: Number of poses.
        seed: Seed of the numpy generator (deterministic output for a fixed seed).
        random_yaw: Rotate each pose about the vertical axis by a uniform angle; otherwise
            every person faces ``+y``.
        bone_scale_range: Range of the per-person body-size factor; each bone also varies by
            +-3 % (left and right alike).
        activity_probs: Weights of :data:`ACTIVITIES` (uniform by default).
        return_activity: Also return the activity index of every pose.

    Returns:
        np.ndarray: ``(num, 17, 3)`` poses in millimetres, world frame (``z`` up), root at 0
        (and ``(num,)`` indices into :data:`ACTIVITIES` when ``return_activity``).
    """
    if num < 0:
        raise ValueError(f'num must be >= 0, got {num}')
    lo, hi = bone_scale_range
    if not 0 < lo <= hi:
        raise ValueError(f'bone_scale_range must satisfy 0 < low <= high, got {bone_scale_range}')
    rng = np.random.default_rng(seed)
    angles, activity = _sample_angles(rng, num, activity_probs)
    a = {k: np.deg2rad(v) for k, v in angles.items()}
    bone_noise = 1. + 0.03 * rng.standard_normal((num, 17))
    for left, right in ((4, 1), (5, 2), (6, 3), (11, 14), (12, 15), (13, 16)):
        bone_noise[:, right] = bone_noise[:, left]
    lengths = _BONE_MM[None] * bone_noise * rng.uniform(lo, hi, (num, 1))

    yaw = rng.uniform(0., 2 * np.pi, num) if random_yaw else np.zeros(num)
    glob = [None] * 17
    glob[0] = _rot(2, yaw) @ _rot(0, -a['pelvis_pitch']) @ _rot(1, a['pelvis_roll'])
    spine = _rot(0, -a['spine_flex'] / 2) @ _rot(1, a['spine_bend'] / 2) @ \
        _rot(2, a['spine_twist'] / 2)
    neck = _rot(0, -a['neck_flex']) @ _rot(1, a['neck_bend']) @ _rot(2, a['neck_twist'])
    local = {7: spine, 8: spine, 9: neck, 10: np.broadcast_to(np.eye(3), (num, 3, 3))}
    for side, (hip, knee, sho, elb), sgn in (('l', (4, 5, 11, 12), -1.), ('r', (1, 2, 14, 15),
                                                                          1.)):
        local[knee] = _rot(0, a[f'{side}_hip_flex']) @ _rot(1, sgn * a[f'{side}_hip_abd']) @ \
            _rot(2, a[f'{side}_hip_twist'])
        local[knee + 1] = _rot(0, -a[f'{side}_knee_flex'])
        local[elb] = _rot(0, a[f'{side}_shoulder_flex']) @ \
            _rot(1, sgn * a[f'{side}_shoulder_abd']) @ _rot(2, a[f'{side}_shoulder_twist'])
        local[elb + 1] = _rot(0, a[f'{side}_elbow_flex'])
        local[hip] = local[sho] = np.broadcast_to(np.eye(3), (num, 3, 3))
    poses = np.zeros((num, 17, 3))
    for j in range(1, 17):
        par = H36M_PARENTS[j]
        # A bone's direction is set by the rotation of the joint it hangs from.
        glob[j] = glob[par] @ local[j]
        poses[:, j] = poses[:, par] + (glob[j] @ _REST_DIR[j]) * lengths[:, j:j + 1]
    return (poses, activity) if return_activity else poses


def world_to_camera(poses: np.ndarray, yaw: np.ndarray) -> np.ndarray:
    """Express world poses in an upright camera frame ``(x right, depth, up)``.

    The camera looks horizontally along the world direction ``(-sin(yaw), cos(yaw), 0)``;
    camera coordinates are the world coordinates rotated about ``z`` by ``-yaw``.

    Args:
        poses: ``(N, L, 3)`` world poses (``z`` up).
        yaw: ``(N,)`` camera yaw angles in radians.

    Returns:
        np.ndarray: ``(N, L, 3)`` poses in the camera frame.
    """
    poses = np.asarray(poses, dtype=np.float64)
    yaw = np.broadcast_to(np.asarray(yaw, dtype=np.float64), poses.shape[:1])
    return np.einsum('nij,nlj->nli', _rot(2, -yaw), poses)


def bone_pairs(parents: Sequence[int] = H36M_PARENTS) -> List[Tuple[int, int]]:
    """``(parent, child)`` pairs of a skeleton given by its parent list."""
    return [(p, c) for c, p in enumerate(parents) if p >= 0]
