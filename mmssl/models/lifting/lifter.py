"""Batched lifting of 2D landmarks to 3D poses with a mixture of PPCA charts (torch).

For each person, chart ``m`` and discrete rotation ``R_r`` about the vertical axis, the
coefficients solve a ridge problem::

    a = argmin ||W^1/2 (y - p - E a)||^2 + ||D a||^2 = (E^T W E + D^2)^-1 E^T W (y - p)

with ``y`` the normalised landmarks (centred on the visible joints, height 2, ``up``
positive), ``E = Pi R_r [mu', e']`` (``2L x (J+1)``; the mean is a basis whose coefficient
carries the scale, ``mu' = h mu`` and ``e' = h e`` with ``h`` the model's height scale),
``p = Pi R_r mu'`` and ``D`` the ridge weights, set by ``ridge``:

* ``'seed'``: the seed's system exactly (Eq. 2, 5, 6), ``D = diag(sigma)`` with ``sigma`` the
  inverse standard deviations of the coefficients: ``a = [(y - p), 0] Ebar^+`` with
  ``Ebar = [E; diag(sigma)]``. It is the MAP estimate for a 2D noise of standard deviation 1
  (normalised units, person height 2).
* ``'map'``: the MAP estimate for the model's noise plus a 2D noise ``noise_2d``,
  ``D = sqrt((h s)^2 + noise_2d^2) diag(sigma)`` (``s``: the PPCA noise std of the chart).

When every joint is visible (``W = I``) the truncated
pseudo-inverses ``P = (E^T E + D^2)^-1 E^T`` are precomputed for every (chart, rotation) and
all people are solved by one matrix product; other people are solved exactly by batched
Cholesky factorisations. Per chart the rotation with the smallest objective is kept; the chart
is chosen by the PPCA marginal negative log-likelihood (objective / noise variance plus the
log-determinant terms and the mixture weight).
"""
import os
from typing import NamedTuple, Optional, Tuple, Union

import numpy as np
import torch
from torch import Tensor, nn

from mmpose.registry import MODELS
from .pose_prior import PosePrior

#: Ridge systems of :class:`PPCAMixtureLifter` (see the module docstring).
RIDGE_MODES = ('map', 'seed')

class LiftingResult(NamedTuple):
    """Output of :class:`PPCAMixtureLifter` for ``N`` people with ``L`` joints.

    Attributes:
        poses_3d: ``(N, L, 3)`` lifted poses in millimetres, camera frame ``(x right, depth,
            up)``, relative to the root joint.
        poses_3d_normalised: ``(N, L, 3)`` the same poses in the normalised 2D units,
            centred like the input landmarks.
        keypoints_2d: ``(N, L, 2)`` projections of the lifted poses in input coordinates.
        chart: ``(N,)`` chosen chart. rotation: ``(N,)`` chosen rotation index.
        coeffs: ``(N, J + 1)`` coefficients (scale coefficient first).
        objective: ``(N,)`` ridge objective of the choice. valid: ``(N,)`` whether the person
            had enough visible joints (invalid rows hold the mean pose of chart 0).
        jacobian: ``(N, 2L, 2L)`` the sub-gradient ``d keypoints_2d / d keypoints`` (seed
            Eq. 8, R and chart fixed), or ``None`` unless requested.
    """
    poses_3d: Tensor
    poses_3d_normalised: Tensor
    keypoints_2d: Tensor
    chart: Tensor
    rotation: Tensor
    coeffs: Tensor
    objective: Tensor
    valid: Tensor
    jacobian: Optional[Tensor]


def normalise_landmarks(keypoints: Tensor, visible: Tensor,
                        min_visible: int = 3) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    """Centre on the mean of the visible joints and scale to height 2 with ``up`` positive.

    Args:
        keypoints: ``(N, L, 2)`` image coordinates (``y`` pointing down).
        visible: ``(N, L)`` bool.
        min_visible: Fewer visible joints (or a zero extent) make the row invalid.

    Returns:
        tuple: normalised ``(N, L, 2)``, centre ``(N, 2)``, scale ``(N,)`` (image units per
        normalised unit) and valid ``(N,)``.
    """
    vis = visible.to(keypoints.dtype)
    num_vis = vis.sum(1)
    centre = (keypoints * vis[..., None]).sum(1) / num_vis.clamp(min=1)[:, None]
    big = torch.finfo(keypoints.dtype).max
    lo = torch.where(visible[..., None], keypoints, torch.full_like(keypoints, big)).amin(1)
    hi = torch.where(visible[..., None], keypoints, torch.full_like(keypoints, -big)).amax(1)
    extent = (hi - lo).clamp(min=0)
    # Height 2; a person lying flat (zero height) falls back to width 2.
    scale = torch.where(extent[:, 1] > 1e-6, extent[:, 1], extent[:, 0]) / 2
    valid = (num_vis >= min_visible) & (scale > 1e-6)
    scale = torch.where(valid, scale, torch.ones_like(scale))
    norm = (keypoints - centre[:, None]) / scale[:, None, None]
    norm = torch.stack([norm[..., 0], -norm[..., 1]], -1)
    return norm, centre, scale, valid


@MODELS.register_module()
class PPCAMixtureLifter(nn.Module):
    """Lift 2D landmarks to 3D with a probabilistic pose model (batched, CPU/GPU).

    Args:
        prior: A :class:`PosePrior` or the path of a model file (``.npz``).
        num_rotations: Discrete rotations about the vertical axis, ``2 pi k / num_rotations``
            (the release uses 100).
        noise_2d: Standard deviation of the 2D landmark noise in normalised units (height 2),
            added to the model's noise in the ridge weights and the chart likelihood
            (``ridge='map'`` only; the seed's system has unit noise).
        prior_weight: Multiplier of the ridge weights (1 = the PPCA posterior).
        ridge: ``'map'`` (default: the lower held-out 3D error on the synthetic benchmark,
            see ``configs/lifting/README.md``) or ``'seed'`` (Eq. 2/5/6 of the seed,
            ``Ebar = [E; diag(sigma)]``); see the module docstring.
        min_visible: Minimum visible joints to lift a person.
        chunk_size: People solved at once by the fast path (bounds memory).
    """

    def __init__(self,
                 prior: Union[PosePrior, str, os.PathLike],
                 num_rotations: int = 100,
                 noise_2d: float = 0.0,
                 prior_weight: float = 1.0,
                 min_visible: int = 3,
                 chunk_size: int = 256,
                 ridge: str = 'map') -> None:
        super().__init__()
        if not isinstance(prior, PosePrior):
            prior = PosePrior.load(prior)
        if num_rotations < 1:
            raise ValueError(f'num_rotations must be >= 1, got {num_rotations}')
        if noise_2d < 0 or prior_weight <= 0:
            raise ValueError(f'need noise_2d >= 0 and prior_weight > 0, got {noise_2d}, '
                             f'{prior_weight}')
        if ridge not in RIDGE_MODES:
            raise ValueError(f"ridge must be one of {RIDGE_MODES}, got '{ridge}'")
        self.prior = prior
        self.ridge_mode = ridge
        self.num_rotations = num_rotations
        self.min_visible = min_visible
        self.chunk_size = chunk_size
        m, j, num_joints = prior.num_charts, prior.num_bases + 1, prior.num_joints
        self.num_joints = num_joints
        h = prior.height_scale
        basis = h * np.concatenate([prior.mu[:, None], prior.e], 1)  # (M, J', 3, L)
        theta = 2 * np.pi * np.arange(num_rotations) / num_rotations
        c, s = np.cos(theta), np.sin(theta)
        rot = np.zeros((num_rotations, 3, 3))
        rot[:, 0, 0], rot[:, 0, 1], rot[:, 1, 0], rot[:, 1, 1] = c, -s, s, c
        rot[:, 2, 2] = 1.
        # Projected rotated bases: E[m, r] is (2L, J') with rows ordered (joint, [x, up]).
        proj = np.einsum('rij,mkjl->mrkli', rot[:, [0, 2]], basis)  # (M, R, J', L, 2)
        e_mat = proj.reshape(m, num_rotations, j, 2 * num_joints).transpose(0, 1, 3, 2)
        p_vec = e_mat[..., 0].copy()  # the mean's projection (coefficient 1)
        if ridge == 'map':
            noise = np.sqrt((h * prior.noise_std)**2 + noise_2d**2)  # (M,)
        else:  # Eq. 2: ||y - p - E a||^2 + ||sigma a||^2 is the MAP objective at unit noise
            noise = np.ones(m)
        inv_std = np.concatenate([np.full((m, 1), 1. / prior.scale_std), prior.inv_std], 1)
        ridge_w = prior_weight * noise[:, None] * inv_std  # (M, J')
        a_mat = np.einsum('mrki,mrkj->mrij', e_mat, e_mat) + \
            np.einsum('mi,ij->mij', ridge_w**2, np.eye(j))[:, None]
        pinv = np.linalg.solve(a_mat, e_mat.transpose(0, 1, 3, 2))  # (M, R, J', 2L)
        logdet_a = np.linalg.slogdet(a_mat)[1]
        # Marginal NLL constant (x2): log det Lambda - 2 log pi; log det A added per rotation.
        const = -2 * np.log(inv_std).sum(1) - 2 * np.log(np.maximum(prior.chart_weights,
                                                                   1e-300))
        tensors = dict(
            rotations=rot, basis=basis, e_mat=e_mat, p_vec=p_vec, pinv=pinv,
            pinv_p=np.einsum('mrjk,mrk->mrj', pinv, p_vec),
            e_p=np.einsum('mrkj,mrk->mrj', e_mat, p_vec), ridge=ridge_w, noise_var=noise**2,
            logdet_a=logdet_a, nll_const=const)
        for name, val in tensors.items():
            self.register_buffer(name, torch.from_numpy(np.ascontiguousarray(val)),
                                 persistent=False)
        par = prior.parents
        self.register_buffer('bone_child', torch.from_numpy(np.flatnonzero(par >= 0)),
                             persistent=False)
        self.register_buffer('bone_parent', torch.from_numpy(par[par >= 0].astype(np.int64)),
                             persistent=False)
        self.root = int(np.flatnonzero(par < 0)[0])
        # The model's arrays travel with checkpoints so a checkpoint is never silently used
        # with another pose model (see _load_from_state_dict).
        for name in ('mu', 'e', 'sigma'):
            self.register_buffer(f'prior_{name}', torch.from_numpy(getattr(prior, name)))

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs) -> None:
        for name in ('mu', 'e', 'sigma'):
            key = prefix + f'prior_{name}'
            if key in state_dict:
                saved, own = state_dict[key], getattr(self, f'prior_{name}')
                if saved.shape != own.shape or not torch.allclose(
                        saved.to(own), own, rtol=1e-5, atol=1e-8):
                    raise ValueError(
                        f'the checkpoint was trained with a different pose model than '
                        f'{self.prior.source} ({key}: {tuple(saved.shape)} vs '
                        f'{tuple(own.shape)} or different values)')
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                      missing_keys, unexpected_keys, error_msgs)

    # ------------------------------------------------------------------------------ solving
    def _solve_fast(self, y: Tensor) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
        """All joints visible: one GEMM against the precomputed pseudo-inverses."""
        m, r, j, two_l = self.pinv.shape
        dt = y.dtype
        # Stack [P; E^T] so that P y and E^T y come out of one product.
        stacked = torch.cat([self.pinv, self.e_mat.transpose(2, 3)], 2).to(dt)
        prod = (y @ stacked.reshape(-1, two_l).T).view(-1, m, r, 2, j)
        a = prod[..., 0, :] - self.pinv_p.to(dt)
        g = prod[..., 1, :] - self.e_p.to(dt)
        p_vec = self.p_vec.to(dt)
        if dt == torch.float64:
            # ||y - p||^2 - (E^T (y - p)) . a is the ridge objective at the optimum.
            yp2 = (y * y).sum(-1)[:, None, None] - 2 * (y @ p_vec.reshape(-1, two_l).T).view(
                -1, m, r) + (p_vec * p_vec).sum(-1)
            obj = yp2 - (g * a).sum(-1)
        else:  # that difference cancels in low precision: use the residual itself
            fit = torch.einsum('nmrj,mrkj->nmrk', a, self.e_mat.to(dt)) + p_vec
            obj = (y[:, None, None] - fit).pow(2).sum(-1) + \
                (a * self.ridge.to(dt)[:, None]).pow(2).sum(-1)
        logdet = self.logdet_a.to(dt).expand(len(y), m, r)
        num_coords = torch.full((len(y), ), float(two_l), dtype=dt, device=y.device)
        return a, obj, logdet, num_coords

    def _solve_weighted(self, y: Tensor, w: Tensor) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
        """Per-person weights: batched Cholesky of ``E^T W E + D^2`` (float64)."""
        dt = y.dtype
        e_mat, p_vec = self.e_mat.double(), self.p_vec.double()
        y, w = y.double(), w.double()
        yp = y[:, None, None] - p_vec[None]
        ew = e_mat[None] * w[:, None, None, :, None]  # W E: (N, M, R, 2L, J')
        a_mat = torch.einsum('nmrki,mrkj->nmrij', ew, e_mat) + \
            torch.diag_embed(self.ridge.double()**2)[None, :, None]
        g = torch.einsum('nmrkj,nmrk->nmrj', ew, yp)
        chol = torch.linalg.cholesky(a_mat)
        a = torch.cholesky_solve(g[..., None], chol)[..., 0]
        obj = (w[:, None, None] * yp * yp).sum(-1) - (g * a).sum(-1)
        logdet = 2 * torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)).sum(-1)
        return a.to(dt), obj.to(dt), logdet.to(dt), w.sum(-1).to(dt)

    def _select(self, a: Tensor, obj: Tensor, logdet: Tensor,
                num_coords: Tensor) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
        """Best rotation per chart by objective, chart by marginal NLL."""
        best_obj, best_r = obj.min(2)  # (N, M)
        idx = best_r[..., None]
        noise_var = self.noise_var.to(obj.dtype)
        nll = best_obj / noise_var + logdet.gather(2, idx)[..., 0] + \
            (num_coords[:, None] - a.shape[-1]) * torch.log(noise_var) + \
            self.nll_const.to(obj.dtype)
        chart = nll.argmin(1)
        rows = torch.arange(len(a), device=a.device)
        rot = best_r[rows, chart]
        return chart, rot, a[rows, chart, rot], best_obj[rows, chart]

    # ------------------------------------------------------------------------------ forward
    def forward(self,
                keypoints: Tensor,
                visible: Optional[Tensor] = None,
                return_jacobian: bool = False) -> LiftingResult:
        """Lift ``(N, L, 2)`` image landmarks (``y`` down) with ``(N, L)`` visibility.

        The solve is not differentiable; :class:`~.functions.LandmarkLifting` and
        :class:`~.functions.BeliefMapLifting` provide the seed's sub-gradients.
        """
        # Small ill-conditioned solves: never under autocast (AMP training), see _lift.
        with torch.autocast(keypoints.device.type, enabled=False):
            return self._lift(keypoints, visible, return_jacobian)

    def _lift(self, keypoints: Tensor, visible: Optional[Tensor],
              return_jacobian: bool) -> LiftingResult:
        if keypoints.ndim != 3 or keypoints.shape[1:] != (self.num_joints, 2):
            raise ValueError(f'keypoints must be (N, {self.num_joints}, 2), got '
                             f'{tuple(keypoints.shape)}')
        if not keypoints.is_floating_point():
            raise TypeError(f'keypoints must be floating point, got {keypoints.dtype}')
        kpts = keypoints.detach()
        if kpts.dtype in (torch.float16, torch.bfloat16):
            kpts = kpts.float()  # half precision cannot hold the solves: float32 outputs
        n, dt = len(kpts), kpts.dtype
        visible = torch.ones(kpts.shape[:2], dtype=torch.bool, device=kpts.device) \
            if visible is None else visible.to(kpts.device).bool()
        if visible.shape != kpts.shape[:2]:
            raise ValueError(f'visible must be {tuple(kpts.shape[:2])}, got '
                             f'{tuple(visible.shape)}')
        norm, centre, scale, valid = normalise_landmarks(kpts, visible, self.min_visible)
        y = norm.reshape(n, 2 * self.num_joints)
        w = visible.repeat_interleave(2, 1).to(dt)
        j = self.e_mat.shape[-1]
        chart = torch.zeros(n, dtype=torch.long, device=kpts.device)
        rot = torch.zeros_like(chart)
        coeffs = torch.zeros(n, j, dtype=dt, device=kpts.device)
        objective = torch.zeros(n, dtype=dt, device=kpts.device)
        full = valid & visible.all(1)
        for mask, weighted in ((full, False), (valid & ~full, True)):
            idx = torch.nonzero(mask)[:, 0]
            step = self.chunk_size if not weighted else max(1, self.chunk_size // 8)
            for start in range(0, len(idx), step):
                sel = idx[start:start + step]
                out = self._solve_weighted(y[sel], w[sel]) if weighted \
                    else self._solve_fast(y[sel])
                chart[sel], rot[sel], coeffs[sel], objective[sel] = self._select(*out)
        return self._outputs(kpts, visible, centre, scale, valid, chart, rot, coeffs, objective,
                             w, return_jacobian)

    def _outputs(self, kpts: Tensor, visible: Tensor, centre: Tensor, scale: Tensor,
                 valid: Tensor, chart: Tensor, rot: Tensor, coeffs: Tensor, objective: Tensor,
                 w: Tensor, return_jacobian: bool) -> LiftingResult:
        dt = kpts.dtype
        n, num_joints = kpts.shape[:2]
        coeffs = torch.where(valid[:, None], coeffs, torch.zeros_like(coeffs))
        basis = self.basis.to(dt)[chart]  # (N, J', 3, L)
        pose = basis[:, 0] + torch.einsum('nj,njcl->ncl', coeffs, basis)
        pose = torch.einsum('nij,njl->nil', self.rotations.to(dt)[rot], pose).transpose(1, 2)
        proj = pose[..., [0, 2]] * scale[:, None, None]
        kpts_2d = torch.stack([proj[..., 0], -proj[..., 1]], -1) + centre[:, None]
        kpts_2d = torch.where(valid[:, None, None], kpts_2d, kpts)
        bones = pose[:, self.bone_child] - pose[:, self.bone_parent]
        rss = bones.pow(2).sum((1, 2)).sqrt().clamp(min=1e-12)
        pose_mm = pose * (self.prior.scale_mm / rss)[:, None, None]
        pose_mm = pose_mm - pose_mm[:, self.root:self.root + 1]
        jac = None
        if return_jacobian:
            jac = self.jacobian(chart, rot, w)
            jac = jac * valid[:, None, None].to(dt)
        return LiftingResult(pose_mm, pose, kpts_2d, chart, rot, coeffs, objective, valid, jac)

    def jacobian(self, chart: Tensor, rot: Tensor, w: Tensor) -> Tensor:
        """Seed Eq. 8, ``E Ebar^t`` for the chosen (chart, rotation), in image coordinates.

        ``d y_hat / d y = E (E^T W E + D^2)^-1 E^T W`` in normalised units; the image ``y``
        axis points down, so rows and columns of ``y`` coordinates change sign (the centre
        and scale of the normalisation are held fixed, as in the seed).
        """
        e_mat = self.e_mat[chart, rot].double()  # (N, 2L, J')
        wd = w.double()
        a_mat = torch.einsum('nki,nk,nkj->nij', e_mat, wd, e_mat) + \
            torch.diag_embed(self.ridge.double()[chart]**2)
        pinv = torch.linalg.solve(a_mat, e_mat.transpose(1, 2) * wd[:, None])
        jac = e_mat @ pinv
        flip = torch.tensor([1., -1.], dtype=torch.float64, device=jac.device).repeat(
            self.num_joints)
        return (flip[:, None] * jac * flip[None]).to(w.dtype)

    def project_fixed(self, keypoints: Tensor, visible: Tensor, chart: Tensor, rot: Tensor,
                      centre: Tensor, scale: Tensor) -> Tensor:
        """The lifting map with chart, rotation and normalisation held fixed (differentiable).

        This is the piece-wise linear map whose derivative is :meth:`jacobian`; the tests
        compare the two by finite differences.
        """
        dt = keypoints.dtype
        flip = torch.tensor([1., -1.], dtype=dt, device=keypoints.device)
        y = ((keypoints - centre[:, None]) / scale[:, None, None] * flip).reshape(
            len(keypoints), 2 * self.num_joints)
        w = visible.bool().repeat_interleave(2, 1).to(dt)
        e_mat, p_vec = self.e_mat.to(dt)[chart, rot], self.p_vec.to(dt)[chart, rot]
        a_mat = torch.einsum('nki,nk,nkj->nij', e_mat, w, e_mat) + \
            torch.diag_embed(self.ridge.to(dt)[chart]**2)
        rhs = torch.einsum('nkj,nk->nj', e_mat, w * (y - p_vec))
        coeffs = torch.linalg.solve(a_mat, rhs[..., None])[..., 0]
        y_hat = (p_vec + (e_mat @ coeffs[..., None])[..., 0]).view(keypoints.shape)
        return y_hat * flip * scale[:, None, None] + centre[:, None]

    def extra_repr(self) -> str:
        p = self.prior
        return (f'charts={p.num_charts}, bases={p.num_bases}, joints={p.num_joints}, '
                f'rotations={self.num_rotations}, ridge={self.ridge_mode}, source={p.source}')

