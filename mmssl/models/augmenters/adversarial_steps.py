"""The training steps of the three stages of adversarial data augmentation (seed 001).

Mixed into :class:`~.adversarial_estimator.AdversarialPoseEstimator`; every step works on
the whole batch tensor (per-sample warps, masks and bin draws are vectorised).

Joint step (Alg. 1 + Alg. 2), for a mini-batch split into random / ASR / AHO shares:

1. G reads D's bridge features of the ASR and AHO images (one capture pass, no gradient) and
   predicts P~s, P~r (ASR) and P~o (AHO); a bin (cells) is drawn per image.
2. Every adversarial image gets a random reference: a random scale/rotation (ASR) or
   uniformly drawn cells (AHO).
3. One D forward pass over random-share images, adversarial images and references (the
   same network state and batch statistics for the comparison); D's loss covers the random
   and adversarial rows (and the references with ``train_on_reference``).
4. Per image, harder = difficulty(adversarial) > difficulty(reference) (the heatmap loss,
   or the release's 1 - PCKh: :mod:`.difficulty`); G is trained with KL(P || P~) toward
   the reward/penalty target P (Eq. 5, 6).

With ``batch_mode='alternate'`` (the release) the random share is a whole batch of its own on
even iterations (:meth:`loss_random`) and odd iterations have ASR/AHO shares only.
"""
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmengine.dist import all_reduce

from .asr_warp import scale_rotation_matrices, warp_samples
from .bins import sample_random_scale_rotation
from .bridge import cells_from_order, occlusion_mask
from .targets import (kl_loss, normalise_rows, reward_penalty_target, sweep_targets,
                      vote_cells)


def _cat(parts: List[Dict[str, torch.Tensor]], key: str) -> torch.Tensor:
    return torch.cat([p[key] for p in parts])


def _rows(outputs, index: torch.Tensor):
    if isinstance(outputs, (list, tuple)):
        return [o[index] for o in outputs]
    return outputs[index]


class AdversarialStepsMixin:
    """Stage losses, the bin sweep and G's prediction statistics (see module docstring)."""

    # ------------------------------------------------------------------ shares and draws
    def shares(self, batch_size: int) -> Tuple[int, int, int]:
        """(random, ASR, AHO) image counts: proportional to ``split``, every enabled
        adversarial share at least one image."""
        ratios = [r if i == 0 or h in self.active_heads else 0.
                  for i, (r, h) in enumerate(zip(self.split, ('', 'asr', 'aho')))]
        if getattr(self, 'batch_mode', 'split') == 'alternate':
            ratios[0] = 0.  # the random batches are iterations of their own
        total = sum(ratios)
        counts = [int(batch_size * r // total) for r in ratios]
        for i in range(3):  # remainder to the enabled shares, in order
            if sum(counts) < batch_size and ratios[i] > 0:
                counts[i] += batch_size - sum(counts)
        for i in (1, 2):
            if ratios[i] > 0 and counts[i] == 0:
                donor = max(range(3), key=lambda j: counts[j])
                counts[donor] -= 1
                counts[i] = 1
        if min(counts) < 0 or any(ratios[i] > 0 and counts[i] == 0 for i in (1, 2)):
            raise ValueError(f'a batch of {batch_size} cannot hold the shares of split='
                             f'{self.split}: use a larger batch, and drop_last=True in the '
                             'train_dataloader so that the last batch is not smaller')
        return tuple(counts)

    def random_matrices(self, n: int, device, generator) -> torch.Tensor:
        scale, rot = sample_random_scale_rotation(n, device=device, generator=generator,
                                                  **self.random_aug)
        return scale_rotation_matrices(scale, rot, self.codec['input_size'])

    def sample_cells(self, probs: torch.Tensor, generator,
                     counts: Optional[torch.Tensor] = None) -> torch.Tensor:
        """``[B, k]`` bool: ``counts`` cells per image (default: uniform in ``num_cells``)
        drawn without replacement from ``probs``."""
        lo, hi = self.num_cells
        b, k = probs.shape
        order = torch.multinomial(probs.detach().float(), hi, replacement=False,
                                  generator=generator)
        if counts is None:
            counts = torch.randint(lo, hi + 1, (b, ), generator=generator,
                                   device=probs.device)
        return cells_from_order(order, counts, k)

    def _warp(self, images, batch, index, matrices) -> Dict[str, torch.Tensor]:
        rows = warp_samples(images[index], batch['keypoints'][index],
                            batch['weights'][index], batch['heatmaps'][index], matrices,
                            self.codec, self.target_mode)
        rows.update(matrices=matrices, src=index)
        return rows

    def _plain(self, images, batch, index) -> Dict[str, torch.Tensor]:
        eye = torch.eye(3, device=images.device).expand(len(index), 3, 3)
        return dict(images=images[index], heatmaps=batch['heatmaps'][index],
                    weights=batch['weights'][index], matrices=eye, src=index)

    def sample_difficulty(self, outputs, rows: Dict[str, torch.Tensor],
                          batch: dict) -> torch.Tensor:
        """``[N]`` difficulty of each rendered row (no gradient): D's weighted heatmap MSE
        (paper) or 1 - PCKh of its prediction (``difficulty='pckh'``, the release; the
        last stage of multi-stage heads, as the release reads ``out[-1]``)."""
        with torch.no_grad():
            if self.difficulty is None:
                return self.per_sample_loss(outputs, rows['heatmaps'], rows['weights'])
            last = outputs[-1] if isinstance(outputs, (list, tuple)) else outputs
            src = rows['src']
            return self.difficulty(last, rows['matrices'].to(last.dtype), rows['weights'],
                                   batch['keypoints'][src], batch['norm'][src],
                                   self.codec['stride'])

    # ------------------------------------------------------------------ stage steps
    def plain_count(self, batch_size: int) -> int:
        """Images of a random-augmentation batch trained on the plain crop (the last ones):
        ``round(random_plain_share * batch_size)``, 0 for the paper's random baseline."""
        share = getattr(self, 'random_plain_share', 0.)
        return min(batch_size - 1, int(round(share * batch_size))) if share else 0

    def loss_random(self, inputs: torch.Tensor, batch: dict) -> Dict[str, torch.Tensor]:
        """Stage 1 / the random baseline: every image randomly scaled and rotated (with
        ``random_plain_share``, the last images of the batch on the plain crop)."""
        gen = self._generator(inputs.device)
        idx = torch.arange(inputs.shape[0], device=inputs.device)
        n_plain = self.plain_count(len(idx))
        n_warp = len(idx) - n_plain
        parts = [self._warp(inputs, batch, idx[:n_warp],
                            self.random_matrices(n_warp, inputs.device, gen))]
        if n_plain:
            parts.append(self._plain(inputs, batch, idx[n_warp:]))
        out = self.pose_forward(_cat(parts, 'images'))
        return dict(loss_kpt=self.head_loss(out, _cat(parts, 'heatmaps'),
                                            _cat(parts, 'weights')))

    def loss_augmenter_pretrain(self, inputs: torch.Tensor,
                                batch: dict) -> Dict[str, torch.Tensor]:
        """Stage 2: G toward the bin-sweep (Eq. 3) and joint-voting (Eq. 4) targets."""
        logits = self.augmenter(self.capture_bridge(inputs))
        self._record_predictions(logits)
        losses = {}
        if 'asr' in self.active_heads:
            gen = self._generator(inputs.device, salt=1)
            p_s, p_r = self.difficulty_sweep(inputs, batch, self.pretrain_sweep, gen)
            losses['loss_asr'] = self.asr_weight * (
                kl_loss(p_s, logits['scale']) + kl_loss(p_r, logits['rotation']))
        if 'aho' in self.active_heads:
            losses['loss_aho'] = self.aho_weight * kl_loss(self.vote_target(batch),
                                                           logits['occlusion'])
        return losses

    def loss_joint(self, inputs: torch.Tensor, batch: dict) -> Dict[str, torch.Tensor]:
        """Stage 3: Alg. 1 over the mini-batch, Alg. 2 for every adversarial image."""
        device = inputs.device
        gen = self._generator(device)
        n_rand, n_asr, n_aho = self.shares(inputs.shape[0])
        idx = torch.arange(inputs.shape[0], device=device)
        i_rand, i_asr, i_aho = idx[:n_rand], idx[n_rand:n_rand + n_asr], idx[n_rand + n_asr:]
        logits = self.augmenter(self.capture_bridge(inputs[n_rand:]))
        self._record_predictions(logits, n_asr)
        parts, train, roles = [], [], []  # roles: 0 random, 1/2 ASR adv/ref, 3/4 AHO adv/ref
        if n_rand:
            parts.append(self._warp(inputs, batch, i_rand,
                                    self.random_matrices(n_rand, device, gen)))
            train.append(True)
            roles.append(0)
        if n_asr:
            p_s = F.softmax(logits['scale'][:n_asr].detach(), -1)
            p_r = F.softmax(logits['rotation'][:n_asr].detach(), -1)
            s_idx = torch.multinomial(p_s.float(), 1, generator=gen)[:, 0]
            r_idx = torch.multinomial(p_r.float(), 1, generator=gen)[:, 0]
            adv = scale_rotation_matrices(self.scale_bins.values(s_idx, gen),
                                          self.rotation_bins.values(r_idx, gen),
                                          self.codec['input_size'])
            parts.append(self._warp(inputs, batch, i_asr, adv))
            parts.append(self._warp(inputs, batch, i_asr,
                                    self.random_matrices(n_asr, device, gen)))
            train += [True, self.train_on_reference]
            roles += [1, 2]
        if n_aho:
            p_o = F.softmax(logits['occlusion'][n_asr:].detach(), -1)
            cells = self.sample_cells(p_o, gen)
            ref_cells = self.sample_cells(torch.ones_like(p_o), gen, cells.sum(1))
            for sel in (cells, ref_cells):
                part = self._plain(inputs, batch, i_aho)
                part['masks'] = occlusion_mask(sel, self.grid).to(inputs.dtype)
                parts.append(part)
            train += [True, self.train_on_reference]
            roles += [3, 4]
        role = torch.cat([torch.full((p['images'].shape[0], ), r, device=device)
                          for p, r in zip(parts, roles)])
        trained = torch.cat([torch.full((p['images'].shape[0], ), t, device=device)
                             for p, t in zip(parts, train)])
        masks = None
        if n_aho:
            gw, gh = self.grid
            masks = torch.cat([p.get('masks', inputs.new_ones(p['images'].shape[0], gh, gw))
                               for p in parts])
        rows = {key: _cat(parts, key) for key in ('heatmaps', 'weights', 'matrices', 'src')}
        heatmaps, weights = rows['heatmaps'], rows['weights']
        out = self.pose_forward(_cat(parts, 'images'), masks)
        losses = dict(loss_kpt=self.head_loss(_rows(out, trained), heatmaps[trained],
                                              weights[trained]))
        difficulty = self.sample_difficulty(out, rows, batch)
        if n_asr:
            harder = difficulty[role == 1] > difficulty[role == 2]
            t_s = reward_penalty_target(p_s, F.one_hot(s_idx, p_s.shape[1]).bool(), harder,
                                        alpha=self.alpha, beta=self.beta,
                                        clip_upper=self.clip_target)
            t_r = reward_penalty_target(p_r, F.one_hot(r_idx, p_r.shape[1]).bool(), harder,
                                        alpha=self.alpha, beta=self.beta,
                                        clip_upper=self.clip_target)
            losses['loss_asr'] = self.asr_weight * (
                kl_loss(t_s, logits['scale'][:n_asr]) +
                kl_loss(t_r, logits['rotation'][:n_asr]))
            losses['asr_harder'] = harder.float().mean()
        if n_aho:
            harder = difficulty[role == 3] > difficulty[role == 4]
            t_o = reward_penalty_target(p_o, cells, harder, alpha=self.alpha, beta=self.beta,
                                        clip_upper=self.clip_target)
            losses['loss_aho'] = self.aho_weight * kl_loss(t_o, logits['occlusion'][n_asr:])
            losses['aho_harder'] = harder.float().mean()
        return losses

    # ------------------------------------------------------------------ targets
    @torch.no_grad()
    def difficulty_sweep(self, inputs: torch.Tensor, batch: dict, mode: str = 'grid',
                         generator: Optional[torch.Generator] = None
                         ) -> Tuple[torch.Tensor, torch.Tensor]:
        """P^s ``[B, m]`` and P^r ``[B, n]``: D's difficulty (eval mode; the loss or
        1 - PCKh, :meth:`sample_difficulty`) on every bin of every image, accumulated into
        the bins and normalised (Sec. 4.1).

        ``mode='grid'``: all m x n (scale bin, rotation bin) draws; ``'separate'``: each
        scale bin at rotation 0 and each rotation bin at scale 1 (the release).
        """
        m, n = self.scale_bins.num_bins, self.rotation_bins.num_bins
        if mode == 'grid':
            combos = [(i, j) for i in range(m) for j in range(n)]
        elif mode == 'separate':
            combos = [(i, None) for i in range(m)] + [(None, j) for j in range(n)]
        else:
            raise ValueError(f"mode must be 'grid' or 'separate', got {mode!r}")
        b, device = inputs.shape[0], inputs.device
        idx = torch.arange(b, device=device)
        was = self.pose.training
        self.pose.eval()
        losses = []
        try:
            for start in range(0, len(combos), self.sweep_chunk):
                chunk = combos[start:start + self.sweep_chunk]
                scale = torch.cat([
                    self.scale_bins.values(torch.full((b, ), i, device=device), generator)
                    if i is not None else torch.ones(b, device=device) for i, _ in chunk])
                rot = torch.cat([
                    self.rotation_bins.values(torch.full((b, ), j, device=device), generator)
                    if j is not None else torch.zeros(b, device=device) for _, j in chunk])
                rep = idx.repeat(len(chunk))
                rows = self._warp(inputs, batch, rep, scale_rotation_matrices(
                    scale, rot, self.codec['input_size']))
                out = self.pose_forward(rows['images'])
                losses.append(self.sample_difficulty(out, rows, batch).view(len(chunk), b))
        finally:
            self.pose.train(was)
        table = torch.cat(losses).t()  # [B, combos]
        if mode == 'grid':
            return sweep_targets(table.view(b, m, n))
        return sweep_targets((table[:, :m], table[:, m:]))

    def vote_target(self, batch: dict) -> torch.Tensor:
        """P^o ``[B, gw*gh]``: joint votes per cell (Sec. 4.2), per image or (``'dataset'``)
        a running count over every image seen (all ranks)."""
        votes = vote_cells(batch['keypoints'], batch['weights'], self.codec['input_size'],
                           self.grid)
        if self.aho_vote == 'image':
            return normalise_rows(votes)
        if self.training:
            total = votes.sum(0)
            all_reduce(total)
            self.aho_votes += total.to(self.aho_votes)
        return normalise_rows(self.aho_votes[None].expand(votes.shape[0], -1).clone())

    # ------------------------------------------------------------------ statistics
    def reset_prediction_stats(self) -> None:
        """Forget the accumulated mean of G's predicted distributions."""
        self._pred_sums: Dict[str, torch.Tensor] = {}
        self._pred_counts: Dict[str, int] = {}

    def _record_predictions(self, logits: Dict[str, torch.Tensor], n_asr: int = -1) -> None:
        """Accumulate G's mean predicted distributions (what the hook plots)."""
        for key, value in logits.items():
            if key == 'occlusion':
                value = value if n_asr < 0 else value[n_asr:]
            elif n_asr >= 0:
                value = value[:n_asr]
            if value.shape[0] == 0:
                continue
            probs = F.softmax(value.detach().float(), -1).sum(0)
            self._pred_sums[key] = self._pred_sums.get(key, 0) + probs
            self._pred_counts[key] = self._pred_counts.get(key, 0) + value.shape[0]

    def prediction_stats(self, reset: bool = True) -> Dict[str, Tuple[torch.Tensor, int]]:
        """``{output: (sum of predicted distributions, count)}`` since the last reset."""
        stats = {k: (self._pred_sums[k], self._pred_counts[k]) for k in self._pred_sums}
        if reset:
            self.reset_prediction_stats()
        return stats
