"""Finding an account's settings from its email address.

One module per source of settings, plus the sans-I/O parsers those sources share:

- ``clientconfig``: Thunderbird's clientConfig v1.1 format (ISP autoconfig files, ISPDB
  answers) into typed settings and candidate :class:`~app.core.model.AccountConfig` values;
  also home of :class:`~app.core.discovery.clientconfig.DiscoveryDocumentError`, the one error
  every discovery parser raises;
- ``autodiscover_parse``: Microsoft's Autodiscover v2 JSON, POX Autodiscover XML and the
  ``WWW-Authenticate`` challenges of the empty-Bearer probe;
- ``typos``: "did you mean ...?" for mistyped mail domains.

The parsers do no I/O: they take bytes or text and return frozen dataclasses.
"""
