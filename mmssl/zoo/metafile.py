"""The model zoo as data: OpenMMLab model-index files (``model-index.yml`` importing one
``configs/<method>/metafile.yml`` per method).

Each model row names its ``Config``, the paper's ``Metadata`` (training data, techniques,
epochs/iterations, batch, GPUs of the paper's run) with mmssl's ``Recipe`` (the facts the
recipe card is checked against), ``Shipped`` (how the config is meant to be launched) and
``Deviations`` (recipe fields the config does not follow, each with why), and ``Results``
whose ``Source`` says whether a value is the paper's or measured here.
"""
import math
import os.path as osp
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

import yaml

#: recipe fields a card is compared on
RECIPE_FIELDS = ('optimizer_steps', 'batch', 'lr', 'input_size', 'flip_test')
#: recipe fields compared where a recipe states them (``switches``: a self-training job's
#: paper-vs-release switches, e.g. STLD's last-round output)
OPTIONAL_RECIPE_FIELDS = ('switches',)
#: fields a ``Deviations`` entry may name
DEVIATION_FIELDS = RECIPE_FIELDS + OPTIONAL_RECIPE_FIELDS
STEP_TOLERANCE = 0.02  # epochs end on whole batches: steps may differ by rounding


@dataclass
class ZooResult:
    task: str
    dataset: str
    metric: str
    value: Optional[float]
    metric_key: str
    source: str  # 'paper' or 'ours'
    note: str = ''


@dataclass
class ZooModel:
    name: str
    collection: str
    config: str
    metafile: str
    metadata: Dict[str, Any]
    recipe: Dict[str, Any]
    shipped: Dict[str, Any]
    deviations: Dict[str, str]
    results: List[ZooResult] = field(default_factory=list)


class MetafileError(ValueError):
    """A metafile that cannot be read as the zoo's schema (message names file and entry)."""


def _need(entry: dict, key: str, where: str):
    if key not in entry:
        raise MetafileError(f'{where}: missing "{key}"')
    return entry[key]


def _result(raw: dict, where: str) -> List[ZooResult]:
    metrics = _need(raw, 'Metrics', where)
    keys = _need(raw, 'Metric Keys', where)
    source = _need(raw, 'Source', where)
    if source not in ('paper', 'ours'):
        raise MetafileError(f'{where}: Source must be "paper" or "ours", got {source!r}')
    if set(keys) != set(metrics):
        raise MetafileError(f'{where}: "Metric Keys" {sorted(keys)} must name the evaluator '
                            f'key of every metric in "Metrics" {sorted(metrics)}')
    return [ZooResult(_need(raw, 'Task', where), _need(raw, 'Dataset', where), m,
                      None if v is None else float(v), keys[m], source, raw.get('Note', ''))
            for m, v in metrics.items()]


def load_metafile(path: str) -> Tuple[List[dict], List[ZooModel]]:
    """Collections and models of one metafile; relative ``Config`` paths are repo-relative."""
    try:
        with open(path) as f:
            data = yaml.safe_load(f) or {}
    except (OSError, yaml.YAMLError) as err:
        raise MetafileError(f'{path}: cannot be read as YAML: {err}') from err
    collections = data.get('Collections') or []
    names = {c.get('Name') for c in collections}
    models = []
    for i, raw in enumerate(data.get('Models') or []):
        where = f'{path}: Models[{i}] ({raw.get("Name", "?")})'
        meta = dict(_need(raw, 'Metadata', where))
        collection = _need(raw, 'In Collection', where)
        if collection not in names:
            raise MetafileError(f'{where}: "In Collection" {collection!r} is not one of the '
                                f'file\'s Collections {sorted(names)}')
        recipe = dict(_need(meta, 'Recipe', where))
        for key in RECIPE_FIELDS:
            _need(recipe, key, f'{where} Metadata.Recipe')
        deviations = {}
        for dev in meta.get('Deviations') or []:
            if not dev.get('field') in DEVIATION_FIELDS or not str(dev.get('why', '')).strip():
                raise MetafileError(f'{where}: each Deviation needs a field in '
                                    f'{DEVIATION_FIELDS} and a non-empty "why", got {dev}')
            deviations[dev['field']] = dev['why']
        results = []
        for j, res in enumerate(raw.get('Results') or []):
            results += _result(res, f'{where} Results[{j}]')
        models.append(ZooModel(_need(raw, 'Name', where), collection,
                               _need(raw, 'Config', where), path, meta, recipe,
                               dict(meta.get('Shipped') or {}), deviations, results))
    return collections, models


class ModelIndex:
    """Every metafile that ``model-index.yml`` imports."""

    def __init__(self, root: str) -> None:
        index = osp.join(str(root), 'model-index.yml')
        if not osp.isfile(index):
            raise MetafileError(f'{index}: not found')
        with open(index) as f:
            imports = (yaml.safe_load(f) or {}).get('Import') or []
        self.root = str(root)
        self.collections: List[dict] = []
        self.models: List[ZooModel] = []
        self.metafiles = [osp.join(self.root, p) for p in imports]
        for path in self.metafiles:
            collections, models = load_metafile(path)
            self.collections += collections
            self.models += models

    def models_of(self, config: str) -> List[ZooModel]:
        """The rows whose ``Config`` is ``config`` (repo-relative path)."""
        return [m for m in self.models if osp.normpath(m.config) == osp.normpath(config)]


def load_model_index(root) -> ModelIndex:
    return ModelIndex(str(root))


def card_facts(card) -> Dict[str, Any]:
    """The recipe fields of a :class:`~mmssl.zoo.recipe_card.RecipeCard`."""
    stage = card.stages[-1]
    lr = next(iter(stage.lr.values())) if stage.lr else None
    per_step = tuple(stage.gpus * b for b in stage.batch_per_gpu)
    return dict(optimizer_steps=card.optimizer_steps, batch=list(per_step), lr=lr,
                input_size=list(card.input_size) if card.input_size else None,
                flip_test=card.flip_test, switches=card.switches)


def recipe_facts(recipe: Dict[str, Any]) -> Dict[str, Any]:
    """The recipe fields of a metafile ``Recipe`` (``batch`` is per device there)."""
    gpus = int(recipe.get('gpus', 1))
    return dict(optimizer_steps=recipe['optimizer_steps'],
                batch=[gpus * int(b) for b in recipe['batch']], lr=recipe['lr'],
                input_size=recipe['input_size'], flip_test=recipe['flip_test'],
                switches=recipe.get('switches'))


def differs(key: str, ours, theirs) -> bool:
    if ours is None or theirs is None:
        return ours is not theirs
    if key == 'optimizer_steps':
        return abs(ours - theirs) > STEP_TOLERANCE * max(abs(theirs), 1)
    if key == 'lr':
        return not math.isclose(float(ours), float(theirs), rel_tol=1e-6)
    if key in ('batch', 'input_size'):
        return [int(v) for v in ours] != [int(v) for v in theirs]
    return ours != theirs


def compare(card, model: ZooModel) -> Dict[str, Tuple[Any, Any]]:
    """Recipe fields where the config's card differs from the metafile's recipe:
    ``{field: (card value, recipe value)}``. A recipe whose dataset sizes are not known
    (``optimizer_steps: null``) is compared on ``epochs`` instead, when it states them;
    ``switches`` only where the recipe states them."""
    ours, theirs = card_facts(card), recipe_facts(model.recipe)
    if theirs['optimizer_steps'] is None:
        epochs = model.recipe.get('epochs')
        ours['optimizer_steps'] = None if epochs is None else card.stages[-1].epochs
        theirs['optimizer_steps'] = epochs
    stated = [k for k in OPTIONAL_RECIPE_FIELDS if theirs[k] is not None]
    return {k: (ours[k], theirs[k]) for k in RECIPE_FIELDS + tuple(stated)
            if differs(k, ours[k], theirs[k])}
