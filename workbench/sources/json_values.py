"""How decoded JSON values and decoding errors are named in importers' messages (SDN JSON, FtM lines)."""

from __future__ import annotations

import json


def json_type_name(value) -> str:
    """What a decoded JSON value is, in JSON's words, for messages ('a string', 'null', 'an object')."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def json_error_detail(exc: json.JSONDecodeError, line: bool = True) -> str:
    """The decoder's message with where it stopped ('Unterminated string starting at line 3, column 12');
    ``exc.msg`` alone ends in a dangling 'at'."""
    message = exc.msg if exc.msg.endswith(" at") else f"{exc.msg} at"
    return f"{message} line {exc.lineno}, column {exc.colno}" if line else f"{message} column {exc.colno}"
