#!/usr/bin/env bash
# Create/refresh the project environment in .venv/ (idempotent; a second run takes seconds).
#
# Steps: venv -> torch (kept if a compatible one exists) -> build tools -> mmcv 2.1.0 with ops
# (built once from the sdist, wheel cached outside the repo) -> OpenMMLab stack -> mmssl (-e).
# Environment:
#   PYTHON            interpreter for the venv (default: python3). If it already has a
#                     compatible torch (2.1 <= v < 2.14, e.g. a cluster's CUDA build), the venv
#                     sees it (--system-site-packages) and torch is not reinstalled.
#   MMSSL_CACHE       wheel cache (default: ~/.cache/mmssl)
#   MAX_JOBS          parallel compile jobs for mmcv (default: 2)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
CACHE="${MMSSL_CACHE:-$HOME/.cache/mmssl}"
VENV="$ROOT/.venv"
STEP="start"
trap 'echo "[mmssl setup] FAILED at step: $STEP (see the output above)" >&2' ERR
log() { echo "[mmssl setup] $*"; }

# pip without find-links: a machine-local CPU-only torch wheel there (this kind of machine
# has one) has no matching torchvision; the PyPI builds run on CPU and GPU alike.
pip_pypi() { env -u PIP_FIND_LINKS PIP_CONFIG_FILE=/dev/null "${PIP[@]}" "$@"; }

torch_ok='import sys, torch
v = tuple(int(x) for x in torch.__version__.split("+")[0].split(".")[:2])
sys.exit(0 if (2, 1) <= v < (2, 14) else 1)'

STEP="create virtual environment"
if [ ! -x "$VENV/bin/python" ]; then
  if "$PYTHON" -c "$torch_ok" 2>/dev/null; then
    log "reusing the compatible torch of $PYTHON"
    "$PYTHON" -m venv --system-site-packages "$VENV"
  else
    "$PYTHON" -m venv "$VENV"
  fi
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip install --disable-pip-version-check -q)
"$PY" -c 'import sys; assert sys.version_info[:2] >= (3, 8), sys.version' ||
  { echo "[mmssl setup] Python >= 3.8 required" >&2; exit 1; }

# One probe of what is already there (each import of torch costs seconds).
STEP="probe environment"
status=$("$PY" - <<'PY' 2>/dev/null || true
import importlib.metadata as md
ok = []
try:
    import torch
    v = tuple(int(x) for x in torch.__version__.split('+')[0].split('.')[:2])
    if (2, 1) <= v < (2, 14):
        ok.append('torch')
    import torchvision.ops
    torchvision.ops.nms(torch.rand(2, 4), torch.rand(2), 0.5)
    ok.append('vision')
    import mmcv, mmcv.ops
    if mmcv.__version__ == '2.1.0':
        ok.append('mmcv')
    import mmengine, mmdet, mmpose, xtcocotools, pytest  # noqa: F401
    assert md.version('openmim') == '0.3.9'
    ok.append('stack')
    import mmssl  # noqa: F401
    ok.append('mmssl')
    print(f'VERSIONS torch {torch.__version__}, mmcv {mmcv.__version__}, mmengine '
          f'{mmengine.__version__}, mmdet {mmdet.__version__}, mmpose {mmpose.__version__}, '
          f'mmssl {mmssl.__version__}')
except Exception:
    pass
print('OK', *ok)
PY
)
has() { grep -q "^OK.* $1\b" <<<"$status"; }

STEP="install torch"
if has torch; then
  log "torch kept"
else
  log "installing torch 2.13.0 + torchvision 0.28.0 from PyPI (several GB once)"
  pip_pypi -r requirements/torch.txt "numpy>=1.23,<2"
fi
STEP="install torchvision"
vision_ok='import torch, torchvision.ops; torchvision.ops.nms(torch.rand(2, 4), torch.rand(2), 0.5)'
if ! has vision; then
  tv=$("$PY" - <<'PY'
import torch
m = {(2, 13): '0.28.0', (2, 12): '0.27.0', (2, 11): '0.26.0', (2, 10): '0.25.0', (2, 9): '0.24.0',
     (2, 8): '0.23.0', (2, 7): '0.22.0', (2, 6): '0.21.0', (2, 5): '0.20.0', (2, 4): '0.19.0',
     (2, 3): '0.18.0', (2, 2): '0.17.0', (2, 1): '0.16.0'}
print(m[tuple(int(x) for x in torch.__version__.split('+')[0].split('.')[:2])])
PY
)
  log "installing torchvision $tv"
  pip_pypi --force-reinstall --no-deps "torchvision==$tv"
  if ! "$PY" -c "$vision_ok" 2>/dev/null && "$PY" -c "import sys, torch; \
      sys.exit(0 if torch.__file__.startswith('$VENV') else 1)"; then
    log "torch in .venv has no working torchvision (a local CPU-only build): reinstalling the PyPI pair"
    pip_pypi --force-reinstall -r requirements/torch.txt "numpy>=1.23,<2"
  fi
  "$PY" -c "$vision_ok" || { echo "[mmssl setup] torchvision $tv does not work with torch" \
    "$("$PY" -c 'import torch; print(torch.__version__)') (a local CPU-only torch build?):" \
    "remove .venv and rerun, or install a matching torch/torchvision pair" >&2; exit 1; }
fi

STEP="build mmcv 2.1.0 with ops"
if has mmcv; then
  log "mmcv 2.1.0 with ops present"
else
  STEP="install build requirements"
  "${PIP[@]}" -r requirements/build.txt "numpy>=1.23,<2"
  STEP="build mmcv 2.1.0 with ops"
  key=$("$PY" -c 'import sys, torch; print(f"torch{torch.__version__}-cuda{torch.version.cuda}-py{sys.version_info[0]}{sys.version_info[1]}")')
  wheel_dir="$CACHE/wheels/$key"
  mkdir -p "$wheel_dir"
  if ! ls "$wheel_dir"/mmcv-2.1.0-*.whl >/dev/null 2>&1; then
    log "building mmcv 2.1.0 for $key (about 7 min on 2 cores, once; cached in $wheel_dir)"
    tmp=$(mktemp -d "$CACHE/build.XXXXXX")
    # Without a GPU build only the CPU ops; with CUDA available mmcv builds its CUDA ops too.
    MAX_JOBS="${MAX_JOBS:-2}" "$PY" -m pip wheel --no-deps --no-build-isolation \
      --disable-pip-version-check -w "$tmp" mmcv==2.1.0
    mv "$tmp"/mmcv-2.1.0-*.whl "$wheel_dir"/   # rename into place: no half-written wheel
    rm -rf "$tmp"
  fi
  "${PIP[@]}" --no-deps --force-reinstall "$wheel_dir"/mmcv-2.1.0-*.whl
  # mmcv's own runtime dependencies
  "${PIP[@]}" addict "numpy>=1.23,<2" packaging pillow pyyaml regex yapf
fi

STEP="install OpenMMLab stack"
if ! has stack ||
   [ requirements/runtime.txt -nt "$VENV/.mmssl-stack" ] ||
   [ requirements/tests.txt -nt "$VENV/.mmssl-stack" ]; then
  "${PIP[@]}" -r requirements/runtime.txt -r requirements/tests.txt
  "${PIP[@]}" --no-deps mmpose==1.3.2
  # mim (`mim train/test mmssl ...`) without its opendatalab -> openxlab dependency, which
  # only `mim download --dataset` uses and which would pin setuptools 60 and requests 2.28;
  # the dependencies mim imports are in requirements/tests.txt.
  "${PIP[@]}" --no-deps openmim==0.3.9
  touch "$VENV/.mmssl-stack"
fi

STEP="install mmssl"
if ! has mmssl || [ setup.py -nt "$VENV/.mmssl-pkg" ]; then
  "${PIP[@]}" --no-deps --no-build-isolation -e .
  touch "$VENV/.mmssl-pkg"
fi

STEP="check imports"
if has mmssl && ! [ requirements/runtime.txt -nt "$VENV/.mmssl-stack" ]; then
  log "ready: $(sed -n 's/^VERSIONS //p' <<<"$status")"
else
  "$PY" - <<'PY'
import torch, mmcv, mmcv.ops, mmengine, mmdet, mmpose, mmssl
print(f'[mmssl setup] ready: torch {torch.__version__}, mmcv {mmcv.__version__}, '
      f'mmengine {mmengine.__version__}, mmdet {mmdet.__version__}, '
      f'mmpose {mmpose.__version__}, mmssl {mmssl.__version__}')
PY
fi
