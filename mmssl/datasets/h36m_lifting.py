"""Human3.6M in MMPose's preprocessed format -> the lifting config's COCO-style files.

Input (written by mmpose's ``tools/dataset_converters/preprocess_h36m.py``; the layout of
``mmpose/tests/data/h36m``)::

    annotation_body3d/cameras.pkl              {(subject, camera_id): dict(R, T, f, c, k, p,
                                               w, h, name, id)}; R (3x3) and T (3x1, metres)
                                               map camera to world: X_w = R x_c + T
    annotation_body3d/fps10/h36m_{train,test}.npz
        imgname (N,)       'S1/S1_Directions_1.54138969/S1_Directions_1.54138969_000001.jpg'
        center (N, 2), scale (N,)   box centre (px) and side / 200
        part (N, 17, 3)    2D joints (px) and visibility
        S (N, 17, 4)       3D joints in the camera frame (metres; x right, y down,
                           z forward) and visibility
    images/<imgname>

Output (what :class:`~.synthetic_lifting_images.LiftingImageDataset` reads): one COCO
keypoints file per split with ``keypoints_3d`` per annotation in millimetres in the lifter's
frame ``(x right, depth, up)``: ``model = CAMERA_TO_MODEL @ camera = (x, z, -y)`` (camera x
right stays x; the forward axis z is the depth; up is -y since the camera's y points down).
For the pose model the training subjects' poses are also written in world coordinates
(``X_w = R x_c + T``, millimetres, ``z`` up), the input of ``tools/misc/fit_pose_prior.py``.
"""
import io
import json
import os
import os.path as osp
import pickle
import tempfile
from typing import Dict, List, Optional, Sequence

import numpy as np

from .synthetic_camera import CAMERA_TO_MODEL
from .synthetic_pose3d import H36M_JOINT_NAMES, H36M_PARENTS, bone_pairs

#: The paper's protocol (Human3.6M protocol #1).
TRAIN_SUBJECTS = ('S1', 'S5', 'S6', 'S7', 'S8')
TEST_SUBJECTS = ('S9', 'S11')
NPZ_KEYS = ('imgname', 'center', 'scale', 'part', 'S')


class H36MFormatError(ValueError):
    """An input file that is not in MMPose's preprocessed Human3.6M format (names it)."""


class _CameraUnpickler(pickle.Unpickler):
    """Loads ``cameras.pkl`` (dicts, tuples, strings, numbers and numpy arrays) and nothing
    else: a pickle can run code, this one may only rebuild arrays."""
    _ALLOWED = {('numpy.core.multiarray', '_reconstruct'), ('numpy._core.multiarray',
                                                              '_reconstruct'),
                ('numpy', 'ndarray'), ('numpy', 'dtype'), ('numpy.core.multiarray', 'scalar'),
                ('numpy._core.multiarray', 'scalar')}

    def find_class(self, module: str, name: str):
        if (module, name) in self._ALLOWED or (module == 'numpy.dtypes'
                                               and name.endswith('DType')):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f'cameras.pkl may only hold arrays and plain values, '
                                     f'found {module}.{name}')


def load_cameras(path: str) -> Dict[tuple, dict]:
    """Read ``cameras.pkl`` safely and check every camera has ``R`` (3x3) and ``T`` (3x1)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'cameras file not found: {path}')
    try:
        with open(path, 'rb') as f:
            cams = _CameraUnpickler(io.BytesIO(f.read())).load()
    except (pickle.UnpicklingError, EOFError, AttributeError, ValueError) as err:
        raise H36MFormatError(f'cannot read cameras {path}: {err}') from err
    if not isinstance(cams, dict):
        raise H36MFormatError(f'{path}: expected a dict (subject, camera_id) -> parameters')
    for key, cam in cams.items():
        if (not isinstance(key, tuple) or len(key) != 2 or not isinstance(cam, dict)
                or np.shape(cam.get('R')) != (3, 3) or np.shape(cam.get('T')) != (3, 1)):
            raise H36MFormatError(f'{path}: camera {key!r} needs R (3, 3) and T (3, 1)')
    return cams


def load_annotations(path: str) -> Dict[str, np.ndarray]:
    """Read one ``h36m_*.npz`` and check its arrays (:data:`NPZ_KEYS`)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'annotation file not found: {path}')
    with np.load(path, allow_pickle=False) as data:
        missing = [k for k in NPZ_KEYS if k not in data.files]
        if missing:
            raise H36MFormatError(f'{path}: missing arrays {missing} (has {data.files})')
        arr = {k: data[k] for k in NPZ_KEYS}
    n = len(arr['imgname'])
    shapes = dict(center=(n, 2), scale=(n, ), part=(n, 17, 3), S=(n, 17, 4))
    for key, shape in shapes.items():
        if arr[key].shape != shape:
            raise H36MFormatError(f'{path}: {key} must have shape {shape}, got '
                                  f'{arr[key].shape}')
    return arr


def parse_imgname(imgname: str) -> Dict[str, str]:
    """``'S1/S1_Directions_1.54138969/S1_Directions_1.54138969_000001.jpg'`` ->
    subject ``S1``, action ``Directions_1``, camera ``54138969``."""
    base = osp.basename(str(imgname))
    try:
        subject, rest = base.split('_', 1)
        action, cam_frame = rest.split('.', 1)
        camera = cam_frame.rsplit('_', 1)[0]
    except ValueError as err:
        raise H36MFormatError(f"image name '{imgname}' is not Human3.6M's "
                              "'S<k>_<Action>.<camera>_<frame>.jpg'") from err
    return dict(subject=subject, action=action, camera=camera)


def camera_to_model(points_cam: np.ndarray) -> np.ndarray:
    """Camera ``(x right, y down, z forward)`` -> model ``(x right, depth, up)``."""
    return np.einsum('ij,...j->...i', CAMERA_TO_MODEL, points_cam)


def camera_to_world(points_cam: np.ndarray, cam: dict) -> np.ndarray:
    """``X_w = R x_c + T`` for points ``(..., 3)`` (same unit as ``T``)."""
    r = np.asarray(cam['R'], dtype=np.float64)
    t = np.asarray(cam['T'], dtype=np.float64).reshape(3)
    return np.einsum('ij,...j->...i', r, points_cam) + t


def to_coco(arr: Dict[str, np.ndarray], cameras: Dict[tuple, dict],
            subjects: Sequence[str], source: str = '') -> dict:
    """COCO keypoints of the frames of ``subjects`` with ``keypoints_3d`` (mm, model frame)."""
    images, anns = [], []
    for i, name in enumerate(arr['imgname']):
        info = parse_imgname(name)
        if info['subject'] not in subjects:
            continue
        key = (info['subject'], info['camera'])
        if key not in cameras:
            raise H36MFormatError(f'{source}: no camera {key} in cameras.pkl for {name}')
        cam = cameras[key]
        idx = len(images)
        cx, cy = arr['center'][i]
        side = float(arr['scale'][i]) * 200.
        part = arr['part'][i]
        vis = np.where(part[:, 2] > 0, 2., 0.)
        images.append(dict(id=idx, file_name=str(name), width=int(cam.get('w', 1000)),
                           height=int(cam.get('h', 1000)), subject=info['subject'],
                           camera=info['camera']))
        anns.append(dict(
            id=idx, image_id=idx, category_id=1, iscrowd=0, num_keypoints=int((vis > 0).sum()),
            bbox=[float(cx - side / 2), float(cy - side / 2), side, side], area=side * side,
            keypoints=np.concatenate([part[:, :2], vis[:, None]], 1).reshape(-1).tolist(),
            keypoints_3d=(camera_to_model(arr['S'][i, :, :3]) * 1000.).tolist()))
    return dict(images=images, annotations=anns, categories=[dict(
        id=1, name='person', supercategory='person', keypoints=list(H36M_JOINT_NAMES),
        skeleton=[[p, c] for p, c in bone_pairs(H36M_PARENTS)])])


def world_poses(arr: Dict[str, np.ndarray], cameras: Dict[tuple, dict],
                subjects: Sequence[str]) -> np.ndarray:
    """World-frame poses ``(N, 17, 3)`` (mm, ``z`` up) of the frames of ``subjects``."""
    out = []
    for i, name in enumerate(arr['imgname']):
        info = parse_imgname(name)
        if info['subject'] in subjects:
            out.append(camera_to_world(arr['S'][i, :, :3],
                                       cameras[(info['subject'], info['camera'])]) * 1000.)
    return np.stack(out) if out else np.zeros((0, 17, 3))


def _dump_atomic(path: str, write) -> None:
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix='.tmp_')
    try:
        with os.fdopen(fd, 'wb') as f:
            write(f)
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)


def convert_h36m(npz_files: Sequence[str],
                 cameras_file: str,
                 out_dir: str,
                 train_subjects: Sequence[str] = TRAIN_SUBJECTS,
                 test_subjects: Sequence[str] = TEST_SUBJECTS,
                 fit_prior: bool = True,
                 prior_kwargs: Optional[dict] = None) -> Dict[str, str]:
    """Convert, and fit the pose model on the training subjects' world poses.

    Writes (atomically, each file) ``out_dir/train.json`` (``train_subjects``),
    ``out_dir/val.json`` (``test_subjects``), ``out_dir/poses3d_train.npy`` (world, mm,
    ``z`` up) and, with ``fit_prior``, ``out_dir/pose_prior.npz``.

    Returns:
        dict: the written paths and the frame counts (``num_train``, ``num_val``).
    """
    cameras = load_cameras(cameras_file)
    arrays = [load_annotations(p) for p in npz_files]
    if not arrays:
        raise ValueError('give at least one h36m_*.npz file')
    arr = {k: np.concatenate([a[k] for a in arrays]) for k in NPZ_KEYS}
    source = ', '.join(npz_files)
    out: Dict[str, str] = {}
    for split, subjects in (('train', train_subjects), ('val', test_subjects)):
        coco = to_coco(arr, cameras, subjects, source)
        if not coco['images']:
            raise H36MFormatError(f'{source}: no frames of subjects {list(subjects)} '
                                  f'(split {split})')
        path = osp.join(out_dir, f'{split}.json')
        _dump_atomic(path, lambda f, c=coco: f.write(json.dumps(c).encode()))
        out[f'{split}_ann'], out[f'num_{split}'] = path, len(coco['images'])
    poses = world_poses(arr, cameras, train_subjects)
    out['poses3d'] = osp.join(out_dir, 'poses3d_train.npy')
    _dump_atomic(out['poses3d'], lambda f: np.save(f, poses))
    if fit_prior:
        from mmssl.models.lifting import fit_pose_prior  # models import datasets
        prior = fit_pose_prior(poses, H36M_PARENTS, up_axis='z', joint_names=H36M_JOINT_NAMES,
                               **(prior_kwargs or {}))
        out['prior'] = osp.join(out_dir, 'pose_prior.npz')
        prior.save(out['prior'])
    return out


def list_subjects(npz_files: Sequence[str]) -> List[str]:
    """Subjects present in annotation files (for messages)."""
    names = set()
    for p in npz_files:
        names.update(parse_imgname(n)['subject'] for n in load_annotations(p)['imgname'])
    return sorted(names)
