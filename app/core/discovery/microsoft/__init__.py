"""Discovery source ``"microsoft"``: Microsoft 365 (worldwide and national clouds), Outlook.com
and Exchange with hybrid modern authentication, found through Microsoft's public services.

Modules:

- ``source``: :class:`MicrosoftSource`, the source itself (what it asks, in which order, and
  what it sends to whom);
- ``tenant``: tenant discovery by domain (OpenID configuration: tenant id, cloud);
- ``realm``: the user realm (managed, federated and its sign-in host, personal account);
- ``hybrid``: the Autodiscover v2 chain, the rules for its redirects, the empty-Bearer probe;
- ``clouds``: the clouds as data (``resources/microsoft/clouds.toml``);
- ``results``: from the answers to candidates, provider and trust;
- ``findings``: the ``discovery.microsoft.*`` findings.

Parsing lives in the sans-I/O halves of ``tenant``, ``realm`` and ``hybrid`` and in
``app.core.discovery.autodiscover_parse``.
"""

from app.core.discovery.microsoft.source import DEFAULT_PROTOCOLS, MicrosoftSource

__all__ = ["DEFAULT_PROTOCOLS", "MicrosoftSource"]
