"""Cost of a joint adversarial training step (seed 001) vs a plain training step.

All on the same batch of real-looking samples (targets from mmpose's codec), timed
interleaved in one run (median of ``--repeats``):

* plain: the bare mmpose estimator, ``train_step`` with one OptimWrapper (loss, backward,
  optimizer step) on the standard crops;
* random: ``AdversarialPoseEstimator(stage='pose')``: random scale/rotation on the batch;
* joint: ``stage='joint'`` with the config's split (Alg. 1 + 2), both optimizers;
* floor: the passes the algorithm needs, timed alone: one forward+backward+step of D over
  the ``B + n_ASR + n_AHO`` rows it must evaluate (random share, adversarial images and their
  references), the no-gradient capture pass of the adversarial images (stopped at the last
  bridge feature) and G's forward+backward+step on those features.

The printed ratios are step time / plain step time; "joint / floor" is the overhead of the
warps, target re-encoding, masks, sampling and bookkeeping.

    python benchmarks/bench_adversarial.py [--config CFG] [--batch 24] [--input 128]
"""
import argparse
import statistics
import time

import numpy as np
import torch

DEFAULT_CFG = ('configs/adversarial_aug/synthetic/'
               'adv-aug_res18-w16_stage3-asr-aho_synthetic-body-64x64.py')


def build(cfg_path: str, stage: str, input_size, device: str):
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    import mmssl  # noqa: F401
    from mmpose.registry import MODELS
    cfg = Config.fromfile(cfg_path)
    init_default_scope('mmpose')
    model_cfg = cfg.model
    if input_size:
        codec = model_cfg.estimator.head.decoder
        stride = codec['input_size'][0] // codec['heatmap_size'][0]
        codec['input_size'] = (input_size, input_size)
        codec['heatmap_size'] = (input_size // stride, input_size // stride)
    model_cfg.stage = stage
    torch.manual_seed(0)
    model = MODELS.build(model_cfg).to(device)
    model.init_weights()
    return model.train()


def make_batch(model, batch: int, device: str, seed: int = 0):
    from mmengine.structures import InstanceData, PixelData
    from mmpose.codecs import MSRAHeatmap
    from mmpose.structures import PoseDataSample
    head = model.pose.head
    codec = head.decoder
    (w, h) = codec.input_size
    enc = MSRAHeatmap(codec.input_size, codec.heatmap_size, codec.sigma)
    rng = np.random.RandomState(seed)
    samples = []
    for _ in range(batch):
        kp = (rng.uniform(0.15, 0.85, (1, head.out_channels, 2)) * [w, h]).astype(np.float32)
        e = enc.encode(kp, np.ones(kp.shape[:2], np.float32))
        s = PoseDataSample()
        s.gt_instances = InstanceData(transformed_keypoints=kp)
        s.gt_fields = PixelData(heatmaps=torch.from_numpy(e['heatmaps']).to(device))
        s.gt_instance_labels = InstanceData(
            keypoint_weights=torch.from_numpy(e['keypoint_weights']).to(device))
        samples.append(s)
    images = torch.from_numpy(rng.randn(batch, 3, h, w).astype(np.float32)).to(device)
    return images, samples


def optim(module):
    from mmengine.optim import OptimWrapper
    return OptimWrapper(torch.optim.RMSprop(module.parameters(), lr=2.5e-4))


def timed(fn, device: str) -> float:
    if device == 'cuda':
        torch.cuda.synchronize()
    t = time.perf_counter()
    fn()
    if device == 'cuda':
        torch.cuda.synchronize()
    return time.perf_counter() - t


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config', default=DEFAULT_CFG)
    parser.add_argument('--batch', type=int, default=24)
    parser.add_argument('--input', type=int, default=0, help='square input size override')
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    args = parser.parse_args()
    from mmssl.models.augmenters import JointOptimWrapperDict

    joint = build(args.config, 'joint', args.input, args.device)
    rand = build(args.config, 'pose', args.input, args.device)
    plain = rand.pose  # the bare mmpose estimator (same architecture)
    images, samples = make_batch(joint, args.batch, args.device)
    ow_plain, ow_rand = optim(plain), optim(rand.pose)
    ow_joint = JointOptimWrapperDict(pose=optim(joint.pose),
                                     augmenter=optim(joint.augmenter))
    n_rand, n_asr, n_aho = joint.shares(args.batch)
    rows = args.batch + n_asr + n_aho
    floor_images, floor_samples = make_batch(joint, rows, args.device, seed=1)
    ow_floor, ow_g = optim(plain), optim(joint.augmenter)
    adv = images[n_rand:]

    def step_plain():
        loss = plain.head.loss(plain.extract_feat(images), samples)['loss_kpt']
        ow_plain.update_params(loss)

    def step_rand():
        losses = rand.loss(images, samples)
        ow_rand.update_params(sum(v for k, v in losses.items() if 'loss' in k))

    def step_joint():
        losses = joint.loss(images, samples)
        ow_joint.update_params(sum(v for k, v in losses.items() if 'loss' in k))

    def step_floor():
        loss = plain.head.loss(plain.extract_feat(floor_images), floor_samples)['loss_kpt']
        ow_floor.update_params(loss)
        logits = joint.augmenter(joint.capture_bridge(adv))
        ow_g.update_params(sum(v.logsumexp(-1).mean() for v in logits.values()))

    steps = dict(plain=step_plain, random=step_rand, joint=step_joint, floor=step_floor)
    times = {k: [] for k in steps}
    for fn in steps.values():  # warm-up
        fn()
    for _ in range(args.repeats):
        for name, fn in steps.items():  # interleaved: load changes hit every mode alike
            times[name].append(timed(fn, args.device))
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f'config: {args.config}')
    print(f'device: {args.device}, batch {args.batch} (random/ASR/AHO = {n_rand}/{n_asr}/'
          f'{n_aho}), input {tuple(joint.codec["input_size"])}, repeats {args.repeats}, '
          f'threads {torch.get_num_threads()}')
    for name in steps:
        print(f'{name:>7}: {med[name] * 1000:8.1f} ms/step   x{med[name] / med["plain"]:.2f} '
              'of plain')
    print(f'joint / floor: {med["joint"] / med["floor"]:.2f} (the floor: D over {rows} rows '
          f'+ capture and G on {n_asr + n_aho})')


if __name__ == '__main__':
    main()
