"""GbR class-weight solvers: balance equations, clamps, learnable variant."""
import pytest
import torch

from mmssl.models.detectors import (LearnableClassWeights, balance_residual, jacobi_step,
                                    jacobi_target, solve_balance_direct,
                                    softmax_ce_grad_matrix)


def _matrix(counts, seed=0, bg_boost=0.0):
    """Gradient matrix of a random imbalanced batch (rows sum to zero)."""
    g = torch.Generator().manual_seed(seed)
    num = len(counts)
    labels = torch.repeat_interleave(torch.arange(num), torch.tensor(counts))
    logits = torch.randn(len(labels), num, generator=g)
    logits[torch.arange(len(labels)), labels] += 1.0
    logits[:, -1] += bg_boost
    return softmax_ce_grad_matrix(logits, labels)


def test_jacobi_fixed_point_satisfies_balance_equations():
    # A solvable matrix whose exact solution lies inside the clamps (background 0.69).
    matrix = _matrix([20, 15, 10, 8, 40], seed=1, bg_boost=0.5)
    direct = solve_balance_direct(matrix)
    assert direct.sum().item() == pytest.approx(5.0, rel=1e-5)
    assert (direct > 1 / 3).all() and (direct[:-1] < 5).all() and direct[-1] < 1
    weights = torch.ones(5)
    for _ in range(300):
        weights = jacobi_step(matrix, weights, damping=0.5)
    assert torch.allclose(weights, direct, atol=1e-4)
    # all n + 1 balance equations hold: w_c * pos_c == neg_c
    assert balance_residual(matrix, weights).abs().max() < 1e-4
    # the rarest foreground class gets the largest weight
    assert weights[3] == weights[:-1].max()
    # the undamped step (release rule) oscillates around this solution instead
    undamped = torch.ones(5)
    for _ in range(300):
        undamped = jacobi_step(matrix, undamped)
    assert balance_residual(matrix, undamped).abs().max() > 0.1


def test_jacobi_converges_to_scaled_solution_when_background_is_clamped():
    # exact background weight 1.04 > max_bg_weight: the background is pinned at 1 and the
    # foreground weights converge to the balance solution scaled to that background weight
    matrix = _matrix([20, 15, 10, 8, 40], seed=1, bg_boost=1.0)
    direct = solve_balance_direct(matrix)
    assert direct[-1] > 1
    weights = torch.ones(5)
    for _ in range(300):
        weights = jacobi_step(matrix, weights)
    assert weights[-1] == pytest.approx(1.0)
    assert torch.allclose(weights, direct / direct[-1], atol=1e-4)
    assert balance_residual(matrix, weights).abs().max() < 1e-4


def test_jacobi_target_formula():
    matrix = _matrix([5, 3, 7], seed=2)
    w = torch.tensor([1.0, 2.0, 0.5])
    t = jacobi_target(matrix, w)
    for c in range(3):
        neg = sum(w[r] * matrix[r, c] for r in range(3) if r != c)
        assert t[c].item() == pytest.approx((neg / -matrix[c, c]).item(), rel=1e-5)


@pytest.mark.parametrize('seed', range(4))
def test_weights_stay_in_clamps(seed):
    matrix = _matrix([400, 50, 3, 1, 1200], seed=seed, bg_boost=2.0)
    weights = torch.ones(5)
    for _ in range(20):
        weights = jacobi_step(matrix, weights)
        assert (weights[:-1] >= 1 / 3 - 1e-6).all() and (weights[:-1] <= 5 + 1e-6).all()
        assert 1 / 3 - 1e-6 <= weights[-1] <= 1 + 1e-6
    learn = LearnableClassWeights(5, lr=0.5)
    for _ in range(50):
        learn.step(matrix)
        w = learn.weights()
        assert (w > 0).all() and w.sum().item() == pytest.approx(5.0, rel=1e-5)


def test_learnable_weights_keep_budget_and_bounds_exactly():
    """The GbR weights of the learnable solver: sum n + 1, foreground in [1/3, 5],
    background in [1/3, 1], also where softmax weights break the bounds (clamping them, as
    before, gave a background above 1 or a sum off the budget)."""
    from mmssl.models.detectors.class_weight_solver import project_to_budget
    learn = LearnableClassWeights(5)
    for logits, clamp_broke in [([3., -4., 0., 0., 2.], True),    # fg above 5, bg above 1
                                ([-6., -6., -6., -6., 4.], True),  # fg below 1/3, bg 4.9
                                ([0.1, 0., -0.1, 0.05, -0.3], False)]:  # already feasible
        learn.logits.copy_(torch.tensor(logits))
        soft = learn.weights()
        clamped = torch.cat([soft[:-1].clamp(1 / 3, 5), soft[-1:].clamp(1 / 3, 5)])
        broke = bool(clamped[-1] > 1 + 1e-6) or abs(float(clamped.sum()) - 5) > 1e-4
        assert broke == clamp_broke
        w = learn.constrained_weights()
        assert float(w.sum()) == pytest.approx(5.0, abs=1e-5)
        assert (w[:-1] >= 1 / 3 - 1e-6).all() and (w[:-1] <= 5 + 1e-6).all()
        assert 1 / 3 - 1e-6 <= float(w[-1]) <= 1 + 1e-6
        if not clamp_broke:
            assert torch.allclose(w, soft, atol=1e-6)  # feasible weights are kept
    # the projection is the closest feasible point: no feasible neighbour is closer
    gen = torch.Generator().manual_seed(0)
    w0 = torch.tensor([6., 0.1, 0.2, 0.3, 1.9], dtype=torch.float64)
    lo = torch.full_like(w0, 1 / 3)
    hi = torch.tensor([5., 5., 5., 5., 1.], dtype=torch.float64)
    p = project_to_budget(w0, lo, hi)
    for _ in range(200):
        step = torch.randn(5, generator=gen, dtype=torch.float64)
        q = (p + 0.05 * (step - step.mean())).clamp(lo, hi)
        if abs(float(q.sum()) - 8.5) < 1e-9 and bool((q >= lo).all() and (q <= hi).all()):
            assert (q - w0).norm() >= (p - w0).norm() - 1e-9
    with pytest.raises(ValueError, match='cannot hold the weight budget'):
        project_to_budget(torch.full((3, ), 9.), torch.zeros(3), torch.ones(3))


def test_learnable_variant_mimics_jacobi_target():
    matrix = _matrix([20, 15, 10, 8, 40], seed=1, bg_boost=0.5)
    learn = LearnableClassWeights(5, lr=0.5, momentum=0.9)
    first, _ = learn.step(matrix)
    for _ in range(1500):
        loss, _ = learn.step(matrix)
    assert loss < first * 1e-3
    # at convergence a = log(Jacobi target of the current weights): the weights are the
    # (budget-normalised) target and close to the exact balance solution
    target = jacobi_step(matrix, learn.weights())
    assert torch.allclose(learn.logits, target.log(), atol=1e-3)
    assert torch.allclose(learn.weights(), solve_balance_direct(matrix), atol=0.05)


def test_direct_solver_rejects_bad_input():
    with pytest.raises(ValueError, match='square'):
        solve_balance_direct(torch.zeros(3, 2))
    with pytest.raises(ValueError, match='min_weight'):
        jacobi_step(torch.eye(3), torch.ones(3), min_weight=2.0)
    with pytest.raises(ValueError, match='damping'):
        jacobi_step(torch.eye(3), torch.ones(3), damping=0.0)
    with pytest.raises(ValueError, match='no positive solution'):
        solve_balance_direct(torch.tensor([[-1.0, 1.0], [-1.0, 1.0]]))


def test_direct_weights_solve_when_inside_clamps_and_project_otherwise():
    from mmssl.models.detectors import direct_weights
    matrix = _matrix([20, 15, 10, 8, 40], seed=1, bg_boost=0.5)
    assert torch.allclose(direct_weights(matrix), solve_balance_direct(matrix), atol=1e-5)
    # a matrix whose exact solution leaves the clamps (background boosted far above 1)
    hard = _matrix([200, 2, 1, 1, 400], seed=3)
    w = direct_weights(hard)
    assert w.sum().item() == pytest.approx(5.0, rel=1e-5)
    assert (w >= 1 / 3 - 1e-6).all() and (w[:-1] <= 5 + 1e-6).all() and w[-1] <= 1 + 1e-6


def test_gbr_direct_solver_steps():
    from mmssl.models.detectors import GbRCrossEntropyLoss, direct_weights
    loss = GbRCrossEntropyLoss(4, warmup_iters=0, momentum=0.0, solver='direct')
    logits = torch.randn(64, 5, requires_grad=True)
    labels = torch.randint(0, 5, (64, ))
    loss(logits, labels).backward()
    loss.step()
    assert torch.allclose(loss.class_weights,
                          direct_weights(loss.grad_stats.matrix, **loss.clamps), atol=1e-6)
    with pytest.raises(ValueError, match="'jacobi', 'learnable' or 'direct'"):
        GbRCrossEntropyLoss(4, solver='svd')
