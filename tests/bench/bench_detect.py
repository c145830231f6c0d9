"""Detection benchmarks (``make bench``): figures, not pass/fail.

1. Catalog answers, offline: median and 95th percentile over many runs.
2. A custom domain whose ISP publishes autoconfig, every HTTP connection delayed 100 ms by the
   fault proxy.
3. The ISP's autoconfig host accepts connections and never answers while the ISPDB answers at
   once: Thunderbird waits for its 5-second HTTP timeout here; we should not.

Run with ``make bench``; the figures are printed at the end.
"""

from __future__ import annotations

import asyncio
import statistics
import time

from app.core.discovery.engine import DetectionOptions, DetectionResult, detect
from app.core.model import EmailAddress
from app.core.net import Network, NetworkOptions, parse_dns_server, parse_resolve
from tests.bench.conftest import FIGURES
from tests.world.ca import TestCA
from tests.world.dns import DNSServer
from tests.world.faultproxy import FaultProxy
from tests.world.scenarios_autoconfig import (
    ISPDB_HOST,
    isp_config,
    serve_isp_autoconfig,
    serve_ispdb,
    trust_host,
    world_ispdb_url,
)
from tests.world.web import WebServer

THUNDERBIRD_HTTP_TIMEOUT_S = 5.0  # FetchHTTP's default (../shared/research/thunderbird.md §2)

KNOWN = [
    "taro@icloud.com",
    "taro@gmail.com",
    "taro@outlook.jp",
    "taro@yahoo.co.jp",
    "taro@docomo.ne.jp",
    "taro@gmx.de",
    "taro@fastmail.com",
    "taro@biglobe.ne.jp",
    "taro@nifty.com",
    "taro@posteo.de",
]


def run_detect(address: str, options: NetworkOptions) -> DetectionResult:
    return asyncio.run(detect(EmailAddress.parse(address), Network(options)))


def bench_catalog_offline() -> None:
    options = NetworkOptions(offline=True, system_proxy=False)
    timings: list[float] = []
    for _ in range(30):
        for address in KNOWN:
            started = time.perf_counter()
            result = run_detect(address, options)
            timings.append((time.perf_counter() - started) * 1000)
            assert result.found, address
    timings.sort()
    p95 = timings[int(len(timings) * 0.95)]
    FIGURES.append(
        f"catalog, offline: median {statistics.median(timings):.2f} ms, p95 {p95:.2f} ms "
        f"({len(timings)} runs over {len(KNOWN)} providers)"
    )


def _world_options(
    dns: DNSServer, web: WebServer, ca: TestCA, resolve: list[str]
) -> NetworkOptions:
    return NetworkOptions(
        dns_server=parse_dns_server(dns.address),
        resolve=tuple(parse_resolve(r) for r in resolve),
        ca_bundles=(ca.cert_path,),
        ispdb_url=world_ispdb_url(web),
        system_proxy=False,
        timeout=10.0,
    )


def bench_custom_domain_with_100ms_latency(
    dns: DNSServer,
    web: WebServer,
    test_ca: TestCA,
    fault_proxy: object,
) -> None:
    domain = "latency-bench.test"
    host = f"autoconfig.{domain}"
    trust_host(web, test_ca, host, domain)
    serve_isp_autoconfig(web, domain, isp_config(domain))
    proxy: FaultProxy = fault_proxy("127.0.0.1", web.port, latency=0.1)  # type: ignore[operator]
    dns.add(domain, "MX", f"10 mx.{domain}.")
    resolve = [
        f"{host}:443:127.0.0.1:{proxy.port}",
        f"{domain}:443:127.0.0.1:{proxy.port}",
        f"{ISPDB_HOST}:443:127.0.0.1:{proxy.port}",
    ]
    options = _world_options(dns, web, test_ca, resolve)
    timings = []
    for _ in range(5):
        result = run_detect(f"taro@{domain}", options)
        assert result.best is not None and result.best.provenance.source == "autoconfig"
        timings.append(result.elapsed_ms)
    FIGURES.append(
        f"custom domain, ISP autoconfig over HTTPS, +100 ms per connection: "
        f"median {statistics.median(timings):.0f} ms (runs: {timings})"
    )


def bench_hanging_isp_while_ispdb_answers(
    dns: DNSServer,
    web: WebServer,
    test_ca: TestCA,
    fault_proxy: object,
) -> None:
    domain = "hanging-isp.test"
    host = f"autoconfig.{domain}"
    hang: FaultProxy = fault_proxy("127.0.0.1", web.port, accept_and_hang=True)  # type: ignore[operator]
    serve_ispdb(web, domain, isp_config(domain))
    resolve = [
        f"{host}:443:127.0.0.1:{hang.port}",
        f"{domain}:443:127.0.0.1:{hang.port}",
        f"{ISPDB_HOST}:443:127.0.0.1:{web.port}",
    ]
    options = _world_options(dns, web, test_ca, resolve)
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        result = asyncio.run(
            detect(
                EmailAddress.parse(f"taro@{domain}"),
                Network(options),
                options=DetectionOptions(),
            )
        )
        timings.append((time.perf_counter() - started) * 1000)
        assert result.best is not None and result.best.provenance.source == "ispdb"
        ispdb_ms = next(r.ms for r in result.sources if r.name == "ispdb")
    median = statistics.median(timings)
    FIGURES.append(
        f"ISP autoconfig host hangs, ISPDB answers at once: median {median:.0f} ms "
        f"(the ISPDB answer took {ispdb_ms} ms, then the 150 ms grace window) "
        f"(Thunderbird waits its {THUNDERBIRD_HTTP_TIMEOUT_S:.0f} s HTTP timeout: "
        f"{THUNDERBIRD_HTTP_TIMEOUT_S * 1000 / median:.0f}x slower)"
    )
