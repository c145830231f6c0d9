"""Fuzz the discovery parsers for a while: ``python -m tests.fuzz.fuzz_parsers --seconds 300``.

Each target feeds bytes to one parser (clientConfig XML as bytes and as text, Autodiscover
JSON, POX Autodiscover XML, WWW-Authenticate headers, the typo suggester) and checks that it
raises nothing but DiscoveryDocumentError, that what it returns holds together (candidates can
be built and rendered in both languages) and that no single input takes longer than
SLOW_SECONDS.

Engines (``--engine``):

- ``atheris`` (coverage-guided libFuzzer, used by ``auto`` when the ``atheris`` package is
  installed): the corpus starts from the golden samples of the unit tests and grows in
  ``<crash-dir>/corpus``; a failing input is written to ``<crash-dir>/crash-*``.
- ``hypothesis``: rounds of Hypothesis runs with random bytes, mutated samples and the
  structured strategies of tests/unit/test_discovery_properties.py; the smallest failing
  input is written to ``<crash-dir>/hypothesis-<target>.bin``.

Exit status 0 when nothing was found, 1 when something was (the traceback is printed).
The parsers are imported lazily so that atheris can instrument them.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import importlib.util
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

SLOW_SECONDS = 2.0
DEFAULT_CRASH_DIR = Path("tests/artifacts/fuzz")
TARGET_NAMES = (
    "clientconfig",
    "clientconfig-text",
    "autodiscover-json",
    "autodiscover-xml",
    "www-authenticate",
    "typos",
)

Target = Callable[[bytes], None]


class FuzzFailure(AssertionError):
    """An input broke a parser's promise."""


# --- targets ----------------------------------------------------------------------------------


def make_targets() -> dict[str, Target]:
    """The fuzz targets by name. Imports the parsers (call it inside atheris' instrumentation)."""
    from app.core.discovery import autodiscover_parse, clientconfig, typos
    from app.core.model import EmailAddress, Provenance, Trust
    from app.core.texts import TextWarning

    address = EmailAddress.parse("taro@example.test")
    provenance = Provenance("autoconfig", Trust.HIGH, True)
    suggester = typos.default_suggester()

    def document_errors_only(run: Callable[[], object]) -> object:
        with warnings.catch_warnings():
            warnings.simplefilter("error", TextWarning)
            try:
                return run()
            except clientconfig.DiscoveryDocumentError as error:
                # The error must render in both languages and become a Finding.
                error.render("en")
                error.render("ja")
                error.to_finding()
                return None

    def candidates(parsed: clientconfig.ClientConfig) -> None:
        try:
            configs = clientconfig.to_account_configs(parsed, address, provenance)
        except clientconfig.DiscoveryDocumentError as error:
            if error.code != "discovery.config.exchange-only":
                raise FuzzFailure(f"unexpected error {error.code}") from error
            return
        if len(configs) != len(parsed.mail_servers):
            raise FuzzFailure("not one candidate per IMAP/POP3 server")
        for config in configs:
            config.to_dict("en")
            config.to_dict("ja")

    def clientconfig_bytes(data: bytes) -> None:
        parsed = document_errors_only(lambda: clientconfig.parse_clientconfig(data, address))
        if isinstance(parsed, clientconfig.ClientConfig):
            document_errors_only(lambda: candidates(parsed))

    def clientconfig_text(data: bytes) -> None:
        text = data.decode("utf-8", "replace")
        parsed = document_errors_only(lambda: clientconfig.parse_clientconfig(text, address))
        if isinstance(parsed, clientconfig.ClientConfig):
            document_errors_only(lambda: candidates(parsed))

    def autodiscover_json(data: bytes) -> None:
        document_errors_only(lambda: autodiscover_parse.parse_autodiscover_v2(data))

    def autodiscover_xml(data: bytes) -> None:
        answer = document_errors_only(lambda: autodiscover_parse.parse_pox_autodiscover(data))
        if isinstance(answer, autodiscover_parse.PoxSettings):
            answer.endpoints()
            _ = answer.ews_url

    def www_authenticate(data: bytes) -> None:
        header = data.decode("latin-1")
        document_errors_only(lambda: autodiscover_parse.parse_bearer_challenge(header))

    def domain_typos(data: bytes) -> None:
        domain = data.decode("utf-8", "replace")
        suggestion = suggester.suggest_domain(domain)
        if suggestion is not None and (suggestion not in suggester or suggestion == domain):
            raise FuzzFailure(f"suggested {suggestion!r} for {domain!r}")

    return {
        "clientconfig": clientconfig_bytes,
        "clientconfig-text": clientconfig_text,
        "autodiscover-json": autodiscover_json,
        "autodiscover-xml": autodiscover_xml,
        "www-authenticate": www_authenticate,
        "typos": domain_typos,
    }


def timed(name: str, target: Target) -> Target:
    """``target`` failing on inputs slower than SLOW_SECONDS (quadratic blow-ups)."""

    def run(data: bytes) -> None:
        started = time.perf_counter()
        target(data)
        elapsed = time.perf_counter() - started
        if elapsed > SLOW_SECONDS:
            raise FuzzFailure(f"{name}: one input of {len(data)} bytes took {elapsed:.1f} s")

    return run


def seeds() -> dict[str, list[bytes]]:
    """Starting inputs per target: the golden samples of the unit tests."""
    unit_config = importlib.import_module("tests.unit.test_clientconfig")
    unit_ad = importlib.import_module("tests.unit.test_autodiscover_parse")

    def as_bytes(value: bytes | str) -> bytes:
        return value if isinstance(value, bytes) else value.encode("utf-8")

    configs = [
        as_bytes(getattr(unit_config, name))
        for name in (
            "ISP_FULL",
            "OAUTH_MICROSOFT",
            "WITH_DAV",
            "POP_ONLY_JP",
            "WITH_ENABLE",
            "PLACEHOLDERS",
            "BILLION_LAUGHS",
        )
    ]
    pox = [
        as_bytes(getattr(unit_ad, name))
        for name in ("POX_SETTINGS", "POX_REDIRECT_ADDRESS", "POX_REDIRECT_URL", "POX_ERROR")
    ]
    json_answers = [
        b'{"Protocol":"AutodiscoverV1","Url":"https://outlook.office365.com/autodiscover/'
        b'autodiscover.xml"}',
        b'{"ErrorCode":"InvalidProtocol","ErrorMessage":"The given protocol value is invalid"}',
    ]
    headers = [
        unit_ad.EMPTY_BEARER_ANSWER.encode("latin-1"),
        b'Basic realm="a, b", Negotiate YIIBhwYGKwYBBQUCoIIBezCCAXeg==, NTLM',
        b'Bearer realm="say \\"hi\\"", error="invalid_token"',
    ]
    domains = [b"gmial.com", b"docomo.ne.com", b"abc.ocn.ne.jp", b"yaho.co.jp"]
    return {
        "clientconfig": configs,
        "clientconfig-text": configs,
        "autodiscover-json": json_answers,
        "autodiscover-xml": pox,
        "www-authenticate": headers,
        "typos": domains,
    }


# --- atheris ----------------------------------------------------------------------------------


def run_atheris(names: Sequence[str], seconds: float, crash_dir: Path) -> int:
    import atheris  # type: ignore[import-not-found]

    with atheris.instrument_imports(include=["app"]):
        targets = make_targets()
    chosen = [(name, timed(name, targets[name])) for name in names]
    corpus = crash_dir / "corpus" / ("all" if len(chosen) > 1 else chosen[0][0])
    corpus.mkdir(parents=True, exist_ok=True)
    starting = seeds()
    for index, (name, _target) in enumerate(chosen):
        for sample in starting[name]:
            data = (bytes([index]) if len(chosen) > 1 else b"") + sample
            (corpus / f"seed-{hashlib.sha1(data).hexdigest()}").write_bytes(data)

    def one_input(data: bytes) -> None:
        if len(chosen) == 1:
            chosen[0][1](data)
        elif data:
            chosen[data[0] % len(chosen)][1](data[1:])

    arguments = [
        sys.argv[0],
        f"-max_total_time={max(1, int(seconds))}",
        "-timeout=20",
        "-rss_limit_mb=4096",
        "-max_len=65536",
        f"-artifact_prefix={crash_dir}/",
        str(corpus),
    ]
    print(f"atheris: {', '.join(names)} for {seconds:g} s; corpus {corpus}", flush=True)
    atheris.Setup(arguments, one_input)
    atheris.Fuzz()  # exits the process: 0 when the time is up, non-zero on a finding
    return 0  # pragma: no cover


# --- hypothesis -------------------------------------------------------------------------------


def _recording(target: Target, last: list[bytes]) -> Target:
    """``target`` remembering its latest input in ``last`` (Hypothesis runs the smallest failing
    input last)."""

    def run(data: bytes) -> None:
        last[:] = [data]
        target(data)

    return run


def run_hypothesis(names: Sequence[str], seconds: float, crash_dir: Path, seed: int | None) -> int:
    import hypothesis
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st

    props = importlib.import_module("tests.unit.test_discovery_properties")
    targets = make_targets()
    starting = seeds()

    @st.composite
    def mutated(draw: st.DrawFn, samples: list[bytes]) -> bytes:
        data = bytearray(draw(st.sampled_from(samples)))
        for _ in range(draw(st.integers(min_value=1, max_value=8))):
            position = draw(st.integers(min_value=0, max_value=len(data)))
            operation = draw(st.sampled_from(["flip", "insert", "delete", "repeat", "splice"]))
            if operation == "flip" and position < len(data):
                data[position] ^= 1 << draw(st.integers(min_value=0, max_value=7))
            elif operation == "insert":
                data[position:position] = draw(st.binary(min_size=1, max_size=16))
            elif operation == "delete":
                del data[position : position + draw(st.integers(min_value=1, max_value=64))]
            elif operation == "repeat":
                chunk = data[position : position + draw(st.integers(min_value=1, max_value=32))]
                data[position:position] = chunk * draw(st.integers(min_value=1, max_value=50))
            elif operation == "splice":
                other = draw(st.sampled_from(samples))
                start = draw(st.integers(min_value=0, max_value=len(other)))
                data[position:] = other[start:]
        return bytes(data)

    structured: dict[str, st.SearchStrategy[bytes]] = {
        "clientconfig": st.one_of(
            props.configs.map(lambda c: c.xml().encode("utf-8")),
            props.xml_noise.map(lambda x: x.encode("utf-8")),
        ),
        "clientconfig-text": props.xml_noise.map(lambda x: x.encode("utf-8")),
        "autodiscover-json": st.just(b"{}"),
        "autodiscover-xml": props.xml_noise.map(
            lambda x: x.replace("clientConfig", "Autodiscover").encode("utf-8")
        ),
        "www-authenticate": st.lists(props.challenges, max_size=4).map(
            lambda cs: ", ".join(c.header() for c in cs).encode("utf-8")
        ),
        "typos": props.hosts.map(lambda h: h.encode("ascii")),
    }
    strategies = {
        name: st.one_of(st.binary(max_size=2000), mutated(starting[name]), structured[name])
        for name in names
    }

    deadline = time.monotonic() + seconds
    rounds = examples = 0
    while time.monotonic() < deadline:
        for name in names:
            if time.monotonic() >= deadline:
                break
            target = timed(name, targets[name])
            last: list[bytes] = []
            test: Callable[[], None] = given(strategies[name])(_recording(target, last))
            test = settings(
                max_examples=200,
                deadline=None,
                database=None,
                phases=[Phase.generate, Phase.shrink],
                suppress_health_check=list(HealthCheck),
            )(test)
            if seed is not None:
                test = hypothesis.seed(seed + rounds)(test)
            try:
                test()
            except Exception:
                crash_dir.mkdir(parents=True, exist_ok=True)
                path = crash_dir / f"hypothesis-{name}.bin"
                if last:
                    path.write_bytes(last[0])
                print(f"FAILED: {name}; the input is in {path}", file=sys.stderr)
                raise
            examples += 200
        rounds += 1
    print(f"hypothesis: {', '.join(names)}: {rounds} rounds, about {examples} inputs, no failure")
    return 0


# --- command line -----------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fuzz.fuzz_parsers", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to fuzz")
    parser.add_argument("--engine", choices=["auto", "atheris", "hypothesis"], default="auto")
    parser.add_argument("--target", choices=[*TARGET_NAMES, "all"], default="all")
    parser.add_argument("--crash-dir", type=Path, default=DEFAULT_CRASH_DIR)
    parser.add_argument("--seed", type=int, help="Hypothesis engine: a seed to repeat a run")
    args = parser.parse_args(argv)
    names = list(TARGET_NAMES) if args.target == "all" else [args.target]
    engine = args.engine
    if engine == "auto":
        engine = "atheris" if importlib.util.find_spec("atheris") is not None else "hypothesis"
    args.crash_dir.mkdir(parents=True, exist_ok=True)
    try:
        if engine == "atheris":
            return run_atheris(names, args.seconds, args.crash_dir)
        return run_hypothesis(names, args.seconds, args.crash_dir, args.seed)
    except Exception as exc:  # a finding
        traceback.print_exc()
        print(f"fuzzing found a problem: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
