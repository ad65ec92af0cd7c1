"""The encoder interface, low enough for every layer that embeds text (the occupation
coder in ``taxonomy`` as well as indexing and matching) to accept one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np


class Encoder(Protocol):
    """Turns texts into L2-normalized float32 vectors of a fixed dimension."""

    model_id: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """An array of shape (len(texts), dim), each row of unit length."""
        ...
