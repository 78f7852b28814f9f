"""The JSON API under ``/api/v1``, for bearer tokens: tickets, quarantine, calls, merges and
splits, reports; the desk's configuration (teams, agents, SLA policies and calendars).

Offered to the other areas: the deep health check's answer (``/healthz?deep=1``)."""

from inbox.web.api.serializers import desk_health_shape as desk_health_shape
from inbox.web.api.shapes import DeskHealth as DeskHealth
