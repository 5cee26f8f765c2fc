"""Bridge features of a pose network, read and occluded through forward hooks (seed 001).

G reads the pose network's multi-resolution "bridge" features (the skip features of the
first hourglass, 64..4 px for a 256 input); AHO multiplies a 4 x 4 occlusion mask, upsampled
(nearest) to every resolution, into the bridge features of every hourglass. Both go through
``register_forward_hook`` on the modules that produce those features, so no mmpose class is
edited: a hook returns ``output * mask`` while masks are set, stores ``output.detach()``
while capturing, and may stop the forward pass once every captured feature exists (the
release's "half hourglass": the rest of the network is not computed for G's input).

Module choice (``bridge='auto'``):
* mmpose ``HourglassNet``: the ``up1`` skip branch of every nested ``HourglassModule``;
  captured from the first stack, masked in every stack.
* backbones with ``res_layers`` (mmpose ResNet family): the outputs of every residual stage.
* otherwise give ``dict(modules=[...], capture=[...])`` with names of
  ``estimator.named_modules()``.
"""
from contextlib import contextmanager
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn


class BridgeCaptured(Exception):
    """Raised by a capture hook to end a forward pass early (caught by the caller)."""


def occlusion_mask(selected: torch.Tensor, grid: Tuple[int, int]) -> torch.Tensor:
    """``[B, gh, gw]`` mask: 0 on the selected cells (``[B, gw * gh]`` bool, row-major),
    1 elsewhere."""
    gw, gh = grid
    return (~selected).to(torch.float32).view(-1, gh, gw)


def cells_from_order(order: torch.Tensor, counts: torch.Tensor, num_cells: int) -> torch.Tensor:
    """``[B, num_cells]`` bool: the first ``counts[b]`` cells of ``order[b]`` selected.

    ``order`` (``[B, n]``, cell indices without repeats, row-major over the grid) is a draw
    without replacement from the occlusion distribution; the one rule turning such a draw
    into occluded cells, shared by the batch-tensor AHO and the per-sample pipeline
    transform (:class:`mmssl.datasets.transforms.BinnedOcclusionCells`).
    """
    keep = torch.arange(order.shape[1], device=order.device)[None] < counts[:, None]
    return torch.zeros(order.shape[0], num_cells, dtype=torch.bool,
                       device=order.device).scatter_(1, order, keep)


def upsample_mask(mask: torch.Tensor, size: Tuple[int, int]) -> torch.Tensor:
    """Nearest upsampling of ``[B, gh, gw]`` to ``[B, h, w]``: pixel ``(y, x)`` takes cell
    ``(floor(y * gh / h), floor(x * gw / w))`` (``F.interpolate(mode='nearest')``'s rule,
    written as an index so that it is exact for every size)."""
    h, w = size
    gh, gw = mask.shape[-2:]
    rows = torch.div(torch.arange(h, device=mask.device) * gh, h, rounding_mode='floor')
    cols = torch.div(torch.arange(w, device=mask.device) * gw, w, rounding_mode='floor')
    return mask[:, rows][:, :, cols]


def auto_bridge_modules(estimator: nn.Module) -> Tuple[List[str], List[str]]:
    """(masked module names, captured module names) for known backbones."""
    from mmpose.models.backbones.hourglass import HourglassModule, HourglassNet
    backbone = getattr(estimator, 'backbone', None)
    if isinstance(backbone, HourglassNet):
        masked, captured = [], []
        for s, module in enumerate(backbone.hourglass_modules):
            name = f'backbone.hourglass_modules.{s}'
            while isinstance(module, HourglassModule):
                masked.append(f'{name}.up1')
                if s == 0:
                    captured.append(f'{name}.up1')
                module, name = module.low2, f'{name}.low2'
        return masked, captured
    if backbone is not None and getattr(backbone, 'res_layers', None):
        names = [f'backbone.{n}' for n in backbone.res_layers]
        return names, list(names)
    raise ValueError(
        f'bridge="auto" knows mmpose HourglassNet and ResNet-style backbones, not '
        f'{type(backbone).__name__}; pass bridge=dict(modules=[...], capture=[...]) with '
        'module names of the estimator (its named_modules())')


class BridgeFeatures:
    """Forward hooks on the bridge modules of ``estimator``.

    Args:
        estimator: the pose network.
        modules: names of modules whose outputs are occluded by AHO.
        capture: names of modules whose outputs G reads (default: ``modules``).
        grid: ``(gw, gh)`` occlusion grid.
    """

    def __init__(self, estimator: nn.Module, modules: Sequence[str],
                 capture: Optional[Sequence[str]] = None, grid: Tuple[int, int] = (4, 4)):
        named = dict(estimator.named_modules())
        capture = list(modules if capture is None else capture)
        missing = [n for n in list(modules) + capture if n not in named]
        if missing:
            raise KeyError(f'bridge modules {missing} are not in {type(estimator).__name__} '
                           f'(see its named_modules())')
        if not capture:
            raise ValueError('no bridge module to capture for the augmentation network')
        self.masked, self.captured_names = list(modules), capture
        self.grid = tuple(grid)
        self._masks: Optional[torch.Tensor] = None
        self._store: Optional[Dict[str, torch.Tensor]] = None
        self._stop = False
        self.handles = []
        for name in dict.fromkeys(self.masked + capture):
            self.handles.append(named[name].register_forward_hook(self._hook_for(name)))

    def _hook_for(self, name: str):
        masked, captured = name in self.masked, name in self.captured_names

        def hook(module, inputs, output):
            if not isinstance(output, torch.Tensor) or output.dim() != 4:
                raise TypeError(f'bridge module {name} must output a [B, C, H, W] tensor, '
                                f'got {type(output).__name__}')
            if masked and self._masks is not None:
                h, w = output.shape[-2:]
                if h < self.grid[1] or w < self.grid[0]:
                    raise ValueError(f'bridge feature {name} is {h}x{w}, smaller than the '
                                     f'{self.grid[1]}x{self.grid[0]} occlusion grid')
                if self._masks.shape[0] != output.shape[0]:
                    raise ValueError(f'{self._masks.shape[0]} occlusion masks for a batch of '
                                     f'{output.shape[0]} at {name}')
                output = output * upsample_mask(self._masks, (h, w))[:, None].to(output.dtype)
            if captured and self._store is not None:
                self._store[name] = output.detach()
                if self._stop and len(self._store) == len(self.captured_names):
                    raise BridgeCaptured()
            return output
        return hook

    @contextmanager
    def masking(self, masks: Optional[torch.Tensor]):
        """Multiply ``[B, gh, gw]`` masks into every masked bridge feature inside the block."""
        previous, self._masks = self._masks, masks
        try:
            yield
        finally:
            self._masks = previous

    def capture(self, run, *, stop_early: bool = True) -> List[torch.Tensor]:
        """Run ``run()`` (a forward pass) and return the captured features (detached), in
        the order of ``captured_names``; with ``stop_early`` the pass ends as soon as all of
        them exist."""
        self._store, self._stop = {}, stop_early
        try:
            run()
        except BridgeCaptured:
            pass
        finally:
            store, self._store, self._stop = self._store, None, False
        missing = [n for n in self.captured_names if n not in store]
        if missing:
            raise RuntimeError(f'bridge modules {missing} did not run in the forward pass')
        return [store[n] for n in self.captured_names]

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()
        self.handles = []


__all__ = ['BridgeCaptured', 'BridgeFeatures', 'occlusion_mask', 'upsample_mask',
           'cells_from_order', 'auto_bridge_modules']
