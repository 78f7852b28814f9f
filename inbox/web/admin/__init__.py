"""The admin area, ``/admin``: statuses, agents, the audit log, macros, follow-up settings,
SLA policies and business calendars, help-centre articles."""
