"""Signing in: Microsoft (MSAL) sign-in without Qt, and where sign-ins are kept.

- ``microsoft``: ``MicrosoftSignIn`` (start/finish of the auth code flow with PKCE, silent
  access tokens per resource, sign-out, saved accounts), the authority choice, and the errors
  (``SignInError``, ``SignInRequired``, ``SignInCancelled``) carrying knowledge-catalog findings.
- ``msal_http``: MSAL's ``http_client`` over the network seam.
- ``token_cache``: ``TokenCacheStore``, MSAL's cache encrypted by the operating system
  (msal-extensions, else the keyring in chunks, else memory only; never a plain file).
- ``brokers``: choosing between the embedded window, MSAL's broker and the system browser.

Import the names from the modules (``from app.core.auth.microsoft import MicrosoftSignIn``);
this package imports nothing itself, so loading one part does not load MSAL for another.
"""
