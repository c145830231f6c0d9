"""Verification: real IMAP, POP3, SMTP, CalDAV and CardDAV checks from the user's own machine.

``base`` holds what every check shares (secrets, credentials, the authentication gate, the
timeline, the result); one module per protocol; ``tlsreport`` the TLS details and interception
analysis; ``runner`` runs them concurrently under one deadline.
"""
