"""The JSON API under ``/api/v1``, for bearer tokens: tickets, quarantine, calls, merges and
splits, reports."""
