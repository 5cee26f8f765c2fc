"""PoseDual and PoseCons: consistency training of top-down pose estimators (seed 000).

PoseDual (Algorithm 1 of the seed): two independently initialised estimators f_theta and
f_xi. Both are trained on the labeled batch; on the unlabeled batch each one is the teacher
of the other: teachers predict heatmaps on the *easy* view, students on the *hard* view (easy
view + Joint Cutout at the teacher's joints + an extra per-sample affine, made on the batch
tensor), and the teacher heatmaps are warped with the same affine (T_{e->h}).

    L = sup_weight * (L_s(theta) + L_s(xi)) + unsup_weight * (L_theta + L_xi)

PoseCons is the single-network baseline that is its own teacher; with
``teacher_view='same'`` the teacher also gets an independent draw of the hard affine, so
teacher and student views come from the same distribution (the collapsing setup studied in
the seed).

Heatmap heads follow the teacher by the direct heatmap warp. Every other top-down head of
mmpose (RTMPose's ``RTMCCHead`` with a SimCC codec, ``RegressionHead``, ``RLEHead``,
``IntegralRegressionHead``, ``DSNTHead``) follows it through the codecs
(:mod:`.codec_consistency`): the teacher's output is decoded to keypoints and scores, the
keypoints are mapped to the hard view with the same affine and encoded by the student's codec;
the student's head loss weights each keypoint by the teacher's score (0 below ``score_thr``).

The model consumes the branch layout of :class:`mmssl.datasets.transforms.PoseMultiBranch`
(``inputs[branch]`` / ``data_samples[branch]``) through
:class:`MultiBranchPoseDataPreprocessor` (mmdet's multi-branch preprocessor); validation
batches are plain mmpose batches.
"""
from contextlib import nullcontext
from functools import partial
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.logging import MessageHub
from mmengine.model import BaseModel, is_model_wrapper
from mmengine.optim import OptimWrapper
from torch import nn
from mmpose.models.heads.base_head import BaseHead
from mmpose.registry import MODELS
from mmpose.utils.typing import ConfigType, OptConfigType

from .batch_augment import (apply_to_points, heatmap_argmax, joint_cutout, sample_hard_affine,
                            sample_joint_cutout, step_generator, warp_tensor)
from .codec_consistency import build_codec_consistency
from .pose_dual_inference import PREDICT_MODES, PoseDualInferenceMixin


@MODELS.register_module()
class PoseDual(PoseDualInferenceMixin, BaseModel):
    """Dual-network semi-supervised top-down pose estimation.

    Args:
        estimator: config of a top-down estimator (e.g. an mmpose config's ``model``) with a
            heatmap, SimCC (RTMPose) or regression head; built twice with independent
            initialisation.
        estimator2: optional different config for the second network.
        sup_weight: weight of each network's supervised loss (seed: 1; release: 0.5).
        unsup_weight: lambda, weight of each network's unsupervised loss.
        teacher_mode: ``'train'`` (BN statistics update on the teacher pass, as released)
            or ``'eval'``.
        teacher_view: ``'easy'`` (teacher sees the easy view) or ``'same'`` (teacher sees
            its own draw of the hard affine: views from the same distribution).
        hard_affine: kwargs of :func:`sample_hard_affine` for the hard view, or ``None``.
        joint_cutout: kwargs of :func:`sample_joint_cutout`, or ``None`` to disable.
        predict_on: ``'net1'``, ``'net2'`` or ``'ensemble'``: averaged heatmaps, averaged
            SimCC vectors (then decoded), or for regression heads the decoded coordinates
            averaged with the networks' scores as weights.
        score_thr: heads other than heatmap heads: a teacher keypoint with a score below
            ``score_thr`` gets weight 0, the others their score clipped to [0, 1].
        unsup_start_iter: iterations of supervised-only training before the consistency
            loss starts (the seed first trains both networks separately on labeled data).
        branches: names of the labeled, teacher and student branches; a batch without the
            student branch uses the teacher images for the hard view.
        data_preprocessor: e.g. ``dict(type='MultiBranchPoseDataPreprocessor',
            data_preprocessor=<the estimator's PoseDataPreprocessor>)``.
    """

    num_networks = 2

    def __init__(self, estimator: ConfigType, *, estimator2: OptConfigType = None,
                 sup_weight: float = 1.0, unsup_weight: float = 1.0,
                 teacher_mode: str = 'train', teacher_view: str = 'easy',
                 hard_affine: Optional[dict] = dict(), joint_cutout: Optional[dict] = None,
                 predict_on: str = 'ensemble', unsup_start_iter: int = 0,
                 score_thr: float = 0.,
                 branches: Sequence[str] = ('sup', 'unsup_teacher', 'unsup_student'),
                 data_preprocessor: OptConfigType = None, init_cfg: OptConfigType = None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if teacher_mode not in ('train', 'eval'):
            raise ValueError(f'teacher_mode must be "train" or "eval", got {teacher_mode!r}')
        if teacher_view not in ('easy', 'same'):
            raise ValueError(f'teacher_view must be "easy" or "same", got {teacher_view!r}')
        configs = [estimator, estimator2 or estimator][:self.num_networks]
        self.net_names = [f'net{i + 1}' for i in range(self.num_networks)]
        for name, cfg in zip(self.net_names, configs):
            self.add_module(name, MODELS.build(cfg))
        model = type(self).__name__
        # plain objects holding the heads (not sub-modules: no parameters of their own)
        self._codecs = [build_codec_consistency(getattr(self, n), n, model)
                        for n in self.net_names]
        self._check_keypoint_counts()
        if all(c is None for c in self._codecs):
            for name in self.net_names:
                self._check_heatmap_estimator(name)
            self._check_same_heatmap_grid()
        elif any(c is None for c in self._codecs):
            raise TypeError(f'{model}: net1 and net2 must both have heatmap heads or both '
                            'other heads (a heatmap teacher is warped, the others go through '
                            f'their codecs); got {[type(n.head).__name__ for n in self.nets]}')
        else:
            self._check_same_input_size()
        self.score_thr = score_thr
        self.predict_on = predict_on  # validated by the setter
        self.sup_weight, self.unsup_weight = sup_weight, unsup_weight
        self.teacher_mode, self.teacher_view = teacher_mode, teacher_view
        self.hard_affine = hard_affine
        self.unsup_start_iter = unsup_start_iter
        self.joint_cutout_cfg = joint_cutout
        self.sup_branch, self.teacher_branch, self.student_branch = branches

    # ------------------------------------------------------------------ structure
    @property
    def nets(self) -> List[BaseModel]:
        """The estimators (unwrapped when a DDP wrapper holds them)."""
        return [self._unwrap(getattr(self, name)) for name in self.net_names]

    @staticmethod
    def _unwrap(net: nn.Module) -> nn.Module:
        return net.module if is_model_wrapper(net) else net

    @property
    def predict_on(self) -> str:
        return self._predict_on

    @predict_on.setter
    def predict_on(self, value: str) -> None:
        modes = self.predict_modes
        if value not in modes:
            raise ValueError(f'predict_on must be one of {modes}, got {value!r}')
        self._predict_on = value

    @property
    def predict_modes(self) -> Tuple[str, ...]:
        return PREDICT_MODES if self.num_networks == 2 else ('net1', )

    def _check_heatmap_estimator(self, name: str) -> None:
        head = getattr(getattr(self, name), 'head', None)
        codec = getattr(head, 'decoder', None)
        if not isinstance(head, BaseHead) or not hasattr(codec, 'heatmap_size') or \
                not hasattr(head, 'loss_module'):
            raise TypeError(f'{type(self).__name__} needs top-down estimators with a heatmap '
                            f'head (a head with a heatmap codec and loss_module); {name} has '
                            f'{type(head).__name__} with decoder {type(codec).__name__}')

    def _check_same_heatmap_grid(self) -> None:
        """Teacher heatmaps are warped onto the student's grid and the ensemble averages
        heatmaps, so both networks must share input size, heatmap size (and stride)."""
        if self.num_networks < 2:
            return
        grids = [(tuple(net.head.decoder.input_size), tuple(net.head.decoder.heatmap_size))
                 for net in (getattr(self, n) for n in self.net_names)]
        if grids[0] != grids[1]:
            raise ValueError(
                f'{type(self).__name__}: estimator and estimator2 must share the codec grid '
                f'(input_size, heatmap_size); net1 has {grids[0]}, net2 has {grids[1]}: a '
                'teacher would be decoded with the other network\'s stride')

    def _check_keypoint_counts(self) -> None:
        counts = [getattr(n.head, 'out_channels', None) or getattr(n.head, 'num_joints', None)
                  for n in self.nets]
        if len(set(counts)) > 1:
            raise ValueError(
                f'{type(self).__name__}: estimator and estimator2 predict different keypoint '
                f'counts (net1 {type(self.nets[0].head).__name__}: {counts[0]}, net2 '
                f'{type(self.nets[1].head).__name__}: {counts[1]}); each network is the '
                "other's teacher, keypoint by keypoint")

    def _check_same_input_size(self) -> None:
        sizes = [c.input_size for c in self._codecs]
        if len(set(sizes)) > 1:
            raise ValueError(f'{type(self).__name__}: estimator and estimator2 must share the '
                             f'codec input_size; net1 has {sizes[0]}, net2 has {sizes[-1]}')

    def _stride(self, net) -> Tuple[float, float]:
        codec = net.head.decoder
        return (codec.input_size[0] / codec.heatmap_size[0],
                codec.input_size[1] / codec.heatmap_size[1])

    def _head_output(self, index: int, net, images: torch.Tensor):
        """The head's raw output (heatmaps, SimCC vectors, coordinates) on ``images``."""
        codec = self._codecs[index]
        return self._heatmaps(net, images) if codec is None else codec.forward(net, images)

    @staticmethod
    def _heatmaps(net, images: torch.Tensor) -> torch.Tensor:
        out = net.head.forward(net.extract_feat(images))
        if not isinstance(out, torch.Tensor):
            raise TypeError(f'{type(net.head).__name__}.forward must return one heatmap '
                            f'tensor, got {type(out).__name__}')
        return out

    # ------------------------------------------------------------------ training
    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            images = inputs[self.teacher_branch] if isinstance(inputs, dict) else inputs
            return [self._head_output(i, net, images) for i, net in enumerate(self.nets)]
        raise RuntimeError(f'Invalid mode "{mode}"')

    def loss(self, inputs: Dict[str, torch.Tensor],
             data_samples: Dict[str, list]) -> Dict[str, torch.Tensor]:
        """All loss terms at once (the path of mmengine's default model wrappers, which
        back-propagate one summed loss); :meth:`train_step` computes the same terms one
        backward pass at a time."""
        losses, terms = self._loss_terms(inputs, data_samples)
        for _, term in terms:
            losses.update(term())
        return losses

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper: OptimWrapper) -> Dict[str, torch.Tensor]:
        """One optimizer step with a backward pass per loss term.

        The gradient is the one of the summed loss, but only one term's graph is alive at a
        time (a summed loss keeps both networks' labeled and student graphs until the one
        backward). Used single-process and under ``MMSeparateDistributedDataParallel``
        (``model_wrapper_cfg`` of the PoseDual configs), which wraps each network in its own
        DDP: every term is a forward through that wrapper, and gradients are all-reduced only
        in the backward of a network's last term (``no_sync`` before), as in gradient
        accumulation.
        """
        with optim_wrapper.optim_context(self):
            data = self.data_preprocessor(data, True)
            losses, terms = self._loss_terms(data['inputs'], data['data_samples'])
        # every term belongs to the same optimizer step: the same loss scale, one count
        count, sync = optim_wrapper._inner_count, optim_wrapper.should_sync()
        for k, (i, term) in enumerate(terms):
            last_of_net = k + 1 == len(terms) or terms[k + 1][0] != i
            net = getattr(self, self.net_names[i])
            no_sync = hasattr(net, 'no_sync') and not (sync and last_of_net)
            with net.no_sync() if no_sync else nullcontext():
                with optim_wrapper.optim_context(self):
                    term_losses = term()
                loss, _ = self.parse_losses(term_losses)
                optim_wrapper._inner_count = count
                optim_wrapper.backward(optim_wrapper.scale_loss(loss))
            losses.update({key: value.detach() for key, value in term_losses.items()})
        optim_wrapper._inner_count = count + 1
        if optim_wrapper.should_update():
            optim_wrapper.step()
            optim_wrapper.zero_grad()
        return self.parse_losses(losses)[1]

    def _loss_terms(self, inputs: Dict[str, torch.Tensor], data_samples: Dict[str, list]
                    ) -> Tuple[Dict[str, torch.Tensor], List[Tuple[int, Callable[[], dict]]]]:
        """The teacher pass (no gradient; its logs are returned) and, per network in order,
        closures computing that network's loss terms: supervised, then cross-teaching."""
        logs: Dict[str, torch.Tensor] = {}
        terms: List[Tuple[int, Callable[[], dict]]] = []
        it = MessageHub.get_current_instance().get_info('iter', 0)
        students = None
        if self.teacher_branch in inputs and it >= self.unsup_start_iter:
            logs, students = self._consistency_targets(inputs[self.teacher_branch],
                                                       inputs.get(self.student_branch), it)
        for i, name in enumerate(self.net_names):
            if self.sup_branch in inputs:
                terms.append((i, partial(self._supervised_loss, name, inputs[self.sup_branch],
                                         data_samples[self.sup_branch])))
            if students is not None:
                terms.append((i, partial(self._consistency_loss, name, *students[i])))
        return logs, terms

    def _supervised_loss(self, name: str, images: torch.Tensor,
                         samples: list) -> Dict[str, torch.Tensor]:
        losses = getattr(self, name)(images, samples, mode='loss')
        return {f'sup_{name}_{key}': value * (self.sup_weight if key.startswith('loss') else 1.)
                for key, value in losses.items()}

    def _consistency_loss(self, name: str, images: torch.Tensor,
                          target) -> Dict[str, torch.Tensor]:
        pred = getattr(self, name)(images, None, mode='tensor')
        codec = self._codecs[self.net_names.index(name)]
        if codec is None:  # heatmaps: the warped teacher heatmaps, every keypoint weighted 1
            loss_module = self._unwrap(getattr(self, name)).head.loss_module
            loss = loss_module(pred, target, pred.new_ones(pred.shape[:2]))
        else:  # the teacher's keypoints encoded by this head's codec, score-weighted
            loss = codec.loss(pred, *target)
        return {f'unsup_{name}_loss': self.unsup_weight * loss}

    def _teacher_pass(self, images: torch.Tensor, views: torch.Tensor) -> list:
        """Teacher outputs of every network on the teacher view (no gradient)."""
        out = []
        with torch.no_grad():
            for i, net in enumerate(self.nets):
                was_training = net.training
                if self.teacher_mode == 'eval':
                    net.eval()
                x = images if views is None else warp_tensor(images, views)
                pred = self._head_output(i, net, x)
                out.append(pred.detach() if isinstance(pred, torch.Tensor)
                           else tuple(p.detach() for p in pred))
                net.train(was_training)
        return out

    def _consistency_targets(self, easy: torch.Tensor, student_src: Optional[torch.Tensor],
                             step: int = 0) -> Tuple[Dict[str, torch.Tensor],
                                                     List[Tuple[torch.Tensor, torch.Tensor]]]:
        """Teacher pass and, per student network, its hard-view images and the warped
        teacher heatmaps of the other network (T_{e->h}); logs the teachers' response.
        The hard affines and Joint Cutout boxes are drawn from this rank's generator of
        ``step`` (:func:`step_generator`)."""
        student_src = easy if student_src is None else student_src
        b, _, h, w = easy.shape
        generator = step_generator(easy.device, step)
        eye = torch.eye(3, device=easy.device).expand(b, 3, 3)
        affine = (lambda: sample_hard_affine(b, (w, h), device=easy.device,
                                             generator=generator, **self.hard_affine)
                  ) if self.hard_affine is not None else (lambda: eye)
        teacher_views = affine() if self.teacher_view == 'same' else None
        teachers = self._teacher_pass(easy, teacher_views)
        hard = affine()
        # T_{e->h}: teacher-view pixels -> hard-view pixels
        to_hard = hard if teacher_views is None else hard @ torch.linalg.inv(teacher_views)
        logs, students = {}, []
        for i, student in enumerate(self.nets):
            other = (i + 1) % self.num_networks
            teacher = teachers[other]
            if self._codecs[i] is not None:
                students.append(self._codec_target(
                    i, other, teacher, student_src, hard, teacher_views, generator, logs))
                continue
            stride = self._stride(student)
            logs[f'response_{self.net_names[other]}'] = teacher.amax(dim=(2, 3)).mean()
            x = student_src
            if self.joint_cutout_cfg is not None:
                joints = heatmap_argmax(teacher, stride)  # the teacher's joints
                if teacher_views is not None:  # back to easy-view pixels
                    joints = apply_to_points(torch.linalg.inv(teacher_views), joints)
                centers, half = sample_joint_cutout(joints, (w, h), generator=generator,
                                                    **self.joint_cutout_cfg)
                x = joint_cutout(x, centers, half)
            students.append((warp_tensor(x, hard), warp_tensor(teacher, to_hard, stride)))
        return logs, students

    def _codec_target(self, i: int, other: int, teacher, student_src: torch.Tensor,
                      hard: torch.Tensor, teacher_views: Optional[torch.Tensor],
                      generator: torch.Generator, logs: dict) -> tuple:
        """Hard view of student ``i`` and its target from teacher ``other``'s output: decoded
        by the teacher's codec, mapped to the hard view, encoded by the student's codec."""
        t_codec, s_codec = self._codecs[other], self._codecs[i]
        joints, scores = t_codec.decode(teacher)  # teacher-view input pixels
        if t_codec.has_confidence:
            logs[f'response_{self.net_names[other]}'] = t_codec.confidence(teacher).mean()
        if teacher_views is not None:  # back to easy-view pixels
            joints = apply_to_points(torch.linalg.inv(teacher_views), joints)
        x = student_src
        if self.joint_cutout_cfg is not None:  # at the teacher's decoded joints
            b, _, h, w = x.shape
            centers, half = sample_joint_cutout(joints, (w, h), generator=generator,
                                                **self.joint_cutout_cfg)
            x = joint_cutout(x, centers, half)
        weights = torch.where(scores >= self.score_thr, scores.clamp(0, 1),
                              torch.zeros_like(scores))
        target, weights = s_codec.encode(apply_to_points(hard, joints), weights)
        return warp_tensor(x, hard), (target, weights)

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self, *args, destination=None, prefix: str = '', keep_vars: bool = False):
        """Keys as in single-process training (``net1.backbone...``) also while DDP wrappers
        hold the networks (``MMSeparateDistributedDataParallel`` would add ``.module``), so
        checkpoints resume and export the same either way."""
        out = super().state_dict(*args, destination=destination, prefix=prefix,
                                 keep_vars=keep_vars)
        wrapped = [f'{prefix}{name}.module.' for name in self.net_names
                   if is_model_wrapper(getattr(self, name))]
        if wrapped:
            items = list(out.items())
            out.clear()
            for key, value in items:
                for w in wrapped:
                    if key.startswith(w):
                        key = w[:-len('module.')] + key[len(w):]
                        break
                out[key] = value
        return out

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        """Load a plain estimator checkpoint (``load_from`` a supervised model) into every
        network; PoseDual checkpoints load as usual."""
        own = [k for k in state_dict if k.startswith(prefix)]
        if own and not any(k[len(prefix):].split('.')[0] in self.net_names for k in own):
            for key in own:
                value = state_dict.pop(key)
                for name in self.net_names:
                    state_dict[f'{prefix}{name}.{key[len(prefix):]}'] = value
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                      missing_keys, unexpected_keys, error_msgs)


@MODELS.register_module()
class PoseCons(PoseDual):
    """Single-network consistency baseline: the network is its own teacher (seed 000)."""

    num_networks = 1

    def __init__(self, estimator: ConfigType, *, predict_on: str = 'net1', **kwargs):
        if kwargs.get('estimator2') is not None:
            raise ValueError('PoseCons has one network; estimator2 is not used')
        super().__init__(estimator, predict_on=predict_on, **kwargs)
