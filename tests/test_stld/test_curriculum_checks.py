"""STLD's curriculum must be coarse-to-fine and end at standard regression (or be waived)."""
import warnings

import pytest

from mmssl.engine.runners import SelfTrainingRunner
from mmssl.engine.runners.self_training_checks import check_curriculum
from stld_helpers import make_face_data, single_thread, tiny_cfg  # noqa: F401


def test_the_papers_curricula_pass():
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        check_curriculum([2.2, 1.8, 1.5], 'heatmap_sigma', 1.5)
        check_curriculum([2.4, 1.6, 1.0], 'lp', 1.0)
        check_curriculum([1.5], 'heatmap_sigma', 1.5)
        check_curriculum([], 'lp', 1.0)  # T = 1: no curriculum


@pytest.mark.parametrize('curriculum, kind, standard, message', [
    ([1.5, 1.8, 2.2], 'heatmap_sigma', 1.5,
     r'not coarse-to-fine: sigma_t of the pseudo-label heatmaps grows from 1.5 \(round 2\) '
     r'to 1.8 \(round 3\)'),
    ([2.2, 1.8, 2.0], 'heatmap_sigma', 2.0, r'grows from 1.8 \(round 3\) to 2.0 \(round 4\)'),
    ([2.2, 1.8, 1.6], 'heatmap_sigma', 1.5, r'last sigma 1.6 is not sigma_std = 1.5'),
    ([1.0, 1.6, 1.0], 'lp', 1.0, r'p_t of the Lp shrink loss grows from 1.0'),
    ([2.4, 1.6, 1.2], 'lp', 1.0, r'last p 1.2 is not 1'),
])
def test_bad_curricula_are_refused_with_the_reason(curriculum, kind, standard, message):
    with pytest.raises(ValueError, match=message) as err:
        check_curriculum(curriculum, kind, standard)
    assert 'self_training.curriculum' in str(err.value)
    assert 'strict_curriculum=False' in str(err.value)  # says how to run it anyway


def test_an_explicit_request_warns_instead():
    with pytest.warns(UserWarning, match=r'last sigma 1.8 is not sigma_std.*running it anyway'):
        check_curriculum([2.2, 1.8], 'heatmap_sigma', 1.5, strict=False)


def test_the_runner_checks_before_training(tmp_path):
    faces = make_face_data(tmp_path / 'faces')
    work = tmp_path / 'work'
    # sigma_std is read from the config's train pipeline (1.5)
    with pytest.raises(ValueError, match='last sigma 1.8 is not sigma_std = 1.5'):
        SelfTrainingRunner(tiny_cfg(faces, work, num_rounds=3, curriculum=[2.2, 1.8],
                                    strict_curriculum=True))
    with pytest.raises(ValueError, match='not coarse-to-fine'):
        SelfTrainingRunner(tiny_cfg(faces, work, head='tf', num_rounds=3,
                                    curriculum=[1.0, 1.6], strict_curriculum=True))
    with pytest.warns(UserWarning, match='last p 1.6 is not 1'):
        SelfTrainingRunner(tiny_cfg(faces, work, head='tf', num_rounds=2, curriculum=[1.6],
                                    strict_curriculum=False))
    assert not work.exists() or not any(work.rglob('*.pth'))  # nothing trained
