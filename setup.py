import os
import os.path as osp
import shutil

from setuptools import find_packages, setup

# What OpenMMLab's `mim` looks for in an installed package (`mmssl/.mim/...`).
MIM_FILES = ('configs', 'tools', 'model-index.yml')


def read_version():
    scope = {}
    with open('mmssl/version.py') as f:
        exec(f.read(), scope)
    return scope['__version__']


def read_requirements(path):
    with open(path) as f:
        return [ln.split('#')[0].strip() for ln in f if ln.split('#')[0].strip()]


def add_mim_extension():
    """Expose configs/, tools/ (and model-index.yml if present) as ``mmssl/.mim/*``.

    Relative symlinks to the originals, so that an editable install always sees the live
    files (a link to a file created later starts working then) and a wheel or sdist build
    copies their content (setuptools follows the links; MANIFEST.in lists them). Copies
    where symlinks are not available. What an unpacked sdist already holds is kept.
    """
    root = osp.dirname(osp.abspath(__file__))
    mim_dir = osp.join(root, 'mmssl', '.mim')
    os.makedirs(mim_dir, exist_ok=True)
    for name in MIM_FILES:
        src, dst = osp.join(root, name), osp.join(mim_dir, name)
        link = osp.relpath(src, mim_dir)
        if not osp.exists(src):
            if not osp.lexists(dst):
                try:
                    os.symlink(link, dst)
                except OSError:
                    pass
            continue
        if osp.islink(dst):
            if os.readlink(dst) == link:
                continue
            os.remove(dst)
        elif osp.isdir(dst):
            shutil.rmtree(dst)
        elif osp.exists(dst):
            os.remove(dst)
        try:
            os.symlink(link, dst)
        except OSError:
            if osp.isdir(src):
                shutil.copytree(src, dst, ignore=shutil.ignore_patterns('__pycache__'))
            else:
                shutil.copyfile(src, dst)


add_mim_extension()
setup(
    name='mmssl',
    version=read_version(),
    description='Semi-supervised and adversarial-augmentation training for MMPose and '
    'MMDetection models',
    packages=find_packages(include=['mmssl', 'mmssl.*']),
    include_package_data=True,
    python_requires='>=3.8',
    # mmcv (built with ops) and mmpose (--no-deps) are installed by tools/setup_env.sh.
    install_requires=read_requirements('requirements/runtime.txt'),
    extras_require={'tests': read_requirements('requirements/tests.txt')},
    zip_safe=False,
)
