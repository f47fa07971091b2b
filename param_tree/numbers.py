"""The one reader of whole numbers written by a client (query values, form fields, JSON strings).

`str.isdigit()` accepts `²` and other Unicode digits that `int()` refuses, and `int()`
refuses numbers of more than 4,300 digits: a check with one and a conversion with the
other turned odd input into crashes. Here a number is ASCII digits only, with a minus
sign only where the caller allows one, and at most `MAX_DIGITS` characters long, which no
VAPIX value needs to exceed; anything else is not a number (None), so every caller
answers it with its API's own "invalid value" error.
"""

from __future__ import annotations

import re

MAX_DIGITS = 20  # the digits of a signed 64-bit value, plus a little: leading zeros are allowed
_UNSIGNED = re.compile(rf"[0-9]{{1,{MAX_DIGITS}}}")
_SIGNED = re.compile(rf"-?[0-9]{{1,{MAX_DIGITS}}}")


def whole_number(value: object, *, signed: bool = False, low: int | None = None, high: int | None = None) -> int | None:
    """`value` as an int when it is one: a str of ASCII digits (a leading `-` if `signed`),
    or a JSON int (not a bool); and within `low`..`high` where given. None otherwise."""
    if isinstance(value, str):
        if not (_SIGNED if signed else _UNSIGNED).fullmatch(value):
            return None
        number = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
        if not signed and number < 0:
            return None
    else:
        return None
    if (low is not None and number < low) or (high is not None and number > high):
        return None
    return number
