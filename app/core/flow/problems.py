"""What is wrong with a page's answer, as a text the page shows beside the field."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.texts import Text

__all__ = ["Problem"]


@dataclass(frozen=True)
class Problem:
    """Something wrong with an answer. ``field`` names the input ("address", "incoming.port");
    ``blocking`` False is a warning shown without stopping the person."""

    field: str
    text: Text
    blocking: bool = True
