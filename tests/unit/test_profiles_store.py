"""The saved-accounts store (app/core/profiles/store.py) on real files and real processes: round
trips, a kill -9 in the middle of saving (the file is old or new, never broken), two processes
saving at once (nobody's account is lost), the lock's bounded wait, unreadable and newer files
(kept aside, or left alone), the migration hook, and the state a verification leaves."""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import random
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from app.core.checks.base import CheckResult
from app.core.checks.runner import VerifyResult
from app.core.diagnostics import knowledge
from app.core.errors import InvalidAddressError
from app.core.model import (
    AccountConfig,
    AuthKind,
    Endpoint,
    Outcome,
    Protocol,
    Provenance,
    Security,
    Trust,
)
from app.core.profiles import store as store_module
from app.core.profiles.store import (
    SCHEMA_VERSION,
    AccountDataError,
    AccountsBusy,
    AccountsFileNewer,
    AccountState,
    AccountStore,
    SavedAccount,
    account_key,
    default_accounts_path,
    state_after,
    upgrade,
)
from app.core.texts import Text

ROOT = Path(__file__).resolve().parents[2]


def make(address: str, name: str | None = None, padding: int = 0) -> SavedAccount:
    """An account for tests (the child processes import it too)."""
    config = AccountConfig(
        incoming=Endpoint(Protocol.IMAP, "imap.example.test", 993, Security.TLS, address),
        outgoing=Endpoint(Protocol.SMTP, "smtp.example.test", 587, Security.STARTTLS, address),
        caldav="https://dav.example.test/caldav/",
        carddav="https://dav.example.test/carddav/",
        auth=AuthKind.APP_PASSWORD,
        provider_id="example",
        provider_name="Example Mail",
        provenance=Provenance("catalog", Trust.HIGH, True),
    )
    return SavedAccount(address=address, config=config, display_name=(name or "x") + "y" * padding)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "config" / "MailSetup" / "accounts.json"


def addresses(path: Path) -> list[str]:
    """The addresses in the file, read as any program would: plain JSON."""
    document = json.loads(path.read_text("utf-8"))
    assert document["format"] == "mailsetup-accounts"
    assert document["schema"] == SCHEMA_VERSION
    return [item["address"] for item in document["accounts"]]


# --- round trips ------------------------------------------------------------------------------


def test_an_account_round_trips_through_its_dict() -> None:
    account = SavedAccount(
        address="Taro@Example.TEST",
        config=AccountConfig(
            incoming=Endpoint(Protocol.IMAP, "imap.mail.me.com", 993, Security.TLS, "taro"),
            outgoing=Endpoint(Protocol.SMTP, "smtp.mail.me.com", 587, Security.STARTTLS, "taro"),
            caldav="https://caldav.icloud.com/",
            carddav="https://contacts.icloud.com/",
            auth=AuthKind.APP_PASSWORD,
            provider_id="icloud",
            provider_name="iCloud",
            provenance=Provenance("catalog", Trust.HIGH, True, url=None, detail="built in"),
            hints=(Text("check.settings"),),
        ),
        display_name="山田 太郎",
        dav_username="taro.apple@icloud.com",
        client="thunderbird",
        secrets=("account", "smtp"),
        state=AccountState.FAILING,
        checked_at=dt.datetime(2025, 3, 1, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=9))),
        findings=("imap.auth.failed",),
    )
    data = account.to_dict()
    assert json.loads(json.dumps(data)) == data
    again = SavedAccount.from_dict(data)
    assert again == account
    assert again.config.hints == ()  # advice for setting up is not kept
    assert data["checked_at"] == "2025-03-01T00:30:00+00:00"  # stored in UTC
    assert data["provider"] == {"id": "icloud", "name": "iCloud"}
    assert data["settings"]["incoming"]["username"] == "taro"  # type: ignore[index]
    assert data["dav_username"] == "taro.apple@icloud.com"
    assert account.key == "taro@example.test" == account_key("TARO@example.test")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("settings"), "settings is missing"),
        (lambda d: d.update(state="great"), "great"),
        (lambda d: d["settings"]["incoming"].update(port="993"), "port"),
        (lambda d: d.update(secrets="account"), "secrets"),
        (lambda d: d.update(created_at="yesterday"), "created_at"),
        (lambda d: d.update(address="no-at-sign"), "no-at-sign"),
        (lambda d: d["settings"].update(auth="magic"), "magic"),
    ],
)
def test_wrong_shapes_are_refused_saying_what(change: object, message: str) -> None:
    data = json.loads(json.dumps(make("a@example.test").to_dict()))
    change(data)  # type: ignore[operator]
    with pytest.raises(AccountDataError, match=message):
        SavedAccount.from_dict(data)


def test_the_default_file_is_in_the_user_config_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert default_accounts_path() == tmp_path / "xdg" / "MailSetup" / "accounts.json"
    assert AccountStore().path == default_accounts_path()


# --- saving, reading, removing ----------------------------------------------------------------


def test_save_list_get_remove(path: Path) -> None:
    store = AccountStore(path)
    assert store.list() == []
    assert not path.exists()  # reading creates nothing
    long_ago = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    first = store.save(replace(make("one@example.test"), created_at=long_ago, updated_at=long_ago))
    assert first.created_at == long_ago < first.updated_at  # saving sets the time of change
    store.save(make("two@example.test"))
    assert addresses(path) == ["one@example.test", "two@example.test"]
    assert [a.address for a in AccountStore(path).list()] == addresses(path)
    assert AccountStore(path).get("ONE@Example.Test") == first
    assert store.get("three@example.test") is None

    renamed = store.save(make("one@example.test", name="Renamed"))
    assert renamed.created_at == long_ago  # the first save's, not the new object's
    assert renamed.updated_at >= first.updated_at
    assert addresses(path) == ["one@example.test", "two@example.test"]  # replaced, not added
    assert AccountStore(path).get("one@example.test").display_name == "Renamed"  # type: ignore[union-attr]

    assert store.remove("One@example.test") is True
    assert store.remove("one@example.test") is False
    assert addresses(path) == ["two@example.test"]
    assert store.notices() == ()
    with pytest.raises(InvalidAddressError):
        store.get("not an address")


def test_the_file_is_private_and_has_a_schema_version(path: Path) -> None:
    AccountStore(path).save(make("a@example.test"))
    assert path.stat().st_mode & 0o077 == 0
    document = json.loads(path.read_text("utf-8"))
    assert document["schema"] == SCHEMA_VERSION == 1
    assert list(document) == ["format", "schema", "accounts"]


def test_update_state_records_the_check(path: Path) -> None:
    store = AccountStore(path)
    store.save(make("a@example.test"))
    finding = knowledge.finding(
        "keyring.secret-missing",
        checked=Text("check.settings"),
        params={"address": "a@example.test"},
    )
    updated = store.update_state(
        "A@example.test", AccountState.FAILING, ["imap.auth.failed", finding]
    )
    assert updated is not None
    assert updated.state is AccountState.FAILING
    assert updated.findings == ("imap.auth.failed", "keyring.secret-missing")
    assert updated.checked_at is not None
    assert abs((dt.datetime.now(dt.UTC) - updated.checked_at).total_seconds()) < 5
    again = AccountStore(path).get("a@example.test")
    assert again == updated
    assert store.update_state("b@example.test", AccountState.VERIFIED) is None
    assert addresses(path) == ["a@example.test"]


# --- unreadable and newer files ---------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        b'{"format": "mailsetup-accounts", "schema": 1, "accounts": [',  # cut short
        b"\xff\xfe not utf-8",
        b'{"format": "something-else", "schema": 1, "accounts": []}',
        b'{"format": "mailsetup-accounts", "schema": 1, "accounts": {}}',
        b'{"format": "mailsetup-accounts", "schema": 0, "accounts": []}',
        b'{"format": "mailsetup-accounts", "schema": "1", "accounts": []}',
        b'["mailsetup-accounts"]',
    ],
)
def test_an_unreadable_file_is_kept_aside_and_reported(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    store = AccountStore(path)
    assert store.list() == []
    kept = list(path.parent.glob("accounts.json.broken-*"))
    assert len(kept) == 1
    assert kept[0].read_bytes() == content  # kept exactly as it was
    assert not path.exists()
    (notice,) = store.notices()
    assert notice.code == "accounts.file-unreadable"
    assert notice.outcome is Outcome.WARNING
    assert notice.detail["kept"] == str(kept[0])
    assert str(kept[0]) in notice.cause.render("en")
    assert notice.cause.render("ja")
    # the next save starts a new file and leaves the kept one alone
    store.save(make("new@example.test"))
    assert addresses(path) == ["new@example.test"]
    assert kept[0].read_bytes() == content
    assert len(store.notices()) == 1


def test_an_account_with_wrong_types_makes_the_file_unreadable(path: Path) -> None:
    store = AccountStore(path)
    store.save(make("a@example.test"))
    store.save(make("b@example.test"))
    document = json.loads(path.read_text("utf-8"))
    document["accounts"][1]["settings"]["incoming"]["port"] = 99999
    path.write_text(json.dumps(document), "utf-8")
    store.save(make("c@example.test"))  # a change meets the bad file: kept aside first
    assert addresses(path) == ["c@example.test"]
    (kept,) = path.parent.glob("accounts.json.broken-*")
    assert json.loads(kept.read_text("utf-8")) == document
    assert store.notices()[0].detail["reason"]


def test_a_file_saved_twice_for_one_address_is_unreadable(path: Path) -> None:
    item = make("a@example.test").to_dict()
    path.parent.mkdir(parents=True)
    path.write_text(
        json.dumps({"format": "mailsetup-accounts", "schema": 1, "accounts": [item, item]}),
        "utf-8",
    )
    store = AccountStore(path)
    assert store.get("a@example.test") is None
    assert "saved twice" in store.notices()[0].detail["reason"]  # type: ignore[operator]


def test_a_newer_file_is_left_alone(path: Path) -> None:
    path.parent.mkdir(parents=True)
    content = json.dumps(
        {"format": "mailsetup-accounts", "schema": SCHEMA_VERSION + 1, "accounts": [{"x": 1}]}
    ).encode()
    path.write_bytes(content)
    store = AccountStore(path)
    with pytest.raises(AccountsFileNewer) as raised:
        store.list()
    assert raised.value.code == "accounts.file-newer"
    assert str(SCHEMA_VERSION + 1) in raised.value.finding.cause.render("en")
    with pytest.raises(AccountsFileNewer):
        store.save(make("a@example.test"))
    with pytest.raises(AccountsFileNewer):
        store.remove("a@example.test")
    assert path.read_bytes() == content
    assert list(path.parent.glob("accounts.json.broken-*")) == []


# --- migrations -------------------------------------------------------------------------------


def test_upgrade_applies_each_migration_in_turn() -> None:
    def one_to_two(doc: dict[str, object]) -> dict[str, object]:
        return {**doc, "schema": 2, "accounts": [*doc["accounts"], "from-1"]}  # type: ignore[misc]

    def two_to_three(doc: dict[str, object]) -> dict[str, object]:
        return {**doc, "schema": 3, "accounts": [*doc["accounts"], "from-2"]}  # type: ignore[misc]

    steps = {1: one_to_two, 2: two_to_three}
    start = {"format": "mailsetup-accounts", "schema": 1, "accounts": []}
    done = upgrade(start, migrations=steps, current=3)
    assert done == {"format": "mailsetup-accounts", "schema": 3, "accounts": ["from-1", "from-2"]}
    assert start["schema"] == 1  # the input is not changed
    assert upgrade({"schema": 3}, migrations=steps, current=3) == {"schema": 3}
    with pytest.raises(AccountDataError, match="no migration from schema 1"):
        upgrade({"schema": 1}, migrations={2: two_to_three}, current=3)
    with pytest.raises(AccountDataError, match="did not reach 2"):
        upgrade({"schema": 1}, migrations={1: lambda d: d}, current=2)


def test_the_store_migrates_an_older_file_when_reading(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hook as the store uses it: a schema 1 file read by a program whose schema is 2."""
    AccountStore(path).save(make("a@example.test"))
    calls: list[int] = []

    def one_to_two(doc: dict[str, object]) -> dict[str, object]:
        calls.append(1)
        return {**doc, "schema": 2}

    monkeypatch.setattr(store_module, "SCHEMA_VERSION", 2)
    monkeypatch.setitem(store_module.MIGRATIONS, 1, one_to_two)
    store = AccountStore(path)
    assert [a.address for a in store.list()] == ["a@example.test"]
    assert calls == [1]
    store.save(make("b@example.test"))
    assert json.loads(path.read_text("utf-8"))["schema"] == 2  # rewritten in the new schema


# --- the state after a verification -----------------------------------------------------------


def _check(
    protocol: Protocol, ok: bool, authenticated: bool, code: str | None = None
) -> CheckResult:
    finding = None
    if code is not None:
        finding = knowledge.finding(code, checked=Text("check.settings"), params={})
    return CheckResult(
        protocol=protocol,
        target=protocol.value,
        ok=ok,
        authenticated=authenticated,
        steps=(),
        finding=finding,
        findings=() if finding is None else (finding,),
    )


def test_state_after_a_verification() -> None:
    def result(*checks: CheckResult) -> VerifyResult:
        return VerifyResult(address="a@example.test", checks=checks, elapsed_ms=1)

    ok = result(_check(Protocol.IMAP, True, True), _check(Protocol.SMTP, True, True))
    assert state_after(ok) == (AccountState.VERIFIED, ())
    unsigned = result(_check(Protocol.IMAP, True, False), _check(Protocol.SMTP, True, True))
    assert state_after(unsigned) == (AccountState.UNVERIFIED, ())
    assert state_after(unsigned, sign_in_expected=False) == (AccountState.VERIFIED, ())
    failing = result(
        _check(Protocol.IMAP, False, False, "imap.auth.failed"),
        _check(Protocol.SMTP, False, False, "imap.auth.failed"),
        _check(Protocol.CALDAV, True, True),
    )
    assert state_after(failing) == (AccountState.FAILING, ("imap.auth.failed",))
    assert state_after(result()) == (AccountState.UNVERIFIED, ())


# --- processes: kill -9 while saving, two writers, the lock -----------------------------------

_CHILD_HALF = """
import sys, time
from app.core.profiles import store as store_module
from tests.unit.test_profiles_store import make

path, address, stage = sys.argv[1], sys.argv[2], sys.argv[3]
original_write, original_fsync_folder = store_module._write_bytes, store_module._fsync_folder

def half_then_wait(fd, data):
    original_write(fd, data[: len(data) // 2])
    print("HALF", flush=True)
    time.sleep(60)

def renamed_then_wait(folder):
    print("RENAMED", flush=True)
    time.sleep(60)

if stage == "half":
    store_module._write_bytes = half_then_wait
else:
    store_module._fsync_folder = renamed_then_wait
store_module.AccountStore(path).save(make(address, padding=200_000))
print("DONE", flush=True)
"""

_CHILD_LOOP = """
import os, sys, time
from app.core.profiles.store import AccountStore
from tests.unit.test_profiles_store import make

path, prefix, go = sys.argv[1], sys.argv[2], sys.argv[4]
count, padding = int(sys.argv[3]), int(sys.argv[5])
deadline = time.monotonic() + 20
while go != "-" and not os.path.exists(go) and time.monotonic() < deadline:
    time.sleep(0.001)
store = AccountStore(path, lock_timeout=30)
i = 0
while count == 0 or i < count:
    store.save(make(f"{prefix}{i % 50}@example.test", padding=padding))
    if i == 0:
        print("SAVING", flush=True)
    i += 1
print("DONE", flush=True)
"""


Spawn = Callable[..., "subprocess.Popen[str]"]


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Spawn]:
    """Start a child process running ``source`` with ``args``; every child still running when
    the test ends (a failed assertion) is killed and reaped."""
    children: list[subprocess.Popen[str]] = []

    def start(source: str, *args: str) -> subprocess.Popen[str]:
        script = tmp_path / f"child-{len(children)}.py"
        script.write_text(source, "utf-8")
        child = subprocess.Popen(
            [sys.executable, str(script), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            cwd=tmp_path,
        )
        children.append(child)
        return child

    yield start
    for child in children:
        if child.poll() is None:
            child.kill()
        child.communicate(timeout=10)


def _wait_for_line(child: subprocess.Popen[str], expected: str, timeout: float = 20.0) -> None:
    assert child.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([child.stdout], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        line = child.stdout.readline()
        if line.strip() == expected:
            return
        if not line:
            break
    child.kill()
    _, err = child.communicate(timeout=10)
    pytest.fail(f"the child never said {expected!r}; its stderr:\n{err}")


def _kill(child: subprocess.Popen[str]) -> None:
    child.send_signal(signal.SIGKILL)
    child.communicate(timeout=10)
    assert child.returncode == -signal.SIGKILL


def _temporaries(path: Path) -> list[Path]:
    return sorted(path.parent.glob(".accounts.json.*.tmp"))


def test_a_kill_in_the_middle_of_writing_leaves_the_old_file(spawn: Spawn, path: Path) -> None:
    store = AccountStore(path)
    store.save(make("old@example.test"))
    before = path.read_bytes()
    child = spawn(_CHILD_HALF, str(path), "new@example.test", "half")
    _wait_for_line(child, "HALF")
    (temporary,) = _temporaries(path)  # half of the new version is on disk...
    assert 0 < temporary.stat().st_size < 200_000
    _kill(child)  # ...when the writer dies
    assert path.read_bytes() == before
    assert addresses(path) == ["old@example.test"]
    store.save(make("next@example.test"))  # the next writer cleans up
    assert _temporaries(path) == []
    assert addresses(path) == ["old@example.test", "next@example.test"]


def test_a_kill_after_the_rename_leaves_the_new_file(spawn: Spawn, path: Path) -> None:
    AccountStore(path).save(make("old@example.test"))
    child = spawn(_CHILD_HALF, str(path), "new@example.test", "renamed")
    _wait_for_line(child, "RENAMED")
    _kill(child)
    assert addresses(path) == ["old@example.test", "new@example.test"]
    assert _temporaries(path) == []


def _wait_for_a_write(path: Path, timeout: float = 5.0) -> None:
    """Return as soon as a temporary file shows that a write is under way."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with os.scandir(path.parent) as entries:
            if any(entry.name.endswith(".tmp") for entry in entries):
                return


def test_kills_at_random_moments_never_break_the_file(spawn: Spawn, path: Path) -> None:
    """A writer saving as fast as it can, killed again and again: at a random moment, or the
    moment a write is seen under way. Each time the file is a complete document, and at least
    one kill interrupted a write (else the test would prove nothing)."""
    rng = random.Random(7)
    AccountStore(path).save(make("first@example.test"))
    rounds, killed_mid_write = 10, 0
    for number in range(rounds):
        child = spawn(_CHILD_LOOP, str(path), f"r{number}-", "0", "-", "20000")
        _wait_for_line(child, "SAVING")
        if number % 2:
            _wait_for_a_write(path)
        else:
            time.sleep(rng.uniform(0.0, 0.1))
        _kill(child)
        killed_mid_write += bool(_temporaries(path))
        found = addresses(path)  # parses: never broken
        assert found[0] == "first@example.test"
        assert AccountStore(path).list()  # and the store reads it without keeping it aside
        assert list(path.parent.glob("accounts.json.broken-*")) == []
    assert killed_mid_write > 0, "no kill landed during a write: the test proved nothing"


def test_two_processes_saving_at_once_lose_nothing(
    spawn: Spawn, tmp_path: Path, path: Path
) -> None:
    AccountStore(path).save(make("first@example.test"))
    go = tmp_path / "go"
    first = spawn(_CHILD_LOOP, str(path), "a", "40", str(go), "100")
    second = spawn(_CHILD_LOOP, str(path), "b", "40", str(go), "100")
    go.touch()
    for child in (first, second):
        out, err = child.communicate(timeout=60)
        assert child.returncode == 0, err
        assert out.split() == ["SAVING", "DONE"]
    found = addresses(path)
    expected = {"first@example.test"} | {f"{p}{i}@example.test" for p in "ab" for i in range(40)}
    assert set(found) == expected
    assert len(found) == len(expected)


def test_a_held_lock_makes_a_change_wait_then_give_up(path: Path) -> None:
    store = AccountStore(path, lock_timeout=0.3)
    store.save(make("a@example.test"))
    before = path.read_bytes()
    with store.lock_path.open("a") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)  # another program holds the documented lock
        started = time.monotonic()
        with pytest.raises(AccountsBusy) as raised:
            store.save(make("b@example.test"))
        waited = time.monotonic() - started
        assert [a.address for a in store.list()] == ["a@example.test"]  # reading needs no lock
    assert 0.3 <= waited < 2.0
    assert raised.value.code == "accounts.busy"
    assert path.read_bytes() == before
    store.save(make("b@example.test"))  # once released, it works
    assert addresses(path) == ["a@example.test", "b@example.test"]
