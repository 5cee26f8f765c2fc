"""Write (or check) the README model-zoo tables from the metafiles of model-index.yml.

    python tools/analysis/zoo_tables.py            # rewrite every method README's zoo block
    python tools/analysis/zoo_tables.py --check    # exit 1 if any README is out of date
"""
import argparse
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--check', action='store_true', help='only check, write nothing')
    parser.add_argument('--root', default=ROOT, help='repository root (model-index.yml)')
    args = parser.parse_args()
    from mmssl.zoo import load_model_index, sync_readme
    stale = []
    for metafile in load_model_index(args.root).metafiles:
        if not sync_readme(metafile, args.root, check=args.check):
            stale.append(osp.join(osp.dirname(metafile), 'README.md'))
    verb = 'out of date' if args.check else 'rewritten'
    for path in stale:
        print(f'{verb}: {osp.relpath(path, args.root)}')
    return 1 if args.check and stale else 0


if __name__ == '__main__':
    sys.exit(main())
