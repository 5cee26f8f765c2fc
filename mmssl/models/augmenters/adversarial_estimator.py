"""AdversarialPoseEstimator: a top-down pose network D trained against an augmentation
network G (seed 001, "Jointly Optimize Data Augmentation and Network Training").

One wrapper serves the paper's three stages, chosen with ``stage``:

* ``'pose'``: D trained with random scale/rotation made on the batch tensor (stage 1, and
  the "random augmentation" baseline);
* ``'augmenter'``: G pre-trained against the frozen D: ASR targets from a bin sweep through
  D, AHO targets from joint voting, KL losses (Eq. 3, 4);
* ``'joint'``: each mini-batch split into random / ASR / AHO shares (Alg. 1; or, with
  ``batch_mode='alternate'``, the release's whole batches alternating between random and
  adversarial); every adversarial image is compared with a random augmentation of itself
  (Alg. 2) and G learns toward the reward/penalty target (Eq. 5, 6) while D learns from
  the adversarial images.

The pipeline must deliver the standard crop (flip allowed, no scale/rotation jitter) and
``PackPoseInputs(pack_transformed=True)``; scale/rotation happen here, on the accelerator.
D and G have separate optimizers (``AdversarialOptimWrapperConstructor`` builds an
``OptimWrapperDict`` with keys ``pose`` and ``augmenter``). The stage losses live in
:class:`~.adversarial_steps.AdversarialStepsMixin`.
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.dist import get_rank
from mmengine.logging import MessageHub
from mmengine.model import BaseModel
from mmpose.registry import MODELS
from mmpose.utils.typing import ConfigType, OptConfigType

from .adversarial_steps import AdversarialStepsMixin
from .asr_warp import codec_geometry
from .augmentation_net import build_augmentation_net
from .bins import PAPER_ROTATION_BINS, PAPER_SCALE_BINS, AugmentationBins
from .bridge import BridgeFeatures, auto_bridge_modules
from .difficulty import build_difficulty

STAGES = ('pose', 'augmenter', 'joint')
BATCH_MODES = ('split', 'alternate')


@MODELS.register_module()
class AdversarialPoseEstimator(AdversarialStepsMixin, BaseModel):
    """Adversarial data augmentation (ASR + AHO) around an mmpose top-down estimator.

    Args:
        estimator: config of a top-down heatmap estimator (an mmpose config's ``model``).
        augmenter: config of G (:class:`AdversarialAugmentationNet`); ``in_channels``,
            bins and grid are filled in from the estimator and this wrapper.
        stage: ``'pose'``, ``'augmenter'`` or ``'joint'`` (see the module docstring).
        split: ratios of the random, ASR and AHO shares of a joint-training mini-batch
            (paper: equal thirds; ``(1, 1, 0)`` = +ASR, ``(1, 0, 1)`` = +AHO).
        batch_mode: ``'split'`` (paper, Alg. 1: every joint-training batch divided by
            ``split``) or ``'alternate'`` (the release: whole batches alternate, random
            augmentation on even iterations, adversarial on odd ones, the adversarial
            batch divided between ASR and AHO by ``split[1:]``; the parity is the runner's
            global iteration, so a resumed run continues on the right one). G takes no
            part in a random iteration: under DDP set ``find_unused_parameters=True``.
        difficulty: how hard an augmented image is, in the bin sweep and the
            reward/penalty comparison: ``'mse'`` (paper: D's heatmap loss) or ``'pckh'`` /
            ``dict(type='pckh', thr=0.5, norm='head_size' or (i, j), joints=None)`` (the
            release: 1 - PCKh, see :mod:`.difficulty`).
        scale_bins, rotation_bins: :class:`AugmentationBins` settings (paper: 7 and 9).
        random_aug: kwargs of :func:`sample_random_scale_rotation` (the random augmentation
            of the random share and of the references; paper ranges by default).
        grid: ``(gw, gh)`` AHO occlusion grid (paper 4 x 4).
        num_cells: ``(min, max)`` occluded cells per image, drawn uniformly (paper: 1 or 2;
            release: ``(2, 2)``).
        alpha, beta: reward and penalty amounts (release: 0.2, 0.5).
        clip_target: the release's clipping of targets to ``[0, 2/k]``.
        pretrain_sweep: ``'grid'`` (paper: all m x n combinations) or ``'separate'``
            (release: scale bins at rotation 0, rotation bins at scale 1).
        sweep_chunk: bin combinations rendered per forward pass of the sweep.
        aho_vote: ``'dataset'`` (paper: joints of all images counted, a running count) or
            ``'image'`` (each image's own joints).
        bridge: ``'auto'`` or ``dict(modules=[...], capture=[...])`` (see :mod:`.bridge`).
        target_mode: ``'reencode'`` (MSRAHeatmap, exact) or ``'warp'`` heatmap targets.
        train_on_reference: also train D on the random references of adversarial images.
        random_plain_share: fraction of every random-augmentation batch (stage ``'pose'``)
            that trains on the plain crop, not warped: the control for the joint step,
            whose AHO share trains on the plain crop (occluded) while the random baseline
            warps every image. ``1/3`` with the paper's split matches the AHO share's
            count; 0 (default) is the paper's random baseline.
        asr_weight, aho_weight: weights of G's KL losses.
        seed: base seed of the model's sampling (default: torch's initial seed); draws are
            a function of (seed, iteration, rank), so a resumed run draws what the
            uninterrupted run would.
        data_preprocessor: default: the estimator's.
    """

    def __init__(self, estimator: ConfigType, *, augmenter: OptConfigType = None,
                 stage: str = 'joint', split: Sequence[float] = (1, 1, 1),
                 batch_mode: str = 'split', difficulty: Union[str, dict] = 'mse',
                 scale_bins: Union[dict, AugmentationBins] = PAPER_SCALE_BINS,
                 rotation_bins: Union[dict, AugmentationBins] = PAPER_ROTATION_BINS,
                 random_aug: Optional[dict] = None, grid: Tuple[int, int] = (4, 4),
                 num_cells: Tuple[int, int] = (1, 2), alpha: float = 0.2, beta: float = 0.5,
                 clip_target: bool = False, pretrain_sweep: str = 'grid',
                 sweep_chunk: int = 8, aho_vote: str = 'dataset',
                 bridge: Union[str, dict] = 'auto', target_mode: str = 'reencode',
                 train_on_reference: bool = False, asr_weight: float = 1.,
                 aho_weight: float = 1., random_plain_share: float = 0.,
                 seed: Optional[int] = None,
                 data_preprocessor: OptConfigType = None, init_cfg: OptConfigType = None):
        if data_preprocessor is None:
            data_preprocessor = estimator.get('data_preprocessor')
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self._check_choice('stage', stage, STAGES)
        self._check_choice('pretrain_sweep', pretrain_sweep, ('grid', 'separate'))
        self._check_choice('aho_vote', aho_vote, ('dataset', 'image'))
        self._check_choice('target_mode', target_mode, ('reencode', 'warp'))
        self._check_choice('batch_mode', batch_mode, BATCH_MODES)
        if batch_mode == 'alternate' and not sum(split[1:]) > 0:
            raise ValueError(f"batch_mode='alternate' needs an adversarial share: "
                             f'split[1:] must not be all 0, got {split}')
        if len(split) != 3 or min(split) < 0 or sum(split) <= 0:
            raise ValueError(f'split must be 3 non-negative ratios (random, ASR, AHO) with a '
                             f'positive sum, got {split}')
        self.pose = MODELS.build(estimator)
        head = getattr(self.pose, 'head', None)
        if head is None or not hasattr(head, 'loss_module') or \
                not hasattr(getattr(head, 'decoder', None), 'heatmap_size'):
            raise TypeError(f'{type(self).__name__} needs a top-down estimator with a heatmap '
                            f'head (loss_module and a heatmap codec), got '
                            f'{type(head).__name__}')
        self.codec = codec_geometry(head.decoder)
        self.stage, self.split = stage, tuple(float(r) for r in split)
        self.batch_mode = batch_mode
        self.difficulty = build_difficulty(difficulty)
        self.scale_bins = AugmentationBins.build(scale_bins)
        self.rotation_bins = AugmentationBins.build(rotation_bins)
        self.random_aug = dict(random_aug or {})
        self.grid = tuple(grid)
        k = self.grid[0] * self.grid[1]
        if not 1 <= num_cells[0] <= num_cells[1] < k:
            raise ValueError(f'num_cells must satisfy 1 <= min <= max < {k}, got {num_cells}')
        self.num_cells = tuple(num_cells)
        self.alpha, self.beta, self.clip_target = alpha, beta, clip_target
        self.pretrain_sweep, self.sweep_chunk = pretrain_sweep, max(1, int(sweep_chunk))
        self.aho_vote, self.target_mode = aho_vote, target_mode
        self.train_on_reference = train_on_reference
        if not 0. <= random_plain_share < 1.:
            raise ValueError(f'random_plain_share must be in [0, 1), got {random_plain_share}')
        self.random_plain_share = float(random_plain_share)
        self.asr_weight, self.aho_weight = asr_weight, aho_weight
        self.seed = int(torch.initial_seed() if seed is None else seed) % (2 ** 31)
        self.register_buffer('aho_votes', torch.zeros(k))
        self._build_bridge(bridge)
        self.augmenter = build_augmentation_net(
            augmenter or {}, self._bridge_channels,
            (self.scale_bins.num_bins, self.rotation_bins.num_bins), self.grid)
        self._freeze_for_stage()
        self.reset_prediction_stats()

    # ------------------------------------------------------------------ structure
    @staticmethod
    def _check_choice(name: str, value, choices) -> None:
        if value not in choices:
            raise ValueError(f'{name} must be one of {choices}, got {value!r}')

    def _build_bridge(self, bridge: Union[str, dict]) -> None:
        """Hook the bridge modules and find their channels and finest-first order with one
        dummy pass at the codec's input size. ``'auto'`` leaves out features smaller than
        the occlusion grid (e.g. the 2x2 skip of a 128x128 hourglass); explicitly named
        modules must all be large enough."""
        if bridge == 'auto':
            modules, capture = auto_bridge_modules(self.pose)
        elif isinstance(bridge, dict) and 'modules' in bridge:
            modules, capture = list(bridge['modules']), bridge.get('capture')
        else:
            raise ValueError(f"bridge must be 'auto' or dict(modules=[...], capture=[...]), "
                             f'got {bridge!r}')
        self.bridge = BridgeFeatures(self.pose, modules, capture, self.grid)
        sizes = self._bridge_sizes()
        small = {n: s for n, s in sizes.items()
                 if s[1] < self.grid[1] or s[2] < self.grid[0]}
        if small and bridge == 'auto':
            self.bridge.remove()
            capture = [n for n in self.bridge.captured_names if n not in small]
            modules = [n for n in modules if n not in small]
            if not capture:
                raise ValueError(f'every bridge feature is smaller than the {self.grid} '
                                 f'occlusion grid: {small}')
            self.bridge = BridgeFeatures(self.pose, modules, capture, self.grid)
        elif small:
            w, h = self.codec['input_size']
            raise ValueError(f'bridge features {small} (C, H, W) are smaller than the '
                             f'{self.grid} occlusion grid at input {w}x{h}; drop those '
                             'modules')
        names = self.bridge.captured_names
        self._bridge_order = sorted(range(len(names)),
                                    key=lambda i: -sizes[names[i]][1] * sizes[names[i]][2])
        self._bridge_channels = [sizes[names[i]][0] for i in self._bridge_order]

    def _bridge_sizes(self) -> Dict[str, Tuple[int, int, int]]:
        """(C, H, W) of every hooked bridge feature at the codec's input size."""
        w, h = self.codec['input_size']
        named = dict(self.pose.named_modules())
        sizes, handles = {}, []
        for name in dict.fromkeys(self.bridge.masked + self.bridge.captured_names):
            handles.append(named[name].register_forward_hook(
                lambda m, i, o, n=name: sizes.__setitem__(n, tuple(o.shape[1:]))))
        was = self.pose.training
        self.pose.eval()
        try:
            with torch.no_grad():
                self.pose.extract_feat(torch.zeros(1, 3, h, w))
        finally:
            self.pose.train(was)
            for handle in handles:
                handle.remove()
        return sizes

    @property
    def active_heads(self) -> Tuple[str, ...]:
        """G outputs trained in this stage."""
        if self.stage == 'pose':
            return ()
        heads = self.augmenter.heads
        if self.stage == 'augmenter':
            return heads
        return tuple(h for h, r in zip(('asr', 'aho'), self.split[1:]) if r > 0 and h in heads)

    def _freeze_for_stage(self) -> None:
        """requires_grad=False for what the stage does not train (so that DDP sees no
        unused parameter and no optimizer moves it)."""
        if self.stage == 'augmenter':
            self.pose.requires_grad_(False)
        if self.stage == 'joint':
            missing = [h for h, r in zip(('asr', 'aho'), self.split[1:])
                       if r > 0 and h not in self.augmenter.heads]
            if missing:
                raise ValueError(f'split enables {missing} but G was built with heads='
                                 f'{self.augmenter.heads}')
        active = self.active_heads
        if not active:
            self.augmenter.requires_grad_(False)
        for head in set(self.augmenter.heads) - set(active):
            for param in self.augmenter.head_parameters(head):
                param.requires_grad_(False)

    def train(self, mode: bool = True) -> 'AdversarialPoseEstimator':
        """D stays in eval mode while it is frozen (G pre-training)."""
        super().train(mode)
        if self.stage == 'augmenter':
            self.pose.eval()
        return self

    # ------------------------------------------------------------------ passes
    def _generator(self, device, salt: int = 0) -> torch.Generator:
        """A generator seeded from (seed, iteration, rank, salt)."""
        it = int(MessageHub.get_current_instance().get_info('iter', 0))
        gen = torch.Generator(device=device)
        gen.manual_seed((self.seed * 1000003 + it * 7919 + get_rank() * 104729 + salt)
                        % (2 ** 62))
        return gen

    def capture_bridge(self, images: torch.Tensor) -> List[torch.Tensor]:
        """D's bridge features of ``images`` (eval mode, no gradient, the forward pass stops
        once they exist), finest first: G's input."""
        was = self.pose.training
        self.pose.eval()
        try:
            with torch.no_grad():
                feats = self.bridge.capture(lambda: self.pose.extract_feat(images))
        finally:
            self.pose.train(was)
        return [feats[i] for i in self._bridge_order]

    def pose_forward(self, images: torch.Tensor,
                     masks: Optional[torch.Tensor] = None) -> Union[torch.Tensor, list]:
        """D's heatmaps (one tensor, or one per stage for multi-stage heads), with AHO
        ``[B, gh, gw]`` masks multiplied into the bridge features when given."""
        with self.bridge.masking(masks):
            return self.pose(images, None, mode='tensor')

    @staticmethod
    def per_sample_loss(outputs, targets: torch.Tensor,
                        weights: torch.Tensor) -> torch.Tensor:
        """``[B]`` weighted heatmap MSE (summed over the stages of multi-stage heads): the
        "difficulty" of each augmented image."""
        outs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        w = weights[:, :, None, None].to(targets.dtype)
        return sum(((o - targets) ** 2 * w).mean((1, 2, 3)) for o in outs)

    def head_loss(self, outputs, targets: torch.Tensor,
                  weights: torch.Tensor) -> torch.Tensor:
        """D's training loss with the head's own loss module (per stage, summed)."""
        outs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        module = self.pose.head.loss_module
        total = 0.
        for i, out in enumerate(outs):
            fn = module[i] if isinstance(module, nn.ModuleList) else module
            total = total + fn(out, targets, weights)
        return total

    # ------------------------------------------------------------------ API
    def forward(self, inputs: torch.Tensor, data_samples: Optional[list] = None,
                mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.pose_forward(inputs)
        raise RuntimeError(f'Invalid mode "{mode}"')

    def loss(self, inputs: torch.Tensor, data_samples: list) -> Dict[str, torch.Tensor]:
        batch = self.gather_targets(data_samples, inputs.device)
        if self.stage == 'augmenter':
            return self.loss_augmenter_pretrain(inputs, batch)
        if self.stage == 'pose' or not self.active_heads or not self.adversarial_iteration():
            return self.loss_random(inputs, batch)
        return self.loss_joint(inputs, batch)

    def adversarial_iteration(self) -> bool:
        """Whether this joint-training iteration carries adversarial images: always with
        ``batch_mode='split'``; on odd global iterations with ``'alternate'`` (the release's
        ``i % 2``: regular batch first)."""
        if self.batch_mode == 'split':
            return True
        return int(MessageHub.get_current_instance().get_info('iter', 0)) % 2 == 1

    def predict(self, inputs: torch.Tensor, data_samples: list) -> list:
        """D's predictions (G plays no part at test time)."""
        return self.pose.predict(inputs, data_samples)

    def gather_targets(self, data_samples: list, device) -> Dict[str, torch.Tensor]:
        """Stack the pipeline's heatmaps, keypoint weights and standard-crop keypoints."""
        try:
            heatmaps = torch.stack([d.gt_fields.heatmaps for d in data_samples])
            weights = torch.cat([d.gt_instance_labels.keypoint_weights for d in data_samples])
        except AttributeError as err:
            raise KeyError('training samples need heatmap targets: GenerateTarget with the '
                           f'heatmap codec in the train pipeline ({err})')
        kpts = []
        for d in data_samples:
            k = d.gt_instances.get('transformed_keypoints')
            if k is None:
                raise KeyError('AdversarialPoseEstimator needs the keypoints of the crop: end '
                               'the train pipeline with PackPoseInputs(pack_transformed=True)')
            kpts.append(torch.as_tensor(k, dtype=torch.float32))
        keypoints = torch.cat(kpts)[..., :2]
        if keypoints.shape[0] != heatmaps.shape[0]:
            raise ValueError('top-down training needs one instance per sample, got '
                             f'{keypoints.shape[0]} instances for {heatmaps.shape[0]} samples')
        batch = dict(heatmaps=heatmaps.to(device), weights=weights.to(device),
                     keypoints=keypoints.to(device))
        if self.difficulty is not None:
            batch['norm'] = self.difficulty.norm_lengths(
                data_samples, batch['keypoints'], batch['weights'], self.codec['input_size'])
        return batch

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        """A plain estimator checkpoint (``load_from`` an mmpose model) loads into D; G and
        the vote counts then keep their initial values."""
        own = [k for k in state_dict if k.startswith(prefix)]
        ours = ('pose', 'augmenter', 'aho_votes')
        if own and not any(k[len(prefix):].split('.')[0] in ours for k in own):
            for key in own:
                state_dict[f'{prefix}pose.{key[len(prefix):]}'] = state_dict.pop(key)
            for key, value in self.state_dict(prefix=prefix).items():
                if not key.startswith(f'{prefix}pose.'):
                    state_dict.setdefault(key, value)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                      missing_keys, unexpected_keys, error_msgs)
