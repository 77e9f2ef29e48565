"""A response for large answers: its data let go once rendered.

DRF keeps a request's view and its response referring to each other (``view.response``,
the renderer context's ``view``): a cycle that only the garbage collector frees, and by
then everything the response holds has reached the oldest generation. A large answer (an
eligibility batch: 500 dicts and 1,500 lists) waits there for the next full collection,
which then pauses some later request for as long as it takes to free twenty of them.
Once rendered, the body is one bytes object and the data is no longer needed: dropping
it frees the answer by reference counting, as the view returns. (The API's viewsets now
also cut the cycles when the response is closed, decision 0059; this frees the answer
earlier still, before the body is sent.)
"""

from __future__ import annotations

from rest_framework.response import Response


class ReleasingResponse(Response):
    """A DRF ``Response`` whose ``data`` is dropped (set to None) as soon as its body is rendered."""

    @property
    def rendered_content(self):
        content = super().rendered_content
        self.data = None
        return content
