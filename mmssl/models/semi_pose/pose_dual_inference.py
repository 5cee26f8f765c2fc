"""Inference of PoseDual / PoseCons: one network, or the ensemble of both.

Every mode (``net1``, ``net2``, ``ensemble``) comes from one forward pass of each network it
needs, so :class:`~mmssl.engine.loops.MultiModelValLoop` evaluates all modes at the cost of
the two networks. Heatmap heads average the heatmaps; heads decoded by their codecs
(:mod:`.codec_consistency`) average SimCC vectors or score-weight coordinates.
"""
import copy
from typing import Dict, Sequence, Tuple

import torch

from .codec_consistency import CodecConsistency

PREDICT_MODES = ('net1', 'net2', 'ensemble')


class PoseDualInferenceMixin:
    """``predict`` and ``predict_modes_at_once`` of a model with networks ``net_names``, their
    codec helpers ``_codecs`` (None for heatmap heads) and ``predict_on``."""

    def predict(self, inputs: torch.Tensor, data_samples: list) -> list:
        """Predict with ``predict_on``: one network, or the ensemble of both (averaged
        heatmaps / SimCC vectors, score-weighted coordinates)."""
        if self.predict_on != 'ensemble':
            return self._unwrap(getattr(self, self.predict_on)).predict(inputs, data_samples)
        return self.predict_modes_at_once(inputs, data_samples, ['ensemble'])['ensemble']

    def predict_modes_at_once(self, inputs: torch.Tensor, data_samples: list,
                              modes: Sequence[str]) -> Dict[str, list]:
        """Predictions of several modes from one forward pass of each network.

        Each network (flip-tested by its head when its ``test_cfg`` says so) gives its own
        prediction and its raw output; the ensemble combines the raw outputs
        (:meth:`_ensemble`). Every mode gets its own copy of the data samples. Used by
        :class:`~mmssl.engine.loops.MultiModelValLoop`.
        """
        unknown = [m for m in modes if m not in self.predict_modes]
        if unknown:
            raise ValueError(f'unknown prediction modes {unknown}; {self.predict_modes}')
        needed = self.net_names if 'ensemble' in modes else list(modes)
        preds, raw = {}, {}
        for name in needed:
            net = self._unwrap(getattr(self, name))
            feats = net.extract_feat(inputs)
            if net.test_cfg.get('flip_test', False):
                feats = [feats, net.extract_feat(inputs.flip(-1))]
            preds[name], raw[name] = self._head_predict(self.net_names.index(name), net,
                                                        feats, data_samples)
        out = {}
        for i, mode in enumerate(modes):
            samples = data_samples if i == len(modes) - 1 else copy.deepcopy(data_samples)
            if mode == 'ensemble':
                net, pred = self.nets[0], self._ensemble(preds, raw)
            else:
                net, pred = self._unwrap(getattr(self, mode)), preds[mode]
            out[mode] = net.add_pred_to_datasample(pred, None, samples)
        return out

    def _head_predict(self, index: int, net, feats, data_samples: list) -> Tuple[list, object]:
        """Network ``index``'s decoded prediction and raw output (heatmaps, SimCC vectors or
        coordinates) on ``feats``."""
        codec = self._codecs[index]
        if codec is not None:
            return codec.predict(net, feats, data_samples, net.test_cfg)
        test_cfg = dict(net.test_cfg, output_heatmaps=True)
        preds, fields = net.head.predict(feats, data_samples, test_cfg=test_cfg)
        return preds, torch.stack([f.heatmaps for f in fields])

    def _ensemble(self, preds: Dict[str, list], raw: Dict[str, object]) -> list:
        """The networks combined: mean heatmaps decoded by net1's head, the codecs' own
        ensemble for one head family, or score-weighted decoded keypoints for two."""
        names, first = self.net_names, self._codecs[0]
        if first is None:
            mean = torch.stack([raw[n] for n in names]).mean(0)
            return self.nets[0].head.decode(mean)
        if len({type(c) for c in self._codecs}) == 1:
            return first.ensemble([raw[n] for n in names])
        return CodecConsistency.ensemble(first, [preds[n] for n in names])
