"""Write the embedded default data (synthetic bodies and faces) under data/synthetic/.

    python tools/misc/make_synthetic_data.py [--root data/synthetic] [--seed 0]
Idempotent: existing annotation files are kept unless --force.
"""
import argparse
import os.path as osp

from mmssl.datasets.synthetic import generate_default_data


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--root', default='data/synthetic')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--force', action='store_true')
    args = parser.parse_args()
    done = [osp.join(args.root, 'body/annotations/person_keypoints_val.json'),
            osp.join(args.root, 'faces/annotations/face_landmarks_test.json')]
    if all(osp.isfile(p) for p in done) and not args.force:
        print(f'synthetic data present in {args.root}')
        return
    for name, files in generate_default_data(args.root, seed=args.seed).items():
        for path in files:
            print(f'{name}: {path}')


if __name__ == '__main__':
    main()
