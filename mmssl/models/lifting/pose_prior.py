"""The probabilistic 3D pose model: a mixture of probabilistic-PCA charts, and its file.

File format (``.npz``, written by ``tools/misc/fit_pose_prior.py``; no pickled objects):

=================  ============  ==============================================================
key                shape         meaning
=================  ============  ==============================================================
``format_version`` ()            int, :data:`FORMAT_VERSION`
``mu``             (M, 3, L)     chart means; model frame ``(x, depth, up)``, centred on the
                                 mean of the joints, bone-length normalised (the root-sum-
                                 square of the bone lengths of a training pose is 1)
``e``              (M, J, 3, L)  orthonormal bases of each chart (each ``e[m, j]`` flattened
                                 has unit norm; bases of a chart are orthogonal)
``sigma``          (M, J + 1)    ``sigma[m, :J]``: inverse standard deviation of the
                                 coefficient on each basis under the PPCA model,
                                 ``(lambda_j - s2)^-1/2``; ``sigma[m, J]``: the isotropic
                                 PPCA noise standard deviation ``sqrt(s2)`` (lambda_j: sample
                                 covariance eigenvalues, s2: mean of the discarded ones)
``chart_weights``  (M,)          mixture weights (sum to 1)
``parents``        (L,)          parent joint of every joint, -1 for the root
``scale_mm``       ()            mean root-sum-square bone length of the training poses (mm),
                                 used to express lifted poses in millimetres
``height_scale``   ()            mean factor that takes a bone-normalised pose to height 2
                                 (the 2D normalisation of the lifter)
``scale_std``      ()            relative standard deviation of that factor
``joint_names``    (L,)          optional, str
=================  ============  ==============================================================
"""
import os
import os.path as osp
import tempfile
from dataclasses import dataclass, field
from typing import Optional, Sequence, Tuple, Union

import numpy as np

FORMAT_VERSION = 1
_REQUIRED = ('format_version', 'mu', 'e', 'sigma', 'chart_weights', 'parents', 'scale_mm',
             'height_scale', 'scale_std')


class PosePriorError(ValueError):
    """A pose-model file or array set that is inconsistent; the message names the problem."""


@dataclass(eq=False)
class PosePrior:
    """Parameters of the mixture of PPCA charts (see the module docstring for the meaning).

    Build it with :func:`fit_pose_prior` or :meth:`load`; the constructor checks every
    shape and value and raises :class:`PosePriorError` naming the problem.
    """
    mu: np.ndarray
    e: np.ndarray
    sigma: np.ndarray
    chart_weights: np.ndarray
    parents: np.ndarray
    scale_mm: float
    height_scale: float
    scale_std: float
    joint_names: Optional[Tuple[str, ...]] = None
    source: str = field(default='<arrays>', compare=False)

    def __post_init__(self) -> None:
        self.mu = np.asarray(self.mu, dtype=np.float64)
        self.e = np.asarray(self.e, dtype=np.float64)
        self.sigma = np.asarray(self.sigma, dtype=np.float64)
        self.chart_weights = np.asarray(self.chart_weights, dtype=np.float64)
        self.parents = np.asarray(self.parents)
        self.scale_mm = float(self.scale_mm)
        self.height_scale = float(self.height_scale)
        self.scale_std = float(self.scale_std)
        if self.joint_names is not None:
            self.joint_names = tuple(str(n) for n in self.joint_names)
        self._validate()

    @property
    def num_charts(self) -> int:
        return self.mu.shape[0]

    @property
    def num_bases(self) -> int:
        return self.e.shape[1]

    @property
    def num_joints(self) -> int:
        return self.mu.shape[2]

    @property
    def inv_std(self) -> np.ndarray:
        """``(M, J)`` inverse standard deviations of the basis coefficients."""
        return self.sigma[:, :-1]

    @property
    def noise_std(self) -> np.ndarray:
        """``(M,)`` PPCA noise standard deviation per chart (bone-normalised units)."""
        return self.sigma[:, -1]

    def _fail(self, msg: str) -> None:
        raise PosePriorError(f'invalid pose model {self.source}: {msg}')

    def _validate(self) -> None:
        if self.mu.ndim != 3 or self.mu.shape[1] != 3:
            self._fail(f'mu must have shape (M, 3, L), got {self.mu.shape}')
        m, _, num_joints = self.mu.shape
        if m < 1 or num_joints < 2:
            self._fail(f'mu must hold >= 1 chart of >= 2 joints, got {self.mu.shape}')
        if self.e.ndim != 4 or self.e.shape[0] != m or self.e.shape[2:] != (3, num_joints):
            self._fail(f'e must have shape (M={m}, J, 3, L={num_joints}), got {self.e.shape}')
        j = self.e.shape[1]
        if not 1 <= j <= 3 * num_joints:
            self._fail(f'number of bases J={j} must be in [1, {3 * num_joints}]')
        if self.sigma.shape != (m, j + 1):
            self._fail(f'sigma must have shape (M={m}, J+1={j + 1}), got {self.sigma.shape}')
        if self.chart_weights.shape != (m, ):
            self._fail(f'chart_weights must have shape ({m},), got {self.chart_weights.shape}')
        if self.parents.shape != (num_joints, ) or not np.issubdtype(self.parents.dtype,
                                                                    np.integer):
            self._fail(f'parents must be {num_joints} integers, got {self.parents.dtype} '
                       f'{self.parents.shape}')
        for name in ('mu', 'e', 'sigma', 'chart_weights'):
            if not np.isfinite(getattr(self, name)).all():
                self._fail(f'{name} contains NaN or inf')
        if (self.sigma <= 0).any():
            self._fail('sigma must be positive (inverse standard deviations and noise std)')
        if (self.chart_weights < 0).any() or abs(self.chart_weights.sum() - 1) > 1e-6:
            self._fail(f'chart_weights must be >= 0 and sum to 1, got {self.chart_weights}')
        for name in ('scale_mm', 'height_scale', 'scale_std'):
            val = getattr(self, name)
            if not (np.isfinite(val) and val > 0):
                self._fail(f'{name} must be a positive number, got {val}')
        self._validate_tree()
        gram = np.einsum('mjx,mkx->mjk', self.e.reshape(m, j, -1), self.e.reshape(m, j, -1))
        err = np.abs(gram - np.eye(j)).max()
        if err > 1e-4:
            self._fail(f'the bases e of a chart must be orthonormal (max |e e^T - I| = {err:.3g})')
        if self.joint_names is not None and len(self.joint_names) != num_joints:
            self._fail(f'{len(self.joint_names)} joint_names for {num_joints} joints')

    def _validate_tree(self) -> None:
        par = self.parents
        roots = np.flatnonzero(par < 0)
        if len(roots) != 1 or (par[par >= 0] >= len(par)).any() or (par < -1).any():
            self._fail(f'parents must name exactly one root (-1) and valid joints, got '
                       f'{par.tolist()}')
        for start in range(len(par)):  # every joint must reach the root without a cycle
            node, steps = start, 0
            while par[node] >= 0 and steps <= len(par):
                node, steps = par[node], steps + 1
            if steps > len(par):
                self._fail(f'parents contain a cycle through joint {start}')

    # ----------------------------------------------------------------------------- file I/O
    @classmethod
    def load(cls, path: Union[str, os.PathLike]) -> 'PosePrior':
        """Read a model file, checking its version, shapes and values.

        Raises:
            FileNotFoundError: No such file.
            PosePriorError: The file is not a pose model or is inconsistent (names the file).
        """
        path = os.fspath(path)
        if not osp.isfile(path):
            raise FileNotFoundError(f'pose model file not found: {path} (fit one with '
                                    f'tools/misc/fit_pose_prior.py)')
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
        except Exception as exc:  # zipfile / format errors: name the file
            raise PosePriorError(f'cannot read pose model {path}: {exc}') from exc
        missing = [k for k in _REQUIRED if k not in arrays]
        if missing:
            raise PosePriorError(f'invalid pose model {path}: missing arrays {missing} '
                                 f'(has {sorted(arrays)})')
        version = int(arrays['format_version'])
        if version != FORMAT_VERSION:
            raise PosePriorError(f'pose model {path} has format_version {version}; this '
                                 f'mmssl reads version {FORMAT_VERSION}')
        names = arrays.get('joint_names')
        return cls(mu=arrays['mu'], e=arrays['e'], sigma=arrays['sigma'],
                   chart_weights=arrays['chart_weights'], parents=arrays['parents'],
                   scale_mm=arrays['scale_mm'], height_scale=arrays['height_scale'],
                   scale_std=arrays['scale_std'],
                   joint_names=None if names is None else tuple(names.tolist()), source=path)

    def save(self, path: Union[str, os.PathLike]) -> None:
        """Write the model atomically (temporary file in the same folder, then rename)."""
        path = os.fspath(path)
        folder = osp.dirname(osp.abspath(path))
        os.makedirs(folder, exist_ok=True)
        arrays = dict(format_version=np.int64(FORMAT_VERSION), mu=self.mu, e=self.e,
                      sigma=self.sigma, chart_weights=self.chart_weights,
                      parents=self.parents.astype(np.int64),
                      scale_mm=np.float64(self.scale_mm),
                      height_scale=np.float64(self.height_scale),
                      scale_std=np.float64(self.scale_std))
        if self.joint_names is not None:
            arrays['joint_names'] = np.array(self.joint_names, dtype=str)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix='.tmp_', suffix='.npz')
        try:
            with os.fdopen(fd, 'wb') as f:
                np.savez(f, **arrays)
            os.replace(tmp, path)
        except BaseException:
            if osp.exists(tmp):
                os.remove(tmp)
            raise


def bone_lengths_rss(poses: np.ndarray, parents: Sequence[int]) -> np.ndarray:
    """Root-sum-square of the bone lengths of poses ``(..., L, 3)`` -> ``(...)``."""
    par = np.asarray(parents)
    child = np.flatnonzero(par >= 0)
    bones = poses[..., child, :] - poses[..., par[child], :]
    return np.sqrt((bones**2).sum(axis=(-1, -2)))
