"""Write the unlabeled images of a folder as a COCO-format file of boxes (omni setting).

The self-training runner reads its unlabeled set from such a file
(``self_training.unlabeled_ann_file``, images found under
``self_training.unlabeled_dataset.data_root`` / ``data_prefix``). Boxes are the whole image
(default) or a detector's results (``--det-file``): a JSON list of ``{"file_name": str,
"bbox": [x, y, w, h], "score": float}`` with file names relative to the folder, filtered by
``--score-thr`` and ``--min-box-size``, keeping the ``--max-per-image`` best boxes of each
image. Rules: :mod:`mmssl.datasets.image_folder`. ``--num-images`` writes nested random
subsets (``<stem>.unlabeled@<N>.json``, shuffled once with ``--seed``); without it one file
with every image that has a box (``<stem>.unlabeled@all.json``). Files are written atomically.

Examples::

    # CelebA faces for 300W (68 keypoints), boxes from a face detector, 20K / 70K / all
    python tools/dataset_converters/image_folder_to_coco.py data/celeba/img_celeba \\
        --num-keypoints 68 --det-file data/celeba/face_detections.json --score-thr 0.9 \\
        --box-scale 1.0 --category face --out-dir data/celeba/annotations --stem celeba_faces
    python tools/dataset_converters/image_folder_to_coco.py data/celeba/img_celeba \\
        --num-keypoints 68 --det-file data/celeba/face_detections.json --score-thr 0.9 \\
        --num-images 20000 70000 --category face --out-dir data/celeba/annotations \\
        --stem celeba_faces
    # RSNA bone-age radiographs for the hand X-rays (37 keypoints), whole images
    python tools/dataset_converters/image_folder_to_coco.py \\
        data/rsna_boneage/boneage-training-dataset --num-keypoints 37 --category hand \\
        --out-dir data/rsna_boneage/annotations --stem rsna_boneage_train
"""
import argparse
import os.path as osp
from typing import List, Optional, Sequence

from mmssl.datasets.image_folder import image_folder_to_coco, nested_image_subsets
from mmssl.datasets.splits import write_coco


def main(argv: Optional[Sequence[str]] = None) -> List[str]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('img_dir', help='image folder (searched recursively)')
    parser.add_argument('--num-keypoints', type=int, required=True,
                        help='keypoints of the labeled set (68 for 300W, 37 for the hands)')
    parser.add_argument('--det-file', default=None, help='detector results JSON (default: '
                        'whole-image boxes)')
    parser.add_argument('--score-thr', type=float, default=0.0)
    parser.add_argument('--max-per-image', type=int, default=1,
                        help='best boxes kept per image (0: all)')
    parser.add_argument('--min-box-size', type=float, default=1.0)
    parser.add_argument('--box-scale', type=float, default=1.0,
                        help='enlarge each box about its centre')
    parser.add_argument('--category', default='object')
    parser.add_argument('--num-images', type=int, nargs='+', default=None,
                        help='nested random subsets of these sizes (default: every image)')
    parser.add_argument('--seed', type=int, default=1234)
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--stem', required=True, help='output name stem')
    args = parser.parse_args(argv)
    coco = image_folder_to_coco(
        args.img_dir, args.num_keypoints, det_file=args.det_file, score_thr=args.score_thr,
        max_per_image=args.max_per_image or None, min_box_size=args.min_box_size,
        box_scale=args.box_scale, category=args.category)
    parts = ({'all': coco} if not args.num_images else
             nested_image_subsets(coco, args.num_images, args.seed))
    written = []
    for n, part in parts.items():
        path = write_coco(part, osp.join(args.out_dir, f'{args.stem}.unlabeled@{n}.json'))
        print(f'{path}: {len(part["images"])} images, {len(part["annotations"])} boxes')
        written.append(path)
    return written


if __name__ == '__main__':
    main()
