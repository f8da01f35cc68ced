"""The daemon's rotating log files, the logs download over them and the journald export — all on
real files, a real journalctl and (when systemd-journal-remote is installed) real journal files."""

from __future__ import annotations

import logging
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from appliance.system import logs
from appliance.system.journal_export import EXPORT_NAME, JournalExport
from appliance.system.logfiles import DurableRotatingFileHandler, LogFile
from appliance.system.logservice import ApplianceLogs
from appliance.web.services import ServiceError

JOURNAL_REMOTE = next((p for p in (f"{lib}/systemd/systemd-journal-remote" for lib in ("/lib", "/usr/lib"))
                       if os.access(p, os.X_OK)), None)


def _numbers(folder: Path, name: str = "smeshbox.log") -> list[int]:
    """The line numbers found across the set, oldest file first."""
    files = [*sorted(folder.glob(name + ".*"), key=lambda p: -int(p.suffix[1:])), folder / name]
    return [int(m) for f in files for m in re.findall(r"line (\d+) ", f.read_text())]


def test_rotation_keeps_the_newest_lines_in_order_within_the_cap(tmp_path: Path) -> None:
    log_file = LogFile(tmp_path, max_bytes=4096, backups=2)
    logger = logging.getLogger("test.rotation")
    logger.propagate = False
    logger.addHandler(log_file.handler)
    logger.setLevel(logging.INFO)
    try:
        for i in range(600):
            logger.info("line %d %s", i, "x" * 60)
    finally:
        logger.removeHandler(log_file.handler)
        log_file.close()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["smeshbox.log", "smeshbox.log.1", "smeshbox.log.2"]
    sizes = [(tmp_path / n).stat().st_size for n in names]
    assert all(0 < s <= 4096 for s in sizes), sizes
    numbers = _numbers(tmp_path)
    assert numbers[-1] == 599 and numbers == list(range(numbers[0], 600))  # contiguous, newest kept
    assert numbers[0] > 0  # the oldest were rotated away: the cap holds
    assert oct((tmp_path / "smeshbox.log").stat().st_mode & 0o777) == oct(0o640)


def test_a_bad_cap_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="max_bytes"):
        DurableRotatingFileHandler(tmp_path / "x.log", max_bytes=10)
    with pytest.raises(ValueError, match="backup"):
        DurableRotatingFileHandler(tmp_path / "x.log", backups=0)


_CHILD = """
import logging, os, sys, time
from appliance.system.logs import setup_logging
print(setup_logging(log_dir=sys.argv[1]), flush=True)
logging.getLogger("child").warning("run %s says hello", sys.argv[2])
path = os.path.join(sys.argv[1], "smeshbox.log")
def written():
    try:
        return f"run {sys.argv[2]} says" in open(path).read()
    except FileNotFoundError:
        return False
while not written():  # the listener thread writes it
    time.sleep(0.01)
print("logged", flush=True)
time.sleep(60)
"""


def _run_and_kill(folder: Path, tag: str) -> str:
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(folder), tag], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True)
    try:
        assert child.stdout is not None
        target = child.stdout.readline().strip()
        assert child.stdout.readline().strip() == "logged"
    finally:
        child.send_signal(signal.SIGKILL)  # no atexit, no flush: what is on disk is all there is
        child.wait()
    return target


def test_content_survives_a_killed_daemon_and_the_next_run_appends(tmp_path: Path) -> None:
    assert _run_and_kill(tmp_path, "one") == "stderr+file"
    _run_and_kill(tmp_path, "two")
    text = (tmp_path / "smeshbox.log").read_text()
    assert text.index("run one says hello") < text.index("run two says hello")
    assert "WARNING child: run one" in text


def test_setup_logging_turns_the_file_on_and_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    try:
        assert logs.setup_logging(log_dir=tmp_path / "logs") == "stderr+file"
        logging.getLogger("here").error("into the file")
        assert logs.setup_logging() == "stderr"  # closes (drains) the file
        assert "ERROR here: into the file" in (tmp_path / "logs" / "smeshbox.log").read_text()
        logging.getLogger("here").error("not into the file")
        assert "not into" not in (tmp_path / "logs" / "smeshbox.log").read_text()
    finally:
        logging.getLogger().handlers.clear()


# ---------------------------------------------------------------- the download


@pytest.fixture
def log_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "logs"
    folder.mkdir()
    (folder / "smeshbox.log").write_text("now\n")
    (folder / "smeshbox.log.1").write_text("before\n")
    (tmp_path / "secret").write_text("identity key\n")
    (folder / "escape.log").symlink_to(tmp_path / "secret")
    return folder


async def test_log_files_are_listed_and_traversal_is_refused(log_folder: Path) -> None:
    service = ApplianceLogs(log_folder, JournalExport(directory=log_folder.parent / "no-journal"))
    assert service.names() == ["smeshbox.log", "smeshbox.log.1"]  # no journal: no journal.txt
    assert (await service.path("smeshbox.log.1")).read_text() == "before\n"
    for name, kind in [("../secret", "invalid"), ("/etc/passwd", "invalid"), ("..", "invalid"),
                       ("escape.log", "not_found"), ("missing.log", "not_found"), (EXPORT_NAME, "not_found")]:
        with pytest.raises(ServiceError) as err:
            await service.path(name)
        assert err.value.kind == kind, name


def _journal(folder: Path, entries: list[tuple[str, str]]) -> Path:
    """Real journal files, written by systemd-journal-remote from the journal export format."""
    if JOURNAL_REMOTE is None:
        pytest.skip("systemd-journal-remote is not installed (scripts/apt/system.txt installs it)")
    folder.mkdir()
    stream = b"".join(
        (f"__REALTIME_TIMESTAMP={1_700_000_000_000_000 + i * 1_000_000}\n__MONOTONIC_TIMESTAMP={i + 1}\n"
         f"_BOOT_ID=0123456789abcdef0123456789abcdef\n_HOSTNAME=box\n_SYSTEMD_UNIT={unit}.service\n"
         f"SYSLOG_IDENTIFIER={unit}\nMESSAGE={message}\n\n").encode()
        for i, (unit, message) in enumerate(entries)
    )
    subprocess.run([JOURNAL_REMOTE, "-o", str(folder / "remote.journal"), "-"], input=stream,
                   check=True, capture_output=True)
    return folder


async def test_journal_export_has_the_units_lines_only(tmp_path: Path, log_folder: Path) -> None:
    journal = _journal(tmp_path / "journal", [("smeshbox", "drive adopted"), ("sshd", "someone logged in"),
                                              ("smeshbox", "proof published")])
    service = ApplianceLogs(log_folder, JournalExport(directory=journal, export_dir=tmp_path / "out"))
    assert service.names() == [EXPORT_NAME, "smeshbox.log", "smeshbox.log.1"]
    path = await service.path(EXPORT_NAME)
    assert path == tmp_path / "out" / EXPORT_NAME and not path.is_relative_to(log_folder)
    lines = path.read_text().splitlines()
    assert [line.split(": ", 1)[1] for line in lines] == ["drive adopted", "proof published"]
    assert all(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} box smeshbox", line) for line in lines)


async def test_journal_export_keeps_the_newest_lines_under_the_cap(tmp_path: Path, log_folder: Path) -> None:
    journal = _journal(tmp_path / "journal", [("smeshbox", f"message {i:04d}") for i in range(300)])
    export = JournalExport(directory=journal, export_dir=tmp_path / "out", max_bytes=2048)
    data = (await ApplianceLogs(log_folder, export).path(EXPORT_NAME)).read_bytes()
    assert len(data) <= 2048
    lines = data.decode().splitlines()
    assert lines[0].startswith("-- older journal lines left out")
    numbers = [int(line.rsplit(" ", 1)[1]) for line in lines[1:]]
    assert numbers[-1] == 299 and numbers == list(range(numbers[0], 300)) and numbers[0] > 0


def _fake_journalctl(tmp_path: Path, body: str) -> str:
    script = tmp_path / "journalctl"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)
    return str(script)


@pytest.mark.parametrize(("body", "message"), [
    ("echo 'Failed to open journal: broken' >&2; exit 1",
     "journalctl failed (1): Failed to open journal: broken"),
    ("exec sleep 30", "took longer than 0s"),
])
async def test_a_failing_journalctl_is_a_clear_unavailable(tmp_path: Path, log_folder: Path, body: str,
                                                           message: str) -> None:
    (tmp_path / "journal").mkdir()
    export = JournalExport(directory=tmp_path / "journal", journalctl=_fake_journalctl(tmp_path, body),
                           export_dir=tmp_path / "out", timeout=0.3)
    service = ApplianceLogs(log_folder, export)
    with pytest.raises(ServiceError, match=re.escape(message)) as err:
        await service.path(EXPORT_NAME)
    assert err.value.kind == "unavailable"
    assert not (tmp_path / "out" / EXPORT_NAME).exists()


def test_the_system_journal_command_is_the_documented_one() -> None:
    if shutil.which("journalctl") is None:
        pytest.skip("journalctl is not installed")
    cmd = JournalExport().command()
    assert cmd[1:] == ["-u", "smeshbox", "--no-pager", "-o", "short-iso"]
