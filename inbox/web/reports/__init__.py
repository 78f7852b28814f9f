"""The reports area, ``/reports``. What the report API (``inbox.web.api.reports``) shares
with the pages is offered here: who may read reports, the range and grouping parsed once,
and the rows as a download."""

from inbox.web.reports.export import csv_response, row_json
from inbox.web.reports.parameters import REPORT_PARAMETERS, managers_only, range_params

__all__ = ["REPORT_PARAMETERS", "csv_response", "managers_only", "range_params", "row_json"]
