"""tools/misc/import_stld_splits.py on fixture-sized inputs in the official formats."""
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from scipy.io import savemat

from stld_helpers import REPO_ROOT

spec = importlib.util.spec_from_file_location(
    'import_stld_splits', REPO_ROOT / 'tools/misc/import_stld_splits.py')
tool = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tool)


def _coco(faces, num_kpts, shift=0.0):
    """MMPose-style COCO file of ``faces`` [(file_name, landmarks)], ids in reverse order."""
    images, anns = {}, []
    for i, (file_name, lms) in enumerate(faces):
        img_id = images.setdefault(file_name, len(images) + 1)
        kpts = np.concatenate([lms + shift, np.ones((num_kpts, 1))], 1)
        anns.append(dict(id=1000 - i, image_id=img_id, keypoints=kpts.ravel().tolist(),
                         num_keypoints=num_kpts, center=lms.mean(0).tolist(), scale=1.0,
                         iscrowd=0, category_id=1))
    return dict(images=[dict(id=i, file_name=f, width=500, height=500)
                        for f, i in images.items()],
                annotations=anns, categories=[dict(id=1, name='face')])


def _write_json(obj, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj))
    return str(path)


def _write_list(folder, dataset, names):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f'{dataset}_labeled_{len(names)}.txt'
    path.write_text('\n'.join(names) + '\n')
    return path


@pytest.fixture
def data_300w(tmp_path):
    rng = np.random.default_rng(0)
    root, faces = tmp_path / '300w', []
    for folder, images in (('afw', ['1_1.jpg', '2_1.jpg']),
                           ('helen/trainset', ['10_1.jpg']),
                           ('lfpw/trainset', ['image_0001.png', 'image_0002.png'])):
        (root / folder).mkdir(parents=True)
        for image in images:
            lms = rng.uniform(50, 400, (68, 2)).round(3)
            (root / folder / image).write_bytes(b'')
            pts = ['version: 1', 'n_points:  68', '{'] + [f'{x} {y}' for x, y in lms] + ['}']
            (root / folder / (image.rsplit('.', 1)[0] + '.pts')).write_text('\n'.join(pts))
            faces.append((f'{folder}/{image}', lms))
    # MMPose's file: images under its own prefix, 0-based pixels (one pixel off the .pts)
    ann = _write_json(_coco([(f'images/{f}', lms) for f, lms in faces], 68, shift=-1.0),
                      tmp_path / 'face_landmarks_300w_train.json')
    return root, ann, faces


def test_300w_lists_become_the_configs_files(tmp_path, data_300w):
    root, ann, faces = data_300w
    lists = tmp_path / 'lists'
    _write_list(lists, '300w', ['helen_trainset_10_1.jpg', 'lfpw_trainset_image_0002.png'])
    out = tmp_path / 'semi'
    tool.main(['300w', '--official', str(root), '--ann-file', ann, '--out-dir', str(out),
               '--lists', str(lists)])
    lab = json.loads((out / 'face_landmarks_300w_train.labeled@2.json').read_text())
    unl = json.loads((out / 'face_landmarks_300w_train.unlabeled@2.json').read_text())
    assert sorted(im['file_name'] for im in lab['images']) == [
        'images/helen/trainset/10_1.jpg', 'images/lfpw/trainset/image_0002.png']
    assert len(lab['annotations']) == 2 and len(unl['annotations']) == 3
    assert all(set(a['keypoints']) == {0} for a in unl['annotations'])  # no label leaks
    assert any(a['keypoints'][0] != 0 for a in lab['annotations'])
    assert lab['categories'] == unl['categories']


def test_count_mismatches_name_the_file(tmp_path, data_300w):
    root, ann, _ = data_300w
    lists = tmp_path / 'lists'
    lists.mkdir()
    bad = lists / '300w_labeled_3.txt'
    bad.write_text('afw_1_1.jpg\nafw_2_1.jpg\n')
    with pytest.raises(ValueError, match=f'{bad} lists 2 images, its name says 3'):
        tool.import_splits('300w', str(lists), str(root), ann, str(tmp_path / 'o'))
    bad.unlink()
    unknown = _write_list(lists, '300w', ['afw_1_1.jpg', 'afw_9_1.jpg'])
    with pytest.raises(ValueError, match=f'{unknown}: 1 names are not faces.*afw_9_1'):
        tool.import_splits('300w', str(lists), str(root), ann, str(tmp_path / 'o'))
    unknown.unlink()
    _write_list(lists, '300w', ['afw_1_1.jpg', 'afw_2_1.jpg'])
    coco = json.loads(Path(ann).read_text())
    coco['annotations'] = coco['annotations'][:-1]
    short = _write_json(coco, tmp_path / 'short.json')
    with pytest.raises(ValueError, match=f'{short} has 4 faces.*has 5'):
        tool.import_splits('300w', str(lists), str(root), short, str(tmp_path / 'o'))
    coco = json.loads(Path(ann).read_text())
    kpts = coco['annotations'][0]['keypoints']  # not the official face any more
    coco['annotations'][0]['keypoints'] = [v + 10. for v in kpts]
    moved = _write_json(coco, tmp_path / 'moved.json')
    with pytest.raises(ValueError, match=f'{moved}: no face of .* has the landmarks'):
        tool.import_splits('300w', str(lists), str(root), moved, str(tmp_path / 'o'),
                           max_diff=1.5)


def test_wflw_lines_with_two_faces_in_one_image(tmp_path):
    rng = np.random.default_rng(1)
    lines, faces = [], []
    for k, image in enumerate(['51--Dresses/a.jpg', '51--Dresses/a.jpg', '2--Demo/b.jpg']):
        lms = rng.uniform(0, 300, (98, 2)).round(4)
        box = [1, 2, 30, 40]
        lines.append(' '.join(map(str, [*lms.ravel(), *box, 0, 0, 0, 0, 0, 0, image])))
        faces.append((image, lms))
    official = tmp_path / 'list_98pt_rect_attr_train.txt'
    official.write_text('\n'.join(lines) + '\n')
    ann = _write_json(_coco(faces, 98), tmp_path / 'face_landmarks_wflw_train.json')
    lists = tmp_path / 'lists'
    _write_list(lists, 'wflw', ['wflw_train_0002.jpg'])
    out = tool.import_splits('wflw', str(lists), str(official), ann, str(tmp_path / 'semi'))
    lab = json.loads(Path(out[1][0]).read_text())
    unl = json.loads(Path(out[1][1]).read_text())
    assert [a['id'] for a in lab['annotations']] == [999]  # the 2nd face of a.jpg
    assert sorted(a['id'] for a in unl['annotations']) == [998, 1000]
    # the image with one labeled and one unlabeled face is in both files
    assert len(unl['images']) == 2 and len(lab['images']) == 1
    bad = tmp_path / 'bad.txt'
    bad.write_text('1 2 3 x.jpg\n')
    with pytest.raises(ValueError, match=f'{bad}: line 1 has 4 fields'):
        tool.faces_wflw(str(bad))


def test_aflw_indices_into_the_mat_file(tmp_path):
    rng = np.random.default_rng(2)
    num = 6
    data = rng.uniform(0, 200, (num, 38)).round(2)
    names = np.empty((num, 1), dtype=object)
    for i in range(num):
        names[i, 0] = np.array([f'{i % 3}/image{i:05d}.jpg'])
    ra = np.array([[4, 1, 6, 2, 5, 3]])
    mat = tmp_path / 'AFLWinfo_release.mat'
    savemat(str(mat), dict(nameList=names, data=data, bbox=np.zeros((num, 4)),
                           mask_new=np.ones((num, 19)), ra=ra))
    train = [int(i) for i in ra[0][:4]]
    faces = tool.faces_aflw(str(mat), num_train=4)
    assert [f[0] for f in faces] == [f'aflw_train_{i:05d}.jpg' for i in train]
    np.testing.assert_allclose(faces[0][2][:, 0], data[3, :19])
    np.testing.assert_allclose(faces[0][2][:, 1], data[3, 19:])
    coco = _coco([(f[1], f[2]) for f in faces], 19)
    ann = _write_json(coco, tmp_path / 'face_landmarks_aflw_train.json')
    lists = tmp_path / 'lists'
    _write_list(lists, 'aflw', ['aflw_train_00006.jpg', 'aflw_train_00004.jpg'])
    ids = tool.match_faces(faces, coco, ann, 0.01)
    out = tool.import_splits('aflw', str(lists), str(mat), ann, str(tmp_path / 'semi'),
                             aflw_num_train=4)
    lab = json.loads(Path(out[2][0]).read_text())
    assert sorted(a['id'] for a in lab['annotations']) == sorted(
        [ids['aflw_train_00006.jpg'], ids['aflw_train_00004.jpg']])
    assert len(json.loads(Path(out[2][1]).read_text())['annotations']) == 4 - 2  # rest of ra[:4]
