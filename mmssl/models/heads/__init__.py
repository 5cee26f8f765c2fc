"""Heads (registered in ``mmpose.registry.MODELS`` on import)."""
from .stld_decoder_layer import PerQueryLinear, STLDDecoderLayer
from .stld_heatmap_head import STLDHeatmapHead
from .stld_transformer_head import STLDTransformerHead

__all__ = ['PerQueryLinear', 'STLDDecoderLayer', 'STLDHeatmapHead', 'STLDTransformerHead']
