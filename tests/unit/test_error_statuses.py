"""A domain error answers with one status wherever it surfaces: the JSON API's error body and
a page that shows a refused form agree."""

from __future__ import annotations

import pytest
from litestar import Litestar, post
from litestar.testing import TestClient

from inbox.actions.signin.agents import TooManyAttempts
from inbox.actions.tickets import StaleReply
from inbox.app import domain_error_handler
from inbox.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied, Throttled
from inbox.web.forms import status_of


def _api_answer(error: DomainError) -> tuple[int, object]:
    @post("/api/v1/refused", sync_to_thread=False)
    def refused() -> None:
        raise error

    app = Litestar([refused], exception_handlers={DomainError: domain_error_handler})
    with TestClient(app) as client:
        response = client.post("/api/v1/refused")
    return response.status_code, response.json()


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (InvalidInput("priority must be one of low, normal, high"), 422),
        (NotFound("no such ticket"), 404),
        (PermissionDenied("managers only"), 403),
        (Conflict("already merged"), 409),
        (StaleReply([7]), 409),
        (Throttled("this account was unlocked too often in the last 24 hours"), 429),
        (TooManyAttempts(60), 429),
    ],
)
def test_the_api_and_a_form_page_answer_a_domain_error_with_the_same_status(
    error: DomainError, status: int
) -> None:
    answered, body = _api_answer(error)
    assert answered == status_of(error) == status
    assert body == {"error": error.code, "detail": str(error)}
