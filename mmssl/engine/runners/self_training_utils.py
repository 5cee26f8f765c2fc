"""Small helpers of the self-training runner (distributed set-up, hashing, checkpoints)."""
import hashlib
import json
import os
import os.path as osp
import shutil
from typing import Dict, List, Sequence

from mmengine.config import Config
from mmengine.dist import is_distributed

from .self_training_plan import Stage, final_train_stage


def init_distributed(cfg: Config) -> None:
    """Initialise the process group for ``cfg.launcher`` unless done (gloo on CPU).

    On CPU the project's helper also makes DDP wrap the model without ``device_ids``.
    """
    launcher = cfg.get('launcher', 'none')
    if launcher == 'none':
        return
    from mmssl.engine.distributed import prepare_cpu_distributed
    prepare_cpu_distributed(cfg, launcher)  # no-op with CUDA
    if not is_distributed():
        from mmengine.dist import init_dist
        init_dist(launcher, **(cfg.get('env_cfg') or {}).get('dist_cfg', {}))


def config_digest(cfg: Config, ignore_settings: Sequence[str] = ()) -> str:
    """A hash of what a job trains (not where or how it is launched), leaving out the
    ``self_training`` settings named in ``ignore_settings``."""
    data = {k: v for k, v in cfg.to_dict().items()
            if k not in ('work_dir', 'launcher', 'resume', 'load_from', 'model_wrapper_cfg')}
    if ignore_settings and isinstance(data.get('self_training'), dict):
        data['self_training'] = {k: v for k, v in data['self_training'].items()
                                 if k not in ignore_settings}
    return hashlib.sha1(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def copy_final_model(work_dir: str, records: Dict[str, dict], stages: List[Stage]) -> str:
    """Copy the job's final weights to ``<work_dir>/final_model.pth`` (a convenience)."""
    src = records[final_train_stage(stages).name]['weights']
    dst = osp.join(work_dir, 'final_model.pth')
    shutil.copyfile(src, dst + '.tmp')
    os.replace(dst + '.tmp', dst)
    return dst
