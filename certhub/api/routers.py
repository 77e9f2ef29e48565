"""The API's router: DRF's ``SimpleRouter``, every route with or without its trailing slash."""

from __future__ import annotations

from rest_framework.routers import SimpleRouter


class OptionalSlashRouter(SimpleRouter):
    """A ``SimpleRouter`` whose routes answer at ``.../name`` and ``.../name/`` alike.

    One pattern per route serves both forms, so neither redirects: a redirect
    would turn a POST into a GET. The schema documents the form without the
    slash (``certhub.api.schema.exclude_contract_aliases``).
    """

    def __init__(self) -> None:
        super().__init__()
        self.trailing_slash = "/?"
