"""Diagnostics: the knowledge catalog of known failures (``knowledge``), and redaction of
secrets from anything the program shows, writes or logs (``redact``)."""
