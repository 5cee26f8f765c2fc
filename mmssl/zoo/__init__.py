"""The model zoo as data: recipe cards computed from configs, metafiles, README tables."""
from .metafile import (RECIPE_FIELDS, MetafileError, ModelIndex, ZooModel, ZooResult,
                       compare, load_metafile, load_model_index)
from .recipe_card import RecipeCard, StageCard, check_schedule, recipe_card, source_names
from .zoo_table import render_tables, sync_readme

__all__ = [
    'RECIPE_FIELDS', 'MetafileError', 'ModelIndex', 'ZooModel', 'ZooResult', 'compare',
    'load_metafile', 'load_model_index', 'RecipeCard', 'StageCard', 'check_schedule',
    'recipe_card', 'source_names', 'render_tables', 'sync_readme'
]
