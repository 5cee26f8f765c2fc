"""CI-SSOD LVIS v1 and COCO -> Objects365 splits: protocol, files, errors, config paths."""
import importlib.util
import json
import os
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config

from mmssl.datasets.chunked_json import atomic_json_dump_chunked
from mmssl.datasets.ci_ssod_splits import (OUTPUTS, InstancesIndex, read_image_ids,
                                           select_labeled_images, split_lvis, split_objects365)
from mmssl.datasets.coco_to_objects365 import COCO_TO_OBJECTS365

REPO = osp.join(osp.dirname(__file__), '..', '..')
_spec = importlib.util.spec_from_file_location(
    'split_coco_imbalance', osp.join(REPO, 'tools', 'misc', 'split_coco_imbalance.py'))
split_tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(split_tool)
LVIS_CFG = osp.join(REPO, 'configs', 'ci_ssod',
                    'ci-ssod_soft-teacher_faster-rcnn_r50-caffe_fpn_180k_lvis-v1.py')
O365_CFG = osp.join(REPO, 'configs', 'ci_ssod',
                    'ci-ssod_soft-teacher_faster-rcnn_r50-caffe_fpn_360k_coco-objects365.py')
COCO_IDS = [i for i in range(1, 91) if i not in (12, 26, 29, 30, 45, 66, 68, 69, 71, 83)]


# ----------------------------------------------------------------------------- fixtures
def _lvis(num_images=60, seed=0):
    """LVIS-v1-style train file: 9 real LVIS names, 3 per frequency, ids not contiguous,
    images with coco_url and the exhaustiveness lists, annotations without iscrowd."""
    from mmdet.datasets import LVISV1Dataset
    names = LVISV1Dataset.METAINFO['classes'][:9]
    freq = ['r', 'r', 'r', 'c', 'c', 'c', 'f', 'f', 'f']
    cats = [dict(id=3 * k + 1, name=n, frequency=f, synset=f'{n}.n.01', image_count=0,
                 instance_count=0) for k, (n, f) in enumerate(zip(names, freq))]
    for cat in cats:
        cat['def'] = f"a {cat['name']}"
    prior = np.array([0.2, 0.3, 0.5, 2, 2, 2, 6, 6, 6])
    rng = np.random.default_rng(seed)
    images, anns = [], []
    for img_id in rng.permutation(np.arange(500, 500 + num_images)).tolist():
        images.append(dict(id=img_id, height=64, width=80,
                           coco_url=f'http://images.cocodataset.org/train2017/{img_id:012d}.jpg',
                           not_exhaustive_category_ids=[cats[img_id % 9]['id']],
                           neg_category_ids=[cats[(img_id + 1) % 9]['id']]))
        for k in rng.choice(9, size=int(rng.integers(0, 4)), p=prior / prior.sum()).tolist():
            anns.append(dict(id=len(anns) + 10, image_id=img_id, category_id=cats[k]['id'],
                             bbox=[1.0, 2.0, 10.0, 12.0], area=120.0,
                             segmentation=[[1, 2, 11, 2, 11, 14]]))
    return dict(info=dict(year=2020), licenses=[dict(id=1)], images=images,
                annotations=anns, categories=cats)


def _objects365():
    """Objects365-v2-style file (the 365 v2 names, ids 1..365) and a COCO file whose image
    and annotation ids collide with it."""
    from mmdet.datasets import CocoDataset, Objects365V2Dataset
    o_names = Objects365V2Dataset.METAINFO['classes']
    o_cats = [dict(id=i + 1, name=n) for i, n in enumerate(o_names)]
    by_name = {c['name']: c['id'] for c in o_cats}
    rng = np.random.default_rng(1)
    majority = ['Person', 'Car', 'Bear', 'Chair']
    minority = ['Sneakers', 'Lamp', 'Glasses', 'Desk', 'Hat']  # no COCO counterpart
    images, anns = [], []
    for img_id in range(1, 81):
        images.append(dict(id=img_id, height=64, width=64,
                           file_name=f'images/v1/patch{img_id % 3}/objects365_v1_{img_id:08d}.jpg'))
        names = list(rng.choice(majority, size=2))
        if img_id % 4 == 0:
            names.append(minority[(img_id // 4) % 5])
        for n in names:
            anns.append(dict(id=len(anns) + 1, image_id=img_id, category_id=by_name[n],
                             bbox=[1, 1, 9, 9], area=81, iscrowd=0))
    # a crowd box of 'Hat' must not count as a shot
    anns.append(dict(id=len(anns) + 1, image_id=3, category_id=by_name['Hat'],
                     bbox=[1, 1, 9, 9], area=81, iscrowd=1))
    o365 = dict(licenses=[], images=images, annotations=anns, categories=o_cats)

    c_cats = [dict(id=i, name=n, supercategory='x')
              for i, n in zip(COCO_IDS, CocoDataset.METAINFO['classes'])]
    c_id = {c['name']: c['id'] for c in c_cats}
    c_images = [dict(id=i, file_name=f'{i:012d}.jpg', height=48, width=48) for i in (9, 2, 5)]
    c_anns = []
    for img, name in [(2, 'person'), (2, 'sports ball'), (5, 'teddy bear'), (5, 'bird'),
                      (9, 'bear'), (9, 'suitcase')]:
        c_anns.append(dict(id=len(c_anns) + 1, image_id=img, category_id=c_id[name],
                           bbox=[2, 2, 8, 8], area=64, iscrowd=0, segmentation=[[2, 2, 9, 9]]))
    coco = dict(info={}, images=c_images, annotations=c_anns, categories=c_cats)
    return o365, coco


def _anns_by_image(coco):
    out = {}
    for a in coco['annotations']:
        out.setdefault(a['image_id'], []).append(a)
    return out


def _write(path, obj):
    path.write_text(json.dumps(obj))
    return str(path)


# ----------------------------------------------------------------------------- LVIS
def test_lvis_split_is_the_release_protocol():
    coco = _lvis()
    labeled, unlabeled, groups = split_lvis(coco, 'lvis.json', percent=10, shots=0, seed=1)
    ids = sorted(img['id'] for img in coco['images'])
    expected = sorted(np.array(ids)[np.random.default_rng(1).permutation(60)[:6]].tolist())
    lab_ids = [img['id'] for img in labeled['images']]
    unl_ids = [img['id'] for img in unlabeled['images']]
    assert lab_ids == expected  # 10 % of the images, sorted by id
    assert unl_ids == sorted(set(ids) - set(expected))
    # every annotation of an image goes with it; image and annotation dicts are unchanged
    orig_imgs = {img['id']: img for img in coco['images']}
    by_img = _anns_by_image(coco)
    for part, part_ids in ((labeled, lab_ids), (unlabeled, unl_ids)):
        assert part['images'] == [orig_imgs[i] for i in part_ids]
        assert part['annotations'] == [a for i in part_ids for a in by_img.get(i, [])]
        assert all('iscrowd' not in a for a in part['annotations'])
        assert part['categories'] == coco['categories']  # frequency etc. kept
        assert part['info'] == coco['info'] and part['licenses'] == coco['licenses']
    assert 'not_exhaustive_category_ids' in labeled['images'][0]
    assert 'neg_category_ids' in unlabeled['images'][0]
    assert len(labeled['annotations']) + len(unlabeled['annotations']) == \
        len(coco['annotations'])
    names = [c['name'] for c in coco['categories']]
    assert groups == dict(rare_classes=names[:3], common_classes=names[3:6],
                          frequent_classes=names[6:])
    again, _, _ = split_lvis(coco, 'lvis.json', percent=10, shots=0, seed=1)
    other, _, _ = split_lvis(coco, 'lvis.json', percent=10, shots=0, seed=2)
    assert again == labeled and other['images'] != labeled['images']


def test_lvis_rare_few_shot_top_up():
    coco = _lvis(num_images=200)
    base, _, _ = split_lvis(coco, 'lvis.json', percent=5, shots=0, seed=3)
    labeled, _, _ = split_lvis(coco, 'lvis.json', percent=5, shots=2, seed=3)
    assert {i['id'] for i in base['images']} < {i['id'] for i in labeled['images']}
    total = {c['id']: 0 for c in coco['categories']}
    for a in coco['annotations']:
        total[a['category_id']] += 1
    have = {c['id']: 0 for c in coco['categories']}
    for a in labeled['annotations']:
        have[a['category_id']] += 1
    for cat in coco['categories'][:3]:  # rare: at least 2 instances, or all there are
        assert have[cat['id']] >= min(2, total[cat['id']])
    # each added image brings a rare instance (images are added for rare classes only)
    by_img = _anns_by_image(labeled)
    rare = {c['id'] for c in coco['categories'][:3]}
    added = {i['id'] for i in labeled['images']} - {i['id'] for i in base['images']}
    assert added and all(any(a['category_id'] in rare for a in by_img[i]) for i in added)


def test_select_counts_only_non_crowd_instances():
    coco = dict(images=[dict(id=i) for i in range(4)], categories=[dict(id=7)],
                annotations=[dict(image_id=0, category_id=7, iscrowd=1),
                             dict(image_id=1, category_id=7, iscrowd=0),
                             dict(image_id=2, category_id=7, iscrowd=0)])
    index = InstancesIndex(coco, 'x.json')
    mask = select_labeled_images(index, 0, 2, [7], seed=0)
    assert mask.tolist() == [False, True, True, False]
    with pytest.raises(ValueError, match='percent'):
        select_labeled_images(index, 100, 0, [7], seed=0)


def test_labeled_ids_reproduce_a_given_list(tmp_path):
    coco = _lvis()
    chosen = sorted(img['id'] for img in coco['images'])[5:12]
    txt = tmp_path / 'lvis_split.txt'
    txt.write_text('\n'.join(str(i) for i in chosen) + '\n\n')
    as_coco = _write(tmp_path / 'label.json', dict(images=[dict(id=i) for i in chosen]))
    for path in (str(txt), as_coco):
        labeled, unlabeled, _ = split_lvis(coco, 'lvis.json',
                                           labeled_ids=(path, read_image_ids(path)))
        assert [i['id'] for i in labeled['images']] == chosen
        assert len(unlabeled['images']) == 60 - len(chosen)
    with pytest.raises(ValueError, match=r'ids.txt: 1 image ids are not images of lvis.json'):
        split_lvis(coco, 'lvis.json', labeled_ids=('ids.txt', chosen + [10 ** 6]))
    txt.write_text('501\nabc\n')
    with pytest.raises(ValueError, match='line 2'):
        read_image_ids(str(txt))
    with pytest.raises(FileNotFoundError, match='nothing.txt'):
        read_image_ids(str(tmp_path / 'nothing.txt'))


def test_lvis_errors_name_the_file_and_the_problem(tmp_path):
    coco = _lvis()
    no_freq = json.loads(json.dumps(coco))
    del no_freq['categories'][4]['frequency']
    name = no_freq['categories'][4]['name']
    with pytest.raises(ValueError, match=rf"lvis.json: categories \['{name}'\].*frequency"):
        split_lvis(no_freq, 'lvis.json')
    bad_img = json.loads(json.dumps(coco))
    bad_img['annotations'][0]['image_id'] = 123456
    with pytest.raises(ValueError, match=r'lvis.json: 1 annotations refer to image ids.*123456'):
        split_lvis(bad_img, 'lvis.json')
    no_url = json.loads(json.dumps(coco))
    del no_url['images'][0]['coco_url']
    with pytest.raises(ValueError, match="neither 'coco_url' nor 'file_name'"):
        split_lvis(no_url, 'lvis.json')
    with pytest.raises(ValueError, match='no "categories" list'):
        split_lvis({k: v for k, v in coco.items() if k != 'categories'}, 'lvis.json')
    with pytest.raises(ValueError, match='empty'):
        split_lvis(coco, 'lvis.json', percent=0, shots=0)
    out = str(tmp_path / 'out')
    with pytest.raises(FileNotFoundError, match='missing.json'):
        split_tool.main([str(tmp_path / 'missing.json'), '--protocol', 'lvis', '--out-dir', out])
    (tmp_path / 'broken.json').write_text('{"images": [')
    with pytest.raises(ValueError, match='broken.json is not valid JSON'):
        split_tool.main([str(tmp_path / 'broken.json'), '--protocol', 'lvis', '--out-dir', out])
    with pytest.raises(SystemExit):  # --split is a coco option
        split_tool.main([str(tmp_path / 'broken.json'), '--protocol', 'lvis', '--split', '2'])
    assert not osp.exists(out)


def test_lvis_cli_writes_the_files_and_prints_counts(tmp_path, capsys):
    coco = _lvis()
    ann = _write(tmp_path / 'lvis_v1_train.json', coco)
    out = tmp_path / 'out'
    split_tool.main([ann, '--protocol', 'lvis', '--out-dir', str(out)])
    names = OUTPUTS['lvis']
    assert sorted(os.listdir(out)) == sorted(names[k] for k in ('labeled', 'unlabeled',
                                                                'groups'))  # no temp files
    labeled, unlabeled, groups = split_lvis(coco, ann, percent=10, shots=0, seed=1)
    assert json.loads((out / names['labeled']).read_text()) == labeled
    assert json.loads((out / names['unlabeled']).read_text()) == unlabeled
    written = json.loads((out / names['groups']).read_text())
    assert {k: written[k] for k in groups} == groups
    assert written['split']['percent'] == 10 and written['split']['seed'] == 1
    text = capsys.readouterr().out
    num_rare = sum(a['category_id'] in {1, 4, 7} for a in labeled['annotations'])
    assert f"lvis labeled: 6 images, {len(labeled['annotations'])} instances" in text
    assert f'rare_classes: 3 classes, {num_rare} instances' in text
    assert f"lvis unlabeled: 54 images, {len(unlabeled['annotations'])} instances" in text


def test_chunked_json_equals_json_dumps(tmp_path):
    obj = dict(images=[dict(id=i, f=[i, 'x']) for i in range(7)], annotations=[],
               categories=[dict(id=1)], info={'a': 1})
    path = atomic_json_dump_chunked(obj, str(tmp_path / 'a.json'), chunk_size=2)
    assert open(path).read() == json.dumps(obj)


# ----------------------------------------------------------------------------- Objects365
def test_objects365_split_is_the_release_protocol():
    o365, coco = _objects365()
    labeled, unlabeled, groups = split_objects365(o365, 'o365.json', coco, 'coco.json',
                                                  percent=0, shots=3, seed=0)
    # groups: the 78 Objects365 classes a COCO class maps to, the other 287 are minority
    targets = {v for v in COCO_TO_OBJECTS365.values() if v}
    assert len(groups['majority_classes']) == 78 and len(groups['minority_classes']) == 287
    assert set(groups['majority_classes']) == targets
    assert {'Bear', 'Wild Bird', 'Luggage'} <= targets and 'Sneakers' in \
        groups['minority_classes']
    assert COCO_TO_OBJECTS365['sports ball'] is None
    assert COCO_TO_OBJECTS365['teddy bear'] == COCO_TO_OBJECTS365['bear'] == 'Bear'

    name = {c['id']: c['name'] for c in o365['categories']}
    minority = set(groups['minority_classes'])
    o_lab = [i for i in labeled['images'] if 'coco_image_id' not in i]
    c_lab = [i for i in labeled['images'] if 'coco_image_id' in i]
    by_img = _anns_by_image(o365)
    # Objects365 labeled images: added for minority classes only, with all their boxes
    lab_o_ids = {i['id'] for i in o_lab}
    assert o_lab == sorted(o_lab, key=lambda i: i['id'])
    for img_id in lab_o_ids:
        assert any(name[a['category_id']] in minority and not a['iscrowd']
                   for a in by_img[img_id])
    lab_o_anns = [a for a in labeled['annotations'] if a['image_id'] in lab_o_ids]
    assert lab_o_anns == [a for i in sorted(lab_o_ids) for a in by_img[i]]
    for cls in ('Sneakers', 'Lamp', 'Glasses', 'Desk', 'Hat'):
        have = sum(name[a['category_id']] == cls and not a['iscrowd'] for a in lab_o_anns)
        total = sum(name[a['category_id']] == cls and not a['iscrowd']
                    for a in o365['annotations'])
        assert have >= min(3, total) and total > 3
    # unlabeled: every other Objects365 image with every box, no COCO image
    assert [i['id'] for i in unlabeled['images']] == sorted(set(range(1, 81)) - lab_o_ids)
    assert len(unlabeled['annotations']) + len(lab_o_anns) == len(o365['annotations'])
    assert unlabeled['categories'] == o365['categories'] == labeled['categories']
    # COCO train2017: every image, ids above the Objects365 ones, boxes relabeled
    assert [i['coco_image_id'] for i in c_lab] == [2, 5, 9]
    assert [i['id'] for i in c_lab] == [102, 105, 109]  # offset 10 ** len('80')
    assert c_lab[0]['file_name'] == 'train2017/000000000002.jpg'
    c_anns = [a for a in labeled['annotations'] if a['image_id'] >= 100]
    assert [(a['image_id'], name[a['category_id']]) for a in c_anns] == [
        (102, 'Person'), (105, 'Bear'), (105, 'Wild Bird'), (109, 'Bear'), (109, 'Luggage')]
    assert len({a['id'] for a in labeled['annotations']}) == len(labeled['annotations'])
    assert len({i['id'] for i in labeled['images']}) == len(labeled['images'])


def test_objects365_labeled_ids_and_errors(tmp_path):
    o365, coco = _objects365()
    labeled, unlabeled, _ = split_objects365(o365, 'o365.json', coco, 'coco.json',
                                             labeled_ids=('ids.txt', [4, 7]))
    assert [i['id'] for i in labeled['images']][:2] == [4, 7]
    assert len(labeled['images']) == 5 and len(unlabeled['images']) == 78
    bad_coco = json.loads(json.dumps(coco))
    bad_coco['categories'][0]['name'] = 'human'
    with pytest.raises(ValueError, match=r"coco.json: categories \['human'\] are not COCO"):
        split_objects365(o365, 'o365.json', bad_coco, 'coco.json')
    v1 = json.loads(json.dumps(o365))
    v1['categories'][0]['name'] = 'human'
    with pytest.raises(ValueError, match=r"o365.json: categories \['human'\].*v2"):
        split_objects365(v1, 'o365.json', coco, 'coco.json')
    ann = _write(tmp_path / 'o365.json', o365)
    with pytest.raises(SystemExit):  # --coco-ann is required
        split_tool.main([ann, '--protocol', 'objects365'])
    with pytest.raises(FileNotFoundError, match='no_coco.json'):
        split_tool.main([ann, '--protocol', 'objects365', '--coco-ann',
                         str(tmp_path / 'no_coco.json'), '--out-dir', str(tmp_path / 'o')])
    (tmp_path / 'list.json').write_text('{"a": 1}')
    with pytest.raises(ValueError, match='list.json: expected a list of image ids'):
        split_tool.main([ann, '--protocol', 'objects365', '--coco-ann', ann,
                         '--labeled-ids', str(tmp_path / 'list.json'),
                         '--out-dir', str(tmp_path / 'o')])


def test_objects365_labeled_file_loads_in_the_config_dataset(tmp_path, capsys):
    """The merged labeled file trains in mmdet's Objects365V2Dataset: 365 classes, COCO
    images under <data_prefix>/train2017/, relabeled boxes."""
    from mmdet.datasets import Objects365V2Dataset
    o365, coco = _objects365()
    out = tmp_path / 'data' / 'objects365' / 'semi_anns' / 'ci_ssod'
    split_tool.main([_write(tmp_path / 'o365.json', o365), '--protocol', 'objects365',
                     '--coco-ann', _write(tmp_path / 'coco.json', coco), '--shots', '3',
                     '--out-dir', str(out)])
    text = capsys.readouterr().out
    assert 'minority_classes: 287 classes' in text and 'majority_classes: 78 classes' in text
    assert 'labeled from COCO: 3 images, 5 instances' in text
    groups = json.loads((out / OUTPUTS['objects365']['groups']).read_text())
    assert groups['coco_to_objects365']['sports ball'] is None
    root = str(tmp_path / 'data' / 'objects365')
    ds = Objects365V2Dataset(data_root=root, ann_file='semi_anns/ci_ssod/' +
                             OUTPUTS['objects365']['labeled'], data_prefix=dict(img='train/'),
                             pipeline=[], filter_cfg=dict(filter_empty_gt=True))
    infos = {ds.get_data_info(i)['img_id']: ds.get_data_info(i) for i in range(len(ds))}
    assert len(ds.metainfo['classes']) == 365 and 105 in infos
    assert infos[105]['img_path'] == osp.join(root, 'train', 'train2017', '000000000005.jpg')
    bear = ds.metainfo['classes'].index('Bear')
    assert [inst['bbox_label'] for inst in infos[105]['instances']][0] == bear


# ----------------------------------------------------------------------------- configs
@pytest.mark.parametrize('protocol', ['lvis', 'objects365'])
def test_tool_defaults_write_the_files_the_configs_read(tmp_path, monkeypatch, protocol):
    """Run the tool with its default --out-dir from a data root and find every annotation /
    class-groups path of the config's datasets, evaluator and hooks among its outputs."""
    monkeypatch.chdir(tmp_path)
    if protocol == 'lvis':
        split_tool.main([_write(tmp_path / 'train.json', _lvis()), '--protocol', 'lvis'])
        cfg = Config.fromfile(LVIS_CFG)
    else:
        o365, coco = _objects365()
        split_tool.main([_write(tmp_path / 'train.json', o365), '--protocol', 'objects365',
                         '--coco-ann', _write(tmp_path / 'coco.json', coco)])
        cfg = Config.fromfile(O365_CFG)
    names = OUTPUTS[protocol]
    written = {k: osp.join(names['out_dir'], names[k]) for k in ('labeled', 'unlabeled',
                                                               'groups')}
    assert split_tool.PROTOCOL_DEFAULTS[protocol]['out_dir'] == names['out_dir']
    labeled, unlabeled = cfg.train_dataloader.dataset.datasets
    assert osp.normpath(osp.join(labeled.data_root, labeled.ann_file)) == written['labeled']
    assert osp.normpath(osp.join(unlabeled.data_root, unlabeled.ann_file)) == \
        written['unlabeled']
    groups_paths = [cfg.val_evaluator.get('class_groups_file'),
                    cfg.test_evaluator.get('class_groups_file')] + \
        [h.get('class_groups_file') for h in cfg.custom_hooks]
    groups_paths = [osp.normpath(p) for p in groups_paths if p is not None]
    if protocol == 'objects365':  # evaluator and statistics hook read the groups file
        assert groups_paths == [written['groups']] * 3
    else:  # LVIS groups come from the categories' frequency field
        assert groups_paths == [] and cfg.val_evaluator.frequency_groups
    for path in written.values():
        assert osp.isfile(path), path
