"""Finding an account's settings from its email address.

``engine`` runs the sources concurrently under one deadline and ranks what they found; ``base``
says what a source is and what it reports. One module per source of settings:

- ``catalog``: the built-in provider catalog (``resources/providers``), offline;
- ``mx``: the domain's MX records matched against the catalog (hosted custom domains);
- ``srv``: RFC 6186 mail and RFC 6764 CalDAV/CardDAV service records;
- ``autoconfig``: the ISP's own clientConfig file over HTTPS (plain HTTP only as a flagged
  last resort);
- ``ispdb``: Thunderbird's ISP database, by domain and by keys derived from the MX host;
- ``microsoft``: Microsoft 365 tenant and realm discovery and the Exchange hybrid chain;
- ``guess``: last, real protocol probes (``probes``) of the usual host names.

And the sans-I/O parsers those sources share:

- ``clientconfig``: Thunderbird's clientConfig v1.1 format into typed settings and candidate
  :class:`~app.core.model.AccountConfig` values; also home of ``DiscoveryDocumentError``, the
  one error every discovery parser raises;
- ``autodiscover_parse``: Autodiscover v2 JSON, POX Autodiscover XML and the
  ``WWW-Authenticate`` challenges of the empty-Bearer probe;
- ``typos``: "did you mean ...?" for mistyped mail domains.
"""
