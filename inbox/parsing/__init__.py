"""Stored inbound items read into what filing works with: the step of ingestion that needs no
database, so that it can run in parser processes beside the filing.

Every channel kind stores raw what its platform brought (mail bytes, a chat frame, one event of
a webhook body, a polled direct message); its reader (``readers.READERS``, keyed by channel
kind) turns that into an arrival for the kind's filing (``inbox.actions.inbound.filing``). A
new kind adds its reader there and leaves the rest of the pipeline as it is. Nothing here
imports the models or the database: a parser process imports the readers alone.
"""
