"""Reward/penalty (Eq. 5, 6), KL (Eq. 3, 4), sweep normalisation and joint voting."""
import pytest
import torch

from mmssl.models.augmenters import (AugmentationBins, kl_loss, reward_penalty_target,
                                     sweep_targets, vote_cells)


def _pred(b=6, k=7, seed=0):
    return torch.softmax(torch.randn(b, k, generator=torch.Generator().manual_seed(seed)), -1)


def test_reward_and_penalty_follow_eq5_eq6_exactly():
    pred = torch.tensor([[0.1, 0.2, 0.3, 0.4], [0.25, 0.25, 0.25, 0.25]])
    sel = torch.tensor([[False, True, False, False], [False, False, False, True]])
    harder = torch.tensor([True, False])
    target = reward_penalty_target(pred, sel, harder, alpha=0.2, beta=0.5)
    # reward row 0, sampled i=1: P_i = 0.2 + 0.2*0.2, P_j = P~_j - 0.2*0.2/3
    expected0 = torch.tensor([0.1, 0.24, 0.3, 0.4]) - torch.tensor([1, 0, 1, 1]) * 0.04 / 3
    # penalty row 1, sampled i=3: P_i = 0.25 - 0.5*0.25, P_j = P~_j + 0.5*0.25/3
    expected1 = torch.tensor([0.25, 0.25, 0.25, 0.125]) + \
        torch.tensor([1, 1, 1, 0]) * 0.125 / 3
    torch.testing.assert_close(target, torch.stack([expected0, expected1]))


@pytest.mark.parametrize('clip_upper', [False, True])
def test_targets_sum_to_one_and_move_probability_the_right_way(clip_upper):
    pred = _pred(64, 7)
    gen = torch.Generator().manual_seed(1)
    idx = torch.randint(7, (64, ), generator=gen)
    sel = torch.nn.functional.one_hot(idx, 7).bool()
    harder = torch.rand(64, generator=gen) > 0.5
    target = reward_penalty_target(pred, sel, harder, alpha=0.2, beta=0.5,
                                   clip_upper=clip_upper)
    torch.testing.assert_close(target.sum(-1), torch.ones(64))
    assert (target >= 0).all()
    picked_t, picked_p = target[sel], pred[sel]
    others_t, others_p = target[~sel].view(64, 6), pred[~sel].view(64, 6)
    if not clip_upper:  # exact direction of Eq. 5 / Eq. 6 on every bin
        assert (picked_t[harder] > picked_p[harder]).all()
        assert (picked_t[~harder] < picked_p[~harder]).all()
        assert (others_t[harder] <= others_p[harder]).all()
        assert (others_t[~harder] >= others_p[~harder]).all()
    else:  # the release caps every bin at 2/k; rows already inside are left unchanged
        assert (target <= 2 / 7 + 1e-6).all()
        plain = reward_penalty_target(pred, sel, harder, alpha=0.2, beta=0.5)
        inside = (plain <= 2 / 7).all(-1)
        assert 0 < int(inside.sum()) < 64
        torch.testing.assert_close(target[inside], plain[inside])


def test_two_selected_cells_share_the_update():
    pred = torch.full((1, 16), 1 / 16)
    sel = torch.zeros(1, 16, dtype=torch.bool)
    sel[0, [3, 9]] = True
    target = reward_penalty_target(pred, sel, torch.tensor([True]), alpha=0.5, beta=0.5)
    torch.testing.assert_close(target[0, 3], torch.tensor(1.5 / 16))
    torch.testing.assert_close(target[0, 9], torch.tensor(1.5 / 16))
    torch.testing.assert_close(target[0, 0], torch.tensor((1 - 3 / 16) / 14))


def test_reward_refuses_bad_arguments():
    pred = _pred(2, 4)
    with pytest.raises(ValueError, match='alpha and beta'):
        reward_penalty_target(pred, torch.eye(4)[:2].bool(), torch.tensor([1, 0]).bool(),
                              alpha=0.)
    with pytest.raises(ValueError, match='at least one'):
        reward_penalty_target(pred, torch.zeros(2, 4, dtype=torch.bool),
                              torch.tensor([1, 0]).bool())


def test_kl_loss_is_eq3_and_zero_at_the_target():
    logits = torch.randn(5, 9, requires_grad=True)
    target = torch.softmax(torch.randn(5, 9), -1)
    log_q = torch.log_softmax(logits, -1)
    by_hand = (target * (target.log() - log_q)).sum(-1).mean()
    torch.testing.assert_close(kl_loss(target, logits), by_hand)
    assert float(kl_loss(torch.softmax(logits, -1).detach(), logits)) < 1e-6
    kl_loss(target, logits).backward()
    assert logits.grad is not None and logits.grad.abs().sum() > 0


def test_sweep_targets_accumulate_grid_losses_into_bins():
    losses = torch.tensor([[[1., 2., 0.], [3., 0., 4.]]])  # B=1, m=2, n=3
    p_s, p_r = sweep_targets(losses)
    torch.testing.assert_close(p_s, torch.tensor([[3., 7.]]) / 10)
    torch.testing.assert_close(p_r, torch.tensor([[4., 2., 4.]]) / 10)
    p_s, p_r = sweep_targets((torch.zeros(1, 2), torch.tensor([[0., 1., 3.]])))
    torch.testing.assert_close(p_s, torch.tensor([[0.5, 0.5]]))  # all zero -> uniform
    torch.testing.assert_close(p_r, torch.tensor([[0., 0.25, 0.75]]))


def test_vote_cells_counts_labelled_joints_per_cell():
    # 64x32 input (w, h), 4x4 grid: cells are 16 x 8 pixels
    kpts = torch.tensor([[[0., 0.], [63.9, 31.9], [17., 9.], [17., 9.], [200., 5.]]])
    weights = torch.tensor([[1., 1., 1., 0., 1.]])
    votes = vote_cells(kpts, weights, (64, 32), (4, 4))
    expected = torch.zeros(1, 16)
    expected[0, 0] = 1  # (0, 0)
    expected[0, 15] = 1  # bottom-right
    expected[0, 5] = 1  # row 1, col 1 (the second copy has weight 0, the last is outside)
    torch.testing.assert_close(votes, expected)


def test_bins_draw_bounded_gaussians():
    bins = AugmentationBins.build(dict(num=7, low=-0.6, high=0.6, sigma=0.05, log2=True))
    torch.testing.assert_close(bins.means, torch.linspace(-0.6, 0.6, 7))
    idx = torch.arange(7).repeat(200)
    values = bins.values(idx, torch.Generator().manual_seed(0))
    logs = torch.log2(values)
    assert ((logs - bins.means[idx]).abs() <= 0.05 + 1e-6).all()
    assert (logs - bins.means[idx]).abs().max() > 0.04  # really drawn, not the means
    rot = AugmentationBins([-20., 0., 20.], 0.)
    torch.testing.assert_close(rot.values(torch.tensor([0, 2])), torch.tensor([-20., 20.]))
    with pytest.raises(KeyError, match='unknown bin settings'):
        AugmentationBins.build(dict(num=3, low=0, high=1, step=2))
