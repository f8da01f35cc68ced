"""The OTA record survives restarts and never takes the box down when it is damaged."""

from __future__ import annotations

from pathlib import Path

from appliance.ota.state import OtaRecord, OtaResult, OtaStore, Pending


def test_round_trip_and_history_cap(tmp_path: Path) -> None:
    store = OtaStore(tmp_path)
    record = OtaRecord(security_epoch=3, pending=Pending("1", "2", "A", "B", "installed", 3, ("/media/a",)))
    store.save(record)
    assert store.load() == record
    for n in range(OtaStore.HISTORY + 5):
        record = store.record_result(record, OtaResult("1", str(n), "success", "ok", at=1.0))
    loaded = store.load()
    assert loaded.pending is None and loaded.last_result == OtaResult("1", "24", "success", "ok", at=1.0)
    assert len(loaded.history) == OtaStore.HISTORY and loaded.security_epoch == 3


def test_missing_record_is_empty(tmp_path: Path) -> None:
    assert OtaStore(tmp_path / "none").load() == OtaRecord()


def test_damaged_record_is_kept_aside_and_reported(tmp_path: Path) -> None:
    store = OtaStore(tmp_path)
    store.path.write_text('{"pending": {"unexpected": 1}}')
    record = store.load()
    assert record.pending is None
    assert record.last_result is not None and record.last_result.outcome == "failed"
    kept = list(tmp_path.glob("state.broken-*.json"))
    assert len(kept) == 1 and "unexpected" in kept[0].read_text()
    store.path.write_text("{not json")
    assert "unreadable" in store.load().last_result.reason  # type: ignore[union-attr]
