"""Every .mobileconfig the program writes, checked against Apple's own payload schemas.

The schemas are Apple's ``device-management`` YAML files, kept OUTSIDE the repository in
``../shared/apple-device-management`` (relative to the repository; see its README.md) and read
from there: they are not copied into the project. Without that folder this module is skipped,
with the reason.

The check: the top level against ``TopLevel.yaml``; each payload against
``CommonPayloadKeys.yaml`` plus its own type's file. Every required key present, every value of
the declared type (and in ``rangelist`` where one is given), no key the schema does not know.
The checker itself is shown to reject broken profiles, so a pass means something.
"""

from __future__ import annotations

import datetime as dt
import plistlib
import subprocess
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.core.profiles import mobileconfig
from app.core.profiles.common import ExportAccount
from tests.golden import samples
from tests.world.ca import TestCA

REPOSITORY = Path(__file__).resolve().parents[2]
SCHEMAS = (REPOSITORY / ".." / "shared" / "apple-device-management").resolve()

pytestmark = pytest.mark.skipif(
    not (SCHEMAS / "TopLevel.yaml").is_file(),
    reason=f"Apple's payload schemas are not at {SCHEMAS} (they are kept outside the "
    "repository, in ../shared/apple-device-management); nothing to check against",
)

_TYPES: dict[str, Callable[[object], bool]] = {
    "<string>": lambda v: isinstance(v, str),
    "<integer>": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "<real>": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "<boolean>": lambda v: isinstance(v, bool),
    "<data>": lambda v: isinstance(v, bytes),
    "<date>": lambda v: isinstance(v, dt.datetime),
    "<array>": lambda v: isinstance(v, list),
    "<dictionary>": lambda v: isinstance(v, dict),
    "<any>": lambda v: True,
}


@cache
def schema(name: str) -> Mapping[str, Any]:
    with (SCHEMAS / f"{name}.yaml").open(encoding="utf-8") as handle:
        loaded: Mapping[str, Any] = yaml.safe_load(handle)
    return loaded


def check_value(value: object, spec: Mapping[str, Any], where: str) -> list[str]:
    kind = spec.get("type", "<any>")
    if kind not in _TYPES:
        return [f"{where}: the schema's type {kind} is unknown to this checker"]
    if not _TYPES[kind](value):
        return [f"{where}: {type(value).__name__} where the schema says {kind}"]
    problems: list[str] = []
    allowed = spec.get("rangelist")
    if allowed is not None and not isinstance(value, list | dict) and value not in allowed:
        problems.append(f"{where}: {value!r} is not one of {allowed}")
    bounds = spec.get("range")
    if bounds and isinstance(value, int | float):
        if "min" in bounds and value < bounds["min"]:
            problems.append(f"{where}: {value} is below {bounds['min']}")
        if "max" in bounds and value > bounds["max"]:
            problems.append(f"{where}: {value} is above {bounds['max']}")
    subkeys = spec.get("subkeys")
    if subkeys and isinstance(value, dict):
        problems += check_keys(value, subkeys, where)
    if subkeys and isinstance(value, list):
        for index, item in enumerate(value):
            problems += check_value(item, subkeys[0], f"{where}[{index}]")
    return problems


def check_keys(data: Mapping[str, object], keys: list[Mapping[str, Any]], where: str) -> list[str]:
    """Required keys present, known keys only (unless the schema allows ANY), values right."""
    by_name = {spec["key"]: spec for spec in keys}
    wildcard = by_name.get("ANY")
    problems = [
        f"{where}: the required key {spec['key']} is missing"
        for spec in keys
        if spec["key"] != "ANY" and spec.get("presence") == "required" and spec["key"] not in data
    ]
    for name, value in data.items():
        spec = by_name.get(name, wildcard)
        if spec is None:
            problems.append(f"{where}: {name} is not a key of this payload")
            continue
        problems += check_value(value, spec, f"{where}.{name}")
    return problems


def check_profile(profile: Mapping[str, Any]) -> list[str]:
    """Every problem of a profile (an empty list: valid)."""
    problems = check_keys(profile, schema("TopLevel")["payloadkeys"], "profile")
    common = schema("CommonPayloadKeys")["payloadkeys"]
    identifiers: list[str] = []
    for index, payload in enumerate(profile.get("PayloadContent", [])):
        where = f"payload {index}"
        kind = payload.get("PayloadType") if isinstance(payload, dict) else None
        if not isinstance(kind, str) or not (SCHEMAS / f"{kind}.yaml").is_file():
            problems.append(f"{where}: no Apple schema for the payload type {kind!r}")
            continue
        own = schema(kind)
        assert own["payload"]["payloadtype"] == kind
        problems += check_keys(payload, [*common, *own["payloadkeys"]], f"{where} ({kind})")
        identifiers.append(str(payload.get("PayloadIdentifier")))
    if len(set(identifiers)) != len(identifiers):
        problems.append("profile: PayloadIdentifier values repeat within the profile")
    return problems


def profile_of(account: ExportAccount, language: str = "en") -> dict[str, Any]:
    loaded: dict[str, Any] = plistlib.loads(
        mobileconfig.mobileconfig(account, language=language).content  # type: ignore[arg-type]
    )
    return loaded


CASES = [
    (f"{name}{' with password' if password else ''} ({language})", build, password, language)
    for name, build in sorted(samples.ALL_SAMPLES.items())
    for password in (None, samples.SENTINEL)
    for language in ("en", "ja")
]


@pytest.mark.parametrize(
    ("case", "build", "password", "language"), CASES, ids=[c[0] for c in CASES]
)
def test_every_profile_is_valid_against_apples_schemas(
    case: str, build: Callable[..., ExportAccount], password: str | None, language: str
) -> None:
    profile = profile_of(build(password), language)
    assert check_profile(profile) == []
    kinds = {p["PayloadType"] for p in profile["PayloadContent"]}
    assert kinds <= {
        "com.apple.mail.managed",
        "com.apple.caldav.account",
        "com.apple.carddav.account",
        "com.apple.eas.account",
    }


def test_the_golden_profiles_are_valid() -> None:
    for sample in samples.SAMPLES:
        golden = plistlib.loads((samples.GOLDEN / f"{sample}.mobileconfig").read_bytes())
        assert check_profile(golden) == [], sample


def test_a_signed_profile_holds_a_valid_profile(tmp_path: Path) -> None:
    ca = TestCA(tmp_path / "ca", common_name="Profile Signing Test CA")
    issued = ca.issue(("profiles.example.test",))
    signer = mobileconfig.load_signer(issued.cert.read_bytes(), issued.key.read_bytes())
    signed = tmp_path / "signed.mobileconfig"
    signed.write_bytes(mobileconfig.mobileconfig(samples.icloud(), signer=signer).content)
    result = subprocess.run(
        ["openssl", "cms", "-verify", "-noverify", "-inform", "DER", "-in", str(signed)],
        capture_output=True, timeout=20, check=True,
    )  # fmt: skip
    assert check_profile(plistlib.loads(result.stdout)) == []


# --- the checker rejects what Apple would -----------------------------------------------------


def test_the_checker_finds_unknown_keys_wrong_types_missing_and_out_of_range_values() -> None:
    good = profile_of(samples.imap_password())
    assert check_profile(good) == []

    def broken(change: Callable[[dict[str, Any]], None]) -> list[str]:
        profile = plistlib.loads(plistlib.dumps(good))
        change(profile)
        return check_profile(profile)

    def mail(profile: dict[str, Any]) -> dict[str, Any]:
        found: dict[str, Any] = profile["PayloadContent"][0]
        return found

    assert broken(lambda p: mail(p).update(IncomingMailServerHostname="x"))  # misspelt key
    assert broken(lambda p: mail(p).update(IncomingMailServerPortNumber="993"))  # a string
    assert broken(lambda p: mail(p).update(IncomingMailServerUseSSL=1))  # not a boolean
    assert broken(lambda p: mail(p).pop("IncomingMailServerHostName"))  # required
    assert broken(lambda p: mail(p).update(EmailAccountType="EmailTypeExchange"))  # rangelist
    assert broken(lambda p: p.update(PayloadVersion=2))
    assert broken(lambda p: p.pop("PayloadIdentifier"))
    assert broken(lambda p: p.update(Unknown=True))
    assert broken(lambda p: mail(p).update(PayloadType="com.example.nothing"))
    assert broken(
        lambda p: p["PayloadContent"][1].update(PayloadIdentifier=mail(p)["PayloadIdentifier"])
    )
    assert broken(lambda p: p["PayloadContent"][1].pop("CalDAVHostName"))
