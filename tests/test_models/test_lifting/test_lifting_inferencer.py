"""MMPose's inferencer runs the lifting estimator and draws its 2D result in pixels."""

import numpy as np
import torch

from lifting_helpers import single_thread  # noqa: F401  (fixtures)
from lifting_helpers import smoke_lifting_config


def test_mmpose_inferencer_draws_the_2d_prediction(tmp_path):
    import mmssl  # noqa: F401
    from mmengine.registry import init_default_scope
    from mmpose.apis import MMPoseInferencer
    from mmpose.registry import MODELS
    init_default_scope('mmpose')
    cfg = smoke_lifting_config(tmp_path / 'data')  # small model, synthetic data and prior
    cfg_file, ckpt = tmp_path / 'cfg.py', tmp_path / 'model.pth'
    cfg.dump(str(cfg_file))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    torch.save({'meta': {}, 'state_dict': model.state_dict()}, str(ckpt))
    image = sorted((tmp_path / 'data').rglob('*.png'))[0]
    inferencer = MMPoseInferencer(pose2d=str(cfg_file), pose2d_weights=str(ckpt),
                                  det_model='whole_image', device='cpu')
    result = next(inferencer(str(image), return_vis=True, draw_bbox=True))
    person = result['predictions'][0][0]
    kpts = np.asarray(person['keypoints'])
    assert kpts.shape == (17, 2)  # the 2D prediction, not the 3D pose
    assert result['visualization'][0].shape[-1] == 3
    # the same whole-image crop through mmpose's top-down API: the inferencer shows exactly
    # the estimator's 2D keypoints (pixels), while the 3D pose stays in its own field
    from mmpose.apis import inference_topdown, init_model
    direct = inference_topdown(init_model(str(cfg_file), str(ckpt), device='cpu'),
                               str(image))[0].pred_instances
    np.testing.assert_allclose(kpts, direct.keypoints[0], atol=1e-3)
    assert direct.keypoints_3d.shape == (1, 17, 3)
    assert np.abs(direct.keypoints_3d).max() > 10 * np.abs(direct.keypoints).max() or \
        not direct.lifting_valid.any()  # millimetres, not pixels (people ~1700 mm tall)
