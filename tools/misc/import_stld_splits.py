"""Import STLD's published labeled splits as the labeled/unlabeled files the configs read.

STLD's release (seed 003, jhb86253817/STLD) publishes the image names of its labeled subsets
(``../shared/data/stld_release_splits/<dataset>_labeled_<N>.txt``). A name refers to a face of
the dataset's *official* annotation files (see that folder's README):

* 300W ``<folder>_<image>`` (``afw``, ``helen_trainset``, ``lfpw_trainset``): the image
  ``<folder>/<image>`` of 300W's training folders, with its ``.pts`` landmarks;
* WFLW ``wflw_train_<k>.jpg``: line ``k`` (1-based) of ``list_98pt_rect_attr_train.txt``;
* AFLW ``aflw_train_<k>.jpg``: the 1-based index ``k`` into ``AFLWinfo_release.mat``
  (``nameList``, ``data``); the release's training set is ``ra[:20000]``.

Each face is found in MMPose's COCO-format training file by its image path and landmarks (the
nearest annotation of that image, which must lie within ``--max-landmark-diff`` pixels), so
the outputs are subsets of MMPose's file, exactly what ``split_landmarks.py`` writes:
``<stem>.labeled@<N>.json`` (the N listed faces) and ``<stem>.unlabeled@<N>.json`` (every other
face of the training set, keypoints zeroed). Counts are checked against the list names, the
official files and MMPose's file; a mismatch stops with an error naming the file.

Example::

    python tools/misc/import_stld_splits.py 300w --official data/300w/images \\
        --ann-file data/300w/annotations/face_landmarks_300w_train.json \\
        --out-dir data/300w/annotations/semi
"""
import argparse
import glob
import os
import os.path as osp
import re
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from mmssl.datasets.splits import load_coco, split_by_annotations, write_coco

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_LISTS = osp.join(osp.dirname(REPO_ROOT), 'shared', 'data', 'stld_release_splits')
#: the release's training folders of 300W, in its order
FOLDERS_300W = ('afw', 'helen/trainset', 'lfpw/trainset')
#: the release's AFLW training set: the first indices of ``ra``
AFLW_NUM_TRAIN = 20000
IMAGE_EXTS = ('.jpg', '.jpeg', '.png')

#: one face of the release's training set: (release name, image path, landmarks (K, 2))
Face = Tuple[str, str, np.ndarray]


def read_pts(path: str) -> np.ndarray:
    """Landmarks ``(K, 2)`` of a 300W ``.pts`` file (``version``, ``n_points``, ``{ ... }``)."""
    with open(path) as f:
        lines = [ln.strip() for ln in f if ln.strip()]
    try:
        start, end = lines.index('{'), lines.index('}')
        points = np.array([[float(v) for v in ln.split()[:2]] for ln in lines[start + 1:end]])
    except ValueError as e:
        raise ValueError(f'{path} is not a 300W .pts file ({e})') from e
    match = re.search(r'n_points:\s*(\d+)', ' '.join(lines[:start]))
    if match and int(match.group(1)) != len(points):
        raise ValueError(f'{path}: n_points says {match.group(1)}, the file has '
                         f'{len(points)} points')
    return points


def faces_300w(root: str) -> List[Face]:
    """300W's training faces as the release lists them (sorted files of each folder)."""
    faces = []
    for folder in FOLDERS_300W:
        path = osp.join(root, folder)
        if not osp.isdir(path):
            raise FileNotFoundError(f'300W training folder not found: {path} (--official '
                                    'is the folder holding afw/, helen/ and lfpw/)')
        files = sorted(os.listdir(path))
        for image in (f for f in files if f.lower().endswith(IMAGE_EXTS)):
            pts = osp.join(path, osp.splitext(image)[0] + '.pts')
            if not osp.isfile(pts):
                raise FileNotFoundError(f'{osp.join(path, image)} has no landmark file {pts}')
            faces.append((folder.replace('/', '_') + '_' + image, f'{folder}/{image}',
                          read_pts(pts)))
    return faces


def faces_wflw(list_file: str) -> List[Face]:
    """WFLW's training faces: one per line of ``list_98pt_rect_attr_train.txt``."""
    if not osp.isfile(list_file):
        raise FileNotFoundError(f'WFLW annotation list not found: {list_file}')
    faces = []
    with open(list_file) as f:
        for k, line in enumerate((ln for ln in f if ln.strip()), start=1):
            fields = line.split()
            if len(fields) != 196 + 4 + 6 + 1:
                raise ValueError(f'{list_file}: line {k} has {len(fields)} fields, a WFLW line '
                                 'has 207 (98 x 2 landmarks, box, 6 attributes, image path)')
            lms = np.array(fields[:196], np.float64).reshape(98, 2)
            faces.append((f'wflw_train_{k:04d}.jpg', fields[-1], lms))
    return faces


def faces_aflw(mat_file: str, num_train: int = AFLW_NUM_TRAIN) -> List[Face]:
    """AFLW's training faces: indices ``ra[:num_train]`` of ``AFLWinfo_release.mat``."""
    if not osp.isfile(mat_file):
        raise FileNotFoundError(f'AFLW annotation file not found: {mat_file}')
    from scipy.io import loadmat
    try:
        mat = loadmat(mat_file)
    except (NotImplementedError, ValueError) as e:
        raise ValueError(f'{mat_file} cannot be read as a MATLAB (v5) file: {e}') from e
    missing = [k for k in ('nameList', 'data', 'ra') if k not in mat]
    if missing:
        raise ValueError(f'{mat_file} is not AFLWinfo_release.mat: no {missing}')
    names, data, ra = mat['nameList'].ravel(), mat['data'], mat['ra'].ravel()
    faces = []
    for index in ra[:num_train].astype(int):
        if not 1 <= index <= len(names):
            raise ValueError(f'{mat_file}: ra holds index {index}, beyond nameList '
                             f'({len(names)} entries)')
        name = names[index - 1]
        while isinstance(name, np.ndarray):  # MATLAB cell of a char array
            name = name.ravel()[0]
        row = np.asarray(data[index - 1], np.float64).ravel()
        lms = np.stack([row[:19], row[19:38]], axis=1)
        faces.append((f'aflw_train_{index:05d}.jpg', str(name), lms))
    return faces


def read_official(dataset: str, official: str,
                  aflw_num_train: int = AFLW_NUM_TRAIN) -> List[Face]:
    """The release's training faces of ``dataset`` from its official annotation file(s)."""
    if dataset == 'aflw':
        return faces_aflw(official, aflw_num_train)
    readers = {'300w': faces_300w, 'wflw': faces_wflw}
    if dataset not in readers:
        raise ValueError(f'unknown dataset {dataset!r}; choose 300w, wflw or aflw')
    return readers[dataset](official)


def match_faces(faces: Sequence[Face], coco: dict, ann_file: str,
                max_diff: float) -> Dict[str, int]:
    """Release name -> annotation id of MMPose's file (same image, nearest landmarks)."""
    by_path: Dict[str, List[dict]] = {}
    images = {img['id']: img['file_name'] for img in coco['images']}
    for ann in coco['annotations']:
        by_path.setdefault(images[ann['image_id']].replace('\\', '/'), []).append(ann)

    def candidates(path: str) -> List[dict]:
        if path in by_path:
            return by_path[path]
        return [a for p, anns in by_path.items()
                if p.endswith('/' + path) or path.endswith('/' + p) for a in anns]

    out, used = {}, {}
    for name, path, lms in faces:
        anns = candidates(path)
        if not anns:
            raise ValueError(f'{ann_file} has no image {path} (the release\'s {name})')
        dist = [np.abs(np.asarray(a['keypoints'], np.float64).reshape(-1, 3)[:, :2]
                       - lms).mean() if len(a['keypoints']) == 3 * len(lms) else np.inf
                for a in anns]
        best = int(np.argmin(dist))
        if dist[best] > max_diff:
            raise ValueError(f'{ann_file}: no face of {path} has the landmarks of the '
                             f'release\'s {name} (nearest: {dist[best]:.2f} px mean '
                             f'difference > --max-landmark-diff {max_diff})')
        ann_id = anns[best]['id']
        if ann_id in used:
            raise ValueError(f'{ann_file}: annotation {ann_id} matches both {used[ann_id]} '
                             f'and {name}')
        used[ann_id], out[name] = name, ann_id
    return out


def read_list(path: str) -> List[str]:
    """Image names (first column) of a release list, checked against the N in its name."""
    match = re.search(r'_labeled_(\d+)\.txt$', osp.basename(path))
    if not match:
        raise ValueError(f'{path}: a release list is named <dataset>_labeled_<N>.txt')
    with open(path) as f:
        names = [ln.split()[0] for ln in f if ln.strip()]
    n = int(match.group(1))
    if len(names) != n:
        raise ValueError(f'{path} lists {len(names)} images, its name says {n}')
    if len(set(names)) != n:
        raise ValueError(f'{path} lists {n - len(set(names))} images more than once')
    return names


def import_splits(dataset: str, lists_dir: str, official: str, ann_file: str, out_dir: str,
                  num_labeled: Optional[Sequence[int]] = None, max_diff: float = 2.0,
                  aflw_num_train: int = AFLW_NUM_TRAIN) -> Dict[int, Tuple[str, str]]:
    """Write the labeled/unlabeled files of every release list; returns ``{N: paths}``."""
    faces = read_official(dataset, official, aflw_num_train)
    coco = load_coco(ann_file)
    if len(faces) != len(coco['annotations']):
        raise ValueError(f'{ann_file} has {len(coco["annotations"])} faces, the release\'s '
                         f'training set ({official}) has {len(faces)}: is it the training '
                         'file of the same dataset?')
    ids = match_faces(faces, coco, ann_file, max_diff)
    lists = sorted(glob.glob(osp.join(lists_dir, f'{dataset}_labeled_*.txt')))
    if num_labeled:
        lists = [osp.join(lists_dir, f'{dataset}_labeled_{n}.txt') for n in num_labeled]
    if not lists:
        raise FileNotFoundError(f'no {dataset}_labeled_<N>.txt in {lists_dir}')
    stem = osp.splitext(osp.basename(ann_file))[0]
    written = {}
    for path in lists:
        if not osp.isfile(path):
            raise FileNotFoundError(f'release list not found: {path}')
        names = read_list(path)
        unknown = [n for n in names if n not in ids]
        if unknown:
            raise ValueError(f'{path}: {len(unknown)} names are not faces of the release\'s '
                             f'training set ({official}), e.g. {unknown[:3]}')
        lab, unl = split_by_annotations(coco, [ids[n] for n in names])
        n = len(names)
        if len(lab['annotations']) != n or len(unl['annotations']) != len(faces) - n:
            raise RuntimeError(f'{path}: split into {len(lab["annotations"])} labeled and '
                               f'{len(unl["annotations"])} unlabeled faces, expected {n} and '
                               f'{len(faces) - n}')
        written[n] = (write_coco(lab, osp.join(out_dir, f'{stem}.labeled@{n}.json')),
                      write_coco(unl, osp.join(out_dir, f'{stem}.unlabeled@{n}.json')))
    return written


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('dataset', choices=['300w', 'wflw', 'aflw'])
    parser.add_argument('--official', required=True,
                        help='300W: the folder holding afw/, helen/trainset/, '
                        'lfpw/trainset/ (images + .pts); WFLW: list_98pt_rect_attr_train.txt; '
                        'AFLW: AFLWinfo_release.mat')
    parser.add_argument('--ann-file', required=True,
                        help="MMPose's COCO-format training file of the dataset")
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--lists', default=DEFAULT_LISTS,
                        help='folder of the release lists <dataset>_labeled_<N>.txt')
    parser.add_argument('--num-labeled', type=int, nargs='+',
                        help='only these N (default: every list of the dataset)')
    parser.add_argument('--max-landmark-diff', type=float, default=2.0,
                        help='largest mean landmark difference (px) between the official '
                        "face and MMPose's annotation")
    parser.add_argument('--aflw-num-train', type=int, default=AFLW_NUM_TRAIN,
                        help="AFLW: the release's training set is ra[:this]")
    args = parser.parse_args(argv)
    written = import_splits(args.dataset, args.lists, args.official, args.ann_file,
                            args.out_dir, args.num_labeled, args.max_landmark_diff,
                            args.aflw_num_train)
    for n, (lab, unl) in sorted(written.items()):
        print(f'{n} labeled: {lab}\n{" " * len(str(n))} rest:    {unl}')


if __name__ == '__main__':
    main()
