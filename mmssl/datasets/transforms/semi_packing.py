"""Packing of labeled and unlabeled samples into per-branch inputs for one model.

Every sample of a semi-supervised batch is packed as ``{'inputs': {branch: tensor | None},
'data_samples': {branch: PoseDataSample | None}}`` (the layout of mmdet's ``MultiBranch``):
labeled samples fill ``'sup'``, unlabeled samples fill one branch per view (e.g.
``'unsup_teacher'``, ``'unsup_student'``). mmdet's ``MultiBranchDataPreprocessor`` (wrapping
mmpose's ``PoseDataPreprocessor``) then drops the ``None`` entries and normalises each branch,
so the model receives ``inputs[branch]`` tensors and ``data_samples[branch]`` lists.
"""
import inspect

from mmdet.datasets.transforms import MultiBranch
from mmpose.datasets.transforms import PackPoseInputs
from mmpose.registry import TRANSFORMS

_PACK_META_KEYS = inspect.signature(PackPoseInputs).parameters['meta_keys'].default


@TRANSFORMS.register_module()
class PoseMultiBranch(MultiBranch):
    """mmdet's ``MultiBranch`` for mmpose samples.

    Branch pipelines are built in mmpose's scope, and mmpose's ``data_info['dataset']``
    back-reference (set for mixed-image transforms) is dropped before each branch deep-copies
    the sample, which would otherwise copy the whole dataset per sample.

    Args:
        branch_field: every branch name that any sample of the batch may fill, e.g.
            ``['sup', 'unsup_teacher', 'unsup_student']``.
        **branch_pipelines: the pipeline of each branch this sample fills.
    """

    def transform(self, results: dict) -> dict:
        results.pop('dataset', None)
        return super().transform(results)


@TRANSFORMS.register_module()
class PackSemiPoseInputs(PackPoseInputs):
    """``PackPoseInputs`` whose default ``meta_keys`` also carry ``warp_mat`` (the 3x3
    original-image -> input matrix of :class:`TopdownAffineWithMatrix`) and
    ``bbox_rotation``, so the model maps teacher outputs with the exact view transform."""

    def __init__(self, meta_keys=tuple(_PACK_META_KEYS) + ('warp_mat', 'bbox_score'),
                 pack_transformed: bool = False) -> None:
        super().__init__(meta_keys=meta_keys, pack_transformed=pack_transformed)
