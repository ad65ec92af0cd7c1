"""The search backend is the one ``search.backend`` names; an unknown one stops the start."""

from __future__ import annotations

import pytest

from api.runtime import Runtime
from core.encoder import Encoder
from core.settings import Settings


def test_an_unknown_search_backend_stops_the_start_naming_the_setting(
    settings: Settings, use_encoder: Encoder
) -> None:
    # Settings refuse such a value when parsed; a copy skips that check, as a settings object
    # built in code could, and the runtime must still not fall back to another engine.
    unknown = settings.model_copy(
        update={"search": settings.search.model_copy(update={"backend": "opensearch"})}
    )
    with pytest.raises(ValueError, match=r"TALENTMATCH_SEARCH__BACKEND") as refused:
        Runtime(unknown, encoder=use_encoder)
    assert "'opensearch'" in str(refused.value)
    assert not (settings.index_dir / "jobs").exists()  # nothing was built on another engine
