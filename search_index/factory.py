"""The search backend named by ``search.backend`` (``TALENTMATCH_SEARCH__BACKEND``): the one
place that knows which engines exist, so the runtime and the CLI never name one."""

from __future__ import annotations

from core.domain import EntityKind
from core.settings import Settings
from search_index.embedded import EmbeddedIndex
from search_index.protocol import SearchIndex

BACKENDS = ("embedded", "elasticsearch")


def create_search_index(
    kind: EntityKind, settings: Settings, *, dim: int, model_id: str
) -> SearchIndex:
    """The index of one entity kind on the configured backend; an unknown backend, or
    Elasticsearch without a URL, stops the start with the setting's name. Nothing here
    contacts a cluster: the API starts while it is down."""
    backend = settings.search.backend
    if backend == "embedded":
        return EmbeddedIndex(
            settings.index_dir / f"{kind.value}s", dim=dim, model_id=model_id,
            settings=settings.search,
        )  # fmt: skip
    if backend == "elasticsearch":
        # Imported here: the embedded default never loads the cluster client.
        from search_index.elasticsearch import ElasticsearchIndex

        return ElasticsearchIndex(kind.value, dim=dim, model_id=model_id, settings=settings.search)
    raise ValueError(
        f"unknown search backend {backend!r} in search.backend (TALENTMATCH_SEARCH__BACKEND); "
        f"known: {', '.join(BACKENDS)}"
    )
