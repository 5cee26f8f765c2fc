"""PoseDual step cost vs the network passes it must perform, and its peak memory.

1. Time of one PoseDual training step (``PoseDual.train_step``: losses, one backward per
   term, optimizer step) divided by the summed time of the passes Algorithm 1 needs, each
   measured alone in the same run on the same tensors: 2 x labeled forward+backward,
   2 x teacher forward (no grad), 2 x student forward+backward. Target <= 1.10: the hard-view
   warps, Joint Cutout and bookkeeping are the overhead (for RTMPose also decoding the
   teachers' SimCC vectors and encoding the students' SimCC labels on the batch).
2. Peak memory of a PoseDual step vs a supervised step of one network at the same labeled
   batch (target <= 2.2x), for ``train_step`` (one term's graph alive at a time) and for the
   summed loss that mmengine's default DDP wrapper back-propagates: CUDA
   max_memory_allocated on GPU; on CPU the peak growth of the resident set size over the
   steps (sampled every 2 ms) in a fresh process per mode.

    python benchmarks/bench_pose_dual.py [--estimator heatmap|rtmpose] [--config CFG]
        [--batch 16] [--repeats 5]
"""
import argparse
import json
import os
import subprocess
import sys
import threading
import time

import torch
from mmengine.optim import OptimWrapper

#: the config of each ``--estimator`` (``--config`` overrides it)
CONFIGS = dict(
    heatmap='configs/posedual/coco/posedual-jc_res18_8xb8-70e_coco-1k-256x192.py',
    rtmpose='configs/posedual/rtmpose/posedual_rtmpose-t_8xb8-30e_coco-1k-256x192.py')


def build(config: str, device: str):
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    import mmssl  # noqa: F401
    from mmpose.registry import MODELS
    cfg = Config.fromfile(config)
    init_default_scope('mmpose')
    cfg.model.estimator.backbone.init_cfg = None
    model = MODELS.build(cfg.model).to(device)
    # the benchmark feeds normalised tensors: skip the image normalisation
    from mmengine.model import BaseDataPreprocessor
    model.data_preprocessor = BaseDataPreprocessor().to(device)
    model.init_weights()
    model.train()
    return model


def make_batch(model, batch: int, device: str):
    from mmengine.structures import InstanceData, PixelData
    from mmpose.structures import PoseDataSample
    codec = model.net1.head.decoder
    w, h = codec.input_size
    k = model.net1.head.out_channels
    samples = []
    for _ in range(batch):
        s = PoseDataSample()
        labels = InstanceData(keypoint_weights=torch.ones(1, k, device=device))
        if hasattr(codec, 'heatmap_size'):
            hw, hh = codec.heatmap_size
            s.gt_fields = PixelData(heatmaps=torch.rand(k, hh, hw, device=device) * 0.1)
        else:  # SimCC labels
            ratio = codec.simcc_split_ratio
            labels.keypoint_x_labels = torch.rand(1, k, int(w * ratio), device=device)
            labels.keypoint_y_labels = torch.rand(1, k, int(h * ratio), device=device)
        s.gt_instance_labels = labels
        s.gt_instances = InstanceData()
        samples.append(s)
    inputs = dict(sup=torch.randn(batch, 3, h, w, device=device),
                  unsup_teacher=torch.randn(batch, 3, h, w, device=device))
    return inputs, dict(sup=samples)


def sync(device):
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def timed(fn, device, repeats):
    fn()  # warm-up
    sync(device)
    best = float('inf')
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        sync(device)
        best = min(best, time.perf_counter() - t)
    return best


def time_ratio(config, batch, repeats, device):
    model = build(config, device)
    inputs, samples = make_batch(model, batch, device)
    optim = OptimWrapper(torch.optim.Adam(model.parameters(), lr=1e-4))
    images_u = inputs['unsup_teacher']

    def full_step():
        model.train_step(dict(inputs=inputs, data_samples=samples), optim)

    def labeled(net):
        def run():
            sum(v for k, v in net.loss(inputs['sup'], samples['sup']).items()
                if 'loss' in k).backward()
        return run

    def teacher(i, net):
        def run():
            with torch.no_grad():
                model._head_output(i, net, images_u)
        return run

    def student(i, net):
        def run():
            out = model._head_output(i, net, images_u)
            outs = [out] if isinstance(out, torch.Tensor) else list(out)
            sum(o.square().mean() for o in outs).backward()
        return run

    step = timed(full_step, device, repeats)
    parts = {}
    for i, (name, net) in enumerate(zip(model.net_names, model.nets)):
        parts[f'{name} labeled fwd+bwd'] = timed(labeled(net), device, repeats)
        parts[f'{name} teacher fwd'] = timed(teacher(i, net), device, repeats)
        parts[f'{name} student fwd+bwd'] = timed(student(i, net), device, repeats)
    return step, parts


def _rss() -> int:
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')


class _RssPeak(threading.Thread):
    """Samples the resident set size until stopped; ``peak`` is the largest sample."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak, self.running = _rss(), True

    def run(self):
        while self.running:
            self.peak = max(self.peak, _rss())
            time.sleep(0.002)


def peak_memory(config, batch, mode, device):
    """Run in a fresh process: peak memory growth of `repeats` steps of one mode."""
    model = build(config, device)
    inputs, samples = make_batch(model, batch, device)
    optim = OptimWrapper(torch.optim.Adam(model.parameters(), lr=1e-4))
    if device.startswith('cuda'):
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    else:
        base, sampler = _rss(), _RssPeak()
        sampler.start()
    for _ in range(2):
        if mode == 'dual':
            model.train_step(dict(inputs=inputs, data_samples=samples), optim)
            continue
        if mode == 'dual-summed':
            losses = model.loss(inputs, samples)
        else:
            losses = model.net1.loss(inputs['sup'], samples['sup'])
        optim.update_params(sum(v for k, v in losses.items() if 'loss' in k))
    if device.startswith('cuda'):
        peak = torch.cuda.max_memory_allocated()
    else:
        sampler.running = False
        sampler.join()
        peak = sampler.peak
    return peak - base


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--estimator', choices=sorted(CONFIGS), default='heatmap',
                        help='heatmap: ResNet-18 SimpleBaseline; rtmpose: RTMPose-t (SimCC)')
    parser.add_argument('--config', help='a PoseDual config (default: the --estimator one)')
    parser.add_argument('--batch', type=int, default=16, help='labeled = unlabeled batch')
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--memory-mode', choices=['dual', 'dual-summed', 'supervised'], help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.config = args.config or CONFIGS[args.estimator]
    if args.memory_mode:
        print(json.dumps(peak_memory(args.config, args.batch, args.memory_mode, args.device)))
        return
    step, parts = time_ratio(args.config, args.batch, args.repeats, args.device)
    print(f'config: {args.config}\ndevice: {args.device}, batch {args.batch} labeled + '
          f'{args.batch} unlabeled, best of {args.repeats}')
    for name, t in parts.items():
        print(f'  {name:28s} {t * 1000:8.1f} ms')
    total = sum(parts.values())
    print(f'  {"sum of passes":28s} {total * 1000:8.1f} ms')
    print(f'  {"PoseDual step":28s} {step * 1000:8.1f} ms')
    print(f'step / sum of passes: {step / total:.3f} (target <= 1.10)')
    mem = {}
    for mode in ('dual', 'dual-summed', 'supervised'):
        out = subprocess.run([sys.executable, __file__, '--config', args.config, '--batch',
                              str(args.batch), '--device', args.device, '--memory-mode', mode],
                             capture_output=True, text=True, check=True,
                             env=dict(os.environ, PYTHONWARNINGS='ignore'))
        mem[mode] = json.loads(out.stdout.strip().splitlines()[-1])
    sup = mem['supervised']
    print(f'peak memory: supervised step of one network {sup / 2**20:.0f} MiB')
    print(f'  PoseDual train_step (backward per term) {mem["dual"] / 2**20:.0f} MiB, ratio '
          f'{mem["dual"] / sup:.2f} (target <= 2.2)')
    print(f'  PoseDual summed loss (default DDP wrapper) {mem["dual-summed"] / 2**20:.0f} MiB, '
          f'ratio {mem["dual-summed"] / sup:.2f}')


if __name__ == '__main__':
    main()
