"""Reading forms the same way in every area: declared fields only, blank means unset, and
the status a page answers a refused form with."""

from __future__ import annotations

from typing import Annotated, Any

from litestar.enums import RequestEncodingType
from litestar.params import Body

from inbox.errors import DomainError

FormBody = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
# A form with repeated fields (check boxes, the tickets ticked in a list): those are lists.
MultiForm = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


def status_of(exc: DomainError) -> int:
    """The status a page answers a refused form with: the error's own, as the API answers."""
    return exc.status


def form_values(form: dict[str, Any], name: str) -> list[str]:
    """Every value a form sent for ``name``, trimmed, blanks left out."""
    value = form.get(name)
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [v.strip() for v in items if isinstance(v, str) and v.strip()]


def form_value(form: dict[str, Any], name: str) -> str:
    """The value of a field sent once (the last one if it came twice); blank if none."""
    found = form_values(form, name)
    return found[-1] if found else ""


def split_words(text: str) -> list[str]:
    """A list typed into one box (tags, dates), separated by commas or spaces."""
    return text.replace(",", " ").split()
