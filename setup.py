from setuptools import find_packages, setup


def read_version():
    scope = {}
    with open('mmssl/version.py') as f:
        exec(f.read(), scope)
    return scope['__version__']


def read_requirements(path):
    with open(path) as f:
        return [ln.split('#')[0].strip() for ln in f if ln.split('#')[0].strip()]


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
