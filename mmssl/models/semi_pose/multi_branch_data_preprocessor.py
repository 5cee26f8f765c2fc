"""mmdet's multi-branch data preprocessor for semi-supervised pose batches, movable in place."""
from mmdet.models.data_preprocessors import MultiBranchDataPreprocessor
from mmpose.registry import MODELS
from torch import nn


@MODELS.register_module()
class MultiBranchPoseDataPreprocessor(MultiBranchDataPreprocessor):
    """``mmdet.MultiBranchDataPreprocessor`` whose ``to`` / ``cuda`` / ``cpu`` return itself.

    mmdet's versions return the wrapped per-branch preprocessor. mmengine's
    ``MMSeparateDistributedDataParallel`` (used by PoseDual so that each network has its own
    DDP) re-assigns every moved sub-module, so the model would silently lose its multi-branch
    preprocessor. Arguments as mmdet's: ``data_preprocessor`` = e.g. the estimator's
    ``PoseDataPreprocessor`` config.
    """

    def to(self, *args, **kwargs) -> nn.Module:
        self.data_preprocessor.to(*args, **kwargs)
        return self

    def cuda(self, *args, **kwargs) -> nn.Module:
        self.data_preprocessor.cuda(*args, **kwargs)
        return self

    def cpu(self, *args, **kwargs) -> nn.Module:
        self.data_preprocessor.cpu(*args, **kwargs)
        return self
