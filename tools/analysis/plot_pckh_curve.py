"""PCKh@0.1..0.5 curves of MPII predictions (seed 001, Fig. 6): random vs adversarial.

Reads prediction pickles written by ``tools/test.py CONFIG CKPT --dump preds.pkl`` (mmengine's
``DumpResults``: one dict per person with ``pred_instances.keypoints`` and ``gt_instances``),
or runs ``tools/test.py --dump`` itself for ``--config``/``--checkpoint`` pairs. The MPII
head-box normalisation is each person's ``gt_instances.head_size`` (``MpiiDataset`` with
``headbox_file``), or, for dumps without it, ``--headbox-file mpii_gt_val.mat`` (the persons in
dataset order; 0.6 x the head-box diagonal, as mmpose). PCKh follows mmpose's
``MpiiPCKAccuracy`` exactly (``keypoint_pck_accuracy`` per joint, MATLAB's 1-based shift of the
predictions, pelvis and thorax left out, joints weighted by their counts), so the 0.5 column
is the ``PCK`` that ``tools/test.py`` prints.

    python tools/analysis/plot_pckh_curve.py random.pkl adversarial.pkl \
        --labels "Random Aug." "+ASR+AHO" --out figure6.png
    python tools/analysis/plot_pckh_curve.py --config A.py B.py --checkpoint a.pth b.pth
"""
import argparse
import os
import os.path as osp
import pickle
import subprocess
import sys
import tempfile
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5)
#: MPII joint groups of Table 1 (mmpose's MpiiPCKAccuracy)
GROUPS = {'Head': (9, ), 'Sho.': (12, 13), 'Elb.': (11, 14), 'Wri.': (10, 15), 'Hip': (2, 3),
          'Knee': (1, 4), 'Ank.': (0, 5)}
LEFT_OUT = (6, 7)  # pelvis, thorax
SC_BIAS = 0.6  # mmpose MpiiDataset: head size = 0.6 x head-box diagonal


def load_dump(path: str) -> Tuple[np.ndarray, np.ndarray, np.ndarray, Optional[np.ndarray]]:
    """(pred [N, K, 2], gt [N, K, 2], visible [N, K] bool, head_size [N] or None) of a
    ``--dump`` pickle."""
    with open(path, 'rb') as f:
        samples = pickle.load(f)
    if not isinstance(samples, list) or not samples:
        raise ValueError(f'{path}: expected a non-empty list of predictions (tools/test.py '
                         f'--dump), got {type(samples).__name__}')
    preds, gts, vis, heads = [], [], [], []
    for i, s in enumerate(samples):
        try:
            pred = np.asarray(s['pred_instances']['keypoints'], np.float64)
            gt = s['gt_instances']
            gt_kpts = np.asarray(gt['keypoints'], np.float64)
            visible = np.asarray(gt['keypoints_visible']).reshape(gt_kpts.shape[:2])
        except (KeyError, TypeError) as err:
            raise ValueError(f'{path}: prediction {i} has no pred_instances.keypoints / '
                             f'gt_instances.keypoints(_visible) ({err})') from err
        preds.append(pred[:1, :, :2])  # top-down: one person per sample
        gts.append(gt_kpts[:1, :, :2])
        vis.append(visible[:1] > 0)
        heads.append(np.asarray(gt['head_size']).reshape(-1)[0] if 'head_size' in gt else None)
    head = None if any(h is None for h in heads) else np.asarray(heads, np.float64)
    return np.concatenate(preds), np.concatenate(gts), np.concatenate(vis), head


def load_headboxes(path: str, count: int) -> np.ndarray:
    """``[N]`` head sizes from an MPII ``headboxes_src`` .mat (2 x 2 x N)."""
    from scipy.io import loadmat
    boxes = loadmat(path).get('headboxes_src')
    if boxes is None or boxes.ndim != 3 or boxes.shape[:2] != (2, 2):
        raise ValueError(f'{path}: expected headboxes_src of shape 2 x 2 x N')
    boxes = np.transpose(boxes, (2, 0, 1))
    if len(boxes) != count:
        raise ValueError(f'{path}: {len(boxes)} head boxes for {count} predictions (the dump '
                         'must hold the whole MPII val set in dataset order)')
    return np.linalg.norm(boxes[:, 1] - boxes[:, 0], axis=1) * SC_BIAS


def pckh_table(pred: np.ndarray, gt: np.ndarray, visible: np.ndarray, head_size: np.ndarray,
               thresholds: Sequence[float] = THRESHOLDS) -> Dict[float, Dict[str, float]]:
    """``{thr: {'Head': .., ..., 'Mean': ..}}`` in percent, as mmpose's MpiiPCKAccuracy."""
    from mmpose.evaluation.functional import keypoint_pck_accuracy
    if pred.shape[1] != 16:
        raise ValueError(f'MPII PCKh needs 16 joints, got {pred.shape[1]}')
    norm = np.tile(np.asarray(head_size, np.float64)[:, None], (1, 2))
    count = visible.sum(0).astype(np.float64)
    count[list(LEFT_OUT)] = 0
    ratio = count / max(count.sum(), 1)
    table = {}
    for thr in thresholds:
        per_joint, _, _ = keypoint_pck_accuracy(pred + 1.0, gt, visible, thr, norm.copy())
        pck = 100. * per_joint
        row = {g: float(np.mean([pck[j] for j in joints])) for g, joints in GROUPS.items()}
        row['Mean'] = float(np.sum(np.where(ratio > 0, pck, 0) * ratio))
        table[float(thr)] = row
    return table


def format_table(tables: Dict[str, Dict[float, Dict[str, float]]]) -> str:
    """A markdown table: one row per (label, threshold)."""
    cols = list(GROUPS) + ['Mean']
    lines = ['| predictions | PCKh@ | ' + ' | '.join(cols) + ' |',
             '|---|---|' + '---|' * len(cols)]
    for label, table in tables.items():
        for thr, row in table.items():
            lines.append(f'| {label} | {thr:.1f} | ' +
                         ' | '.join(f'{row[c]:.1f}' for c in cols) + ' |')
    return '\n'.join(lines)


def plot(tables: Dict[str, Dict[float, Dict[str, float]]], out: str) -> None:
    """Mean PCKh over the thresholds, one line per predictions file (written atomically)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5, 4))
    for label, table in tables.items():
        thrs = sorted(table)
        ax.plot(thrs, [table[t]['Mean'] for t in thrs], marker='o', label=label)
    ax.set_xlabel('normalised distance (PCKh threshold)')
    ax.set_ylabel('PCKh (%)')
    ax.set_title('MPII val, PCKh@0.1-0.5')
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    root, ext = osp.splitext(out)
    tmp = f'{root}.tmp{ext}'
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    os.replace(tmp, out)


def dump_with_tools_test(config: str, checkpoint: str, out: str) -> None:
    """``tools/test.py CONFIG CKPT --dump OUT`` in a subprocess."""
    tool = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'test.py')
    subprocess.run([sys.executable, tool, config, checkpoint, '--dump', out,
                    '--work-dir', osp.join(osp.dirname(out), 'test_work_dir')], check=True)


def main(argv=None) -> Dict[str, Dict[float, Dict[str, float]]]:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('dumps', nargs='*', help='tools/test.py --dump pickles')
    parser.add_argument('--config', nargs='+', default=[], help='or: configs to test ...')
    parser.add_argument('--checkpoint', nargs='+', default=[], help='... with these weights')
    parser.add_argument('--labels', nargs='+', help='one per input (default: file names)')
    parser.add_argument('--headbox-file', help='MPII mpii_gt_val.mat, for dumps without '
                        'gt_instances.head_size')
    parser.add_argument('--thresholds', type=float, nargs='+', default=list(THRESHOLDS))
    parser.add_argument('--out', default='pckh_curve.png', help='the plot (PNG)')
    args = parser.parse_args(argv)
    if len(args.config) != len(args.checkpoint):
        parser.error('--config and --checkpoint need the same number of entries')
    inputs: List[str] = list(args.dumps)
    tmp_dir = tempfile.mkdtemp(prefix='pckh_curve_') if args.config else None
    for i, (cfg, ckpt) in enumerate(zip(args.config, args.checkpoint)):
        out = osp.join(tmp_dir, f'preds_{i}.pkl')
        dump_with_tools_test(cfg, ckpt, out)
        inputs.append(out)
    if not inputs:
        parser.error('give prediction pickles or --config/--checkpoint pairs')
    names = list(args.dumps) + list(args.config)
    labels = args.labels or [osp.splitext(osp.basename(n))[0] for n in names]
    if len(labels) != len(inputs):
        parser.error(f'{len(labels)} labels for {len(inputs)} inputs')
    tables = {}
    for label, path in zip(labels, inputs):
        pred, gt, visible, head = load_dump(path)
        if head is None:
            if not args.headbox_file:
                raise ValueError(f'{path}: the predictions carry no gt_instances.head_size '
                                 '(test with MpiiDataset headbox_file set) and no '
                                 '--headbox-file was given')
            head = load_headboxes(args.headbox_file, len(pred))
        tables[label] = pckh_table(pred, gt, visible, head, args.thresholds)
    print(format_table(tables))
    plot(tables, args.out)
    print(f'plot: {args.out}')
    return tables


if __name__ == '__main__':
    main()
