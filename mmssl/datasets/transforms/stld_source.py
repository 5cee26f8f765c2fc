"""Tag a packed sample with its source (ground truth or pseudo-label) for STLD.

STLD's source-aware mixed training treats labeled and pseudo-labeled samples differently
(standard vs shrink regression, loss weight 1 vs lambda). The dataset of each source ends its
pipeline with this transform, placed after ``PackPoseInputs``; the STLD heads read the tag
from the data sample's metainfo (:func:`is_pseudo_sample`).
"""
from typing import Dict, Sequence

from mmcv.transforms import BaseTransform
from mmpose.registry import TRANSFORMS

#: metainfo key carrying the source of a sample
SOURCE_KEY = 'stld_source'
#: the values the key may take
SOURCES = ('labeled', 'pseudo')


@TRANSFORMS.register_module()
class STLDSetSource(BaseTransform):
    """Record ``source`` in the metainfo of ``results['data_samples']``.

    Args:
        source (str): ``'labeled'`` (ground truth, standard regression) or ``'pseudo'``
            (pseudo-label, shrink regression in STLD's mixed training).
    """

    def __init__(self, source: str = 'pseudo') -> None:
        super().__init__()
        if source not in SOURCES:
            raise ValueError(f'STLDSetSource: source must be one of {SOURCES}, got {source!r}')
        self.source = source

    def transform(self, results: Dict) -> Dict:
        if 'data_samples' not in results:
            raise KeyError('STLDSetSource must come after PackPoseInputs in the pipeline '
                           '(no "data_samples" in the results)')
        results['data_samples'].set_metainfo({SOURCE_KEY: self.source})
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(source={self.source!r})'


def is_pseudo_sample(data_sample) -> bool:
    """Whether a data sample was tagged as pseudo-labeled (untagged samples are labeled)."""
    return data_sample.metainfo.get(SOURCE_KEY, 'labeled') == 'pseudo'


def pseudo_flags(data_samples: Sequence) -> list:
    """``[is_pseudo_sample(s) for s in data_samples]``."""
    return [is_pseudo_sample(s) for s in data_samples]
