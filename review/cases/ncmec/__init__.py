"""NCMEC CyberTipline: the report XML, the HTTP client, the submission service and a local
CyberTipline server for development and tests.

Modules: ``schema`` (the XSD and validation), ``report`` (a case as ``<report>`` and the
problems a moderator must fix), ``transcript`` (the transcript file and its
``<fileDetails>``), ``client`` (the HTTP API), ``services`` (submission, resumable and never
duplicated), ``localserver`` (a real HTTP server speaking the same API).
"""
