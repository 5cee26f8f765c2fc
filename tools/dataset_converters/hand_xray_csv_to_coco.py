"""Convert Payer et al.'s hand X-ray landmark CSV + image folder to a COCO-format file.

CSV format (Payer et al.'s ``setup/all.csv``): one row per image, no header, comma-separated:
the image id (the image's file stem), then ``x0, y0, ..., x36, y36``, the 37 landmarks in
pixels of the original radiograph (origin top-left). A malformed row stops the conversion
with the file and line named. Each image is found as ``<id>.png|.jpg|.jpeg|.bmp|.tif|.tiff``
in the image folder; its instance box is the whole image (see
:mod:`mmssl.datasets.hand_xray_csv` for why). The output is written atomically.

Example (the paper's 609 training / 300 test images; ``train_ids.txt`` / ``test_ids.txt``
list one image id per line)::

    python tools/dataset_converters/hand_xray_csv_to_coco.py data/hand_xray/all.csv \\
        data/hand_xray/images --ids data/hand_xray/train_ids.txt \\
        --out data/hand_xray/annotations/hand_xray_train.json
    python tools/dataset_converters/hand_xray_csv_to_coco.py data/hand_xray/all.csv \\
        data/hand_xray/images --ids data/hand_xray/test_ids.txt \\
        --out data/hand_xray/annotations/hand_xray_test.json
"""
import argparse
from typing import Optional, Sequence

from mmssl.datasets.hand_xray_csv import hand_csv_to_coco, read_id_list
from mmssl.datasets.splits import write_coco


def main(argv: Optional[Sequence[str]] = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('csv', help="Payer et al.'s landmark CSV (e.g. setup/all.csv)")
    parser.add_argument('img_dir', help='folder of the radiographs, named <id>.<ext>')
    parser.add_argument('--out', required=True, help='COCO-format output file')
    parser.add_argument('--ids', default='',
                        help='text file of the image ids to convert, one per line (default: '
                        'every row of the CSV)')
    args = parser.parse_args(argv)
    ids = read_id_list(args.ids) if args.ids else None
    coco = hand_csv_to_coco(args.csv, args.img_dir, ids=ids, ids_file=args.ids)
    write_coco(coco, args.out)
    print(f'{args.out}: {len(coco["images"])} images, 37 landmarks each')
    return args.out


if __name__ == '__main__':
    main()
