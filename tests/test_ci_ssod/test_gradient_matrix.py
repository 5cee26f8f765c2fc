"""Gradient matrix of softmax CE (GbR): entries vs autograd, accumulation rules."""
import pytest
import torch
import torch.nn.functional as F

from mmssl.models.detectors import (GradientMatrixAccumulator, positive_negative_gradients,
                                    softmax_ce_grad_matrix)


def _hand_batch():
    torch.manual_seed(0)
    logits = torch.randn(9, 4)
    labels = torch.tensor([0, 0, 1, 3, 3, 3, 2, 3, 1])
    weights = torch.tensor([1.0, 0.5, 2.0, 1.0, 0.3, 1.0, 1.5, 0.0, 1.0])
    return logits, labels, weights


@pytest.mark.parametrize('weighted', [False, True])
def test_entries_equal_autograd_of_softmax_ce(weighted):
    logits, labels, weights = _hand_batch()
    leaf = logits.clone().requires_grad_(True)
    per_sample = F.cross_entropy(leaf, labels, reduction='none')
    (per_sample * (weights if weighted else 1.0)).sum().backward()
    expected = torch.zeros(4, 4)
    for i, label in enumerate(labels.tolist()):  # row r = sum of class-r samples' gradients
        expected[label] += leaf.grad[i]
    matrix = softmax_ce_grad_matrix(logits, labels, weights if weighted else None)
    assert torch.allclose(matrix, expected, atol=1e-6)
    # sign convention: positive gradient on the diagonal is negative, the rest positive
    present = torch.bincount(labels, minlength=4) > 0
    assert (torch.diagonal(matrix)[present] <= 0).all()
    off = matrix - torch.diag(torch.diagonal(matrix))
    assert (off >= 0).all()
    assert torch.allclose(matrix.sum(1), torch.zeros(4), atol=1e-6)  # softmax rows sum to 0


def test_positive_negative_gradients():
    logits, labels, _ = _hand_batch()
    matrix = softmax_ce_grad_matrix(logits, labels)
    pos, neg = positive_negative_gradients(matrix)
    for c in range(4):
        assert pos[c] == pytest.approx(-matrix[c, c].item())
        assert neg[c] == pytest.approx(sum(matrix[r, c].item() for r in range(4) if r != c),
                                       abs=1e-6)
    w = torch.tensor([1.0, 2.0, 0.5, 3.0])
    pos_w, neg_w = positive_negative_gradients(matrix, w)
    assert pos_w[1] == pytest.approx(-2.0 * matrix[1, 1].item())
    assert neg_w[0] == pytest.approx(sum(w[r] * matrix[r, 0] for r in range(1, 4)).item(),
                                     abs=1e-6)


def test_bad_shapes_raise():
    with pytest.raises(ValueError, match='cls_score must be'):
        softmax_ce_grad_matrix(torch.zeros(3), torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match='labels must have shape'):
        softmax_ce_grad_matrix(torch.zeros(3, 4), torch.zeros(2, dtype=torch.long))
    acc = GradientMatrixAccumulator(4, 1)
    with pytest.raises(ValueError, match='num_classes \\+ 1'):
        acc.add(0, torch.zeros(3, 5), torch.zeros(3, dtype=torch.long))


def test_running_mean_during_warmup_then_ema():
    acc = GradientMatrixAccumulator(2, 1, warmup_iters=3, momentum=0.9)
    batches = [torch.full((2, 2), float(v)) for v in (1, 2, 6, 10, 0)]
    for b in batches:
        acc.update(b)
    # warm-up: running mean of 1, 2, 6 = 3; then EMA: 0.9 * 3 + 0.1 * 10 = 3.7; 0.9 * 3.7
    assert acc.matrix[0, 0].item() == pytest.approx(3.33, abs=1e-5)
    assert int(acc.num_updates) == 5


def test_step_is_per_branch_mean_times_scale():
    logits, labels, _ = _hand_batch()
    acc = GradientMatrixAccumulator(4, 2, warmup_iters=10)
    acc.add(0, logits[:5], labels[:5])
    acc.add(0, logits[5:7], labels[5:7])
    acc.add(1, logits[7:], labels[7:])
    batch = acc.step(torch.tensor([1.0, 4.0]))
    expected = softmax_ce_grad_matrix(logits[:7], labels[:7]) / 7 + \
        4.0 * softmax_ce_grad_matrix(logits[7:], labels[7:]) / 2
    assert torch.allclose(batch, expected, atol=1e-6)
    assert torch.allclose(acc.matrix, expected, atol=1e-6)  # first update = the batch
    assert not acc.has_pending
    assert acc.step(torch.ones(2)) is None  # nothing recorded: no update
    assert int(acc.num_updates) == 1
