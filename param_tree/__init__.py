"""The VAPIX parameter tree: typed definitions, shared model trees, per-device overlays.

Knows nothing of HTTP or of devices; `axisim` builds on it.
"""

from .definitions import MASK, ParamDef, ParamType, Role, SecurityLevel
from .numbers import MAX_DIGITS, whole_number
from .patterns import GroupPattern, is_valid_pattern, parse_group_list, parse_pattern
from .text_io import (
    DEFAULT_STYLE,
    ListStyle,
    error_getting,
    error_setting,
    printable,
    render_ini,
    render_list,
    render_list_text,
)
from .tree import ModelTree, ParamStore, Template, UpdateError, infer_templates, sort_key, strip_root
from .xml_io import DefinitionsDocument, DefinitionsError, parse_definitions, parse_templates, render_definitions

__all__ = [
    "DEFAULT_STYLE",
    "MASK",
    "MAX_DIGITS",
    "DefinitionsDocument",
    "DefinitionsError",
    "GroupPattern",
    "ListStyle",
    "ModelTree",
    "ParamDef",
    "ParamStore",
    "ParamType",
    "Role",
    "SecurityLevel",
    "Template",
    "UpdateError",
    "error_getting",
    "error_setting",
    "infer_templates",
    "is_valid_pattern",
    "parse_definitions",
    "parse_group_list",
    "parse_pattern",
    "parse_templates",
    "printable",
    "render_definitions",
    "render_ini",
    "render_list",
    "render_list_text",
    "sort_key",
    "strip_root",
    "whole_number",
]
