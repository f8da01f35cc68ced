"""The sampled data check finds a corrupted label and names its file and offset."""

from __future__ import annotations

import pytest

from appliance.post.check import check_data
from appliance.post.initializer import Initializer
from appliance.post.layout import DataFileError
from appliance.post.metadata import read_metadata, write_metadata

pytestmark = pytest.mark.usefixtures("need_labels")


@pytest.fixture
def datadir(tmp_path, make_meta):
    Initializer(tmp_path, make_meta(labels_per_unit=160, num_units=2), scrypt_n=16).run()
    return tmp_path


def test_clean_data_passes(datadir) -> None:
    report = check_data(datadir, 100)
    assert report.ok and report.checked == 320 and report.files == 5 and report.vrf_nonce_ok
    sampled = check_data(datadir, 10, seed=1)
    assert sampled.ok and sampled.checked == 5 * 6  # round(64 × 10%) labels in each of the five files


def test_corrupted_label_is_located(datadir) -> None:
    path = datadir / "postdata_2.bin"
    data = bytearray(path.read_bytes())
    data[17 * 16 + 3] ^= 0x40
    path.write_bytes(bytes(data))
    report = check_data(datadir, 100)
    assert not report.ok and len(report.bad) == 1
    bad = report.bad[0]
    assert (bad.file, bad.offset, bad.index) == ("postdata_2.bin", 17 * 16, 2 * 64 + 17)
    assert bad.found != bad.expected
    assert check_data(datadir, 100, from_file=3, to_file=4).ok
    assert not check_data(datadir, 100, from_file=2, to_file=2).ok
    with pytest.raises(ValueError, match="file range"):
        check_data(datadir, 100, from_file=3, to_file=9)


def test_bad_vrf_nonce_and_missing_file(datadir) -> None:
    meta = read_metadata(datadir)
    from dataclasses import replace

    from appliance.post.labels import commitment
    from appliance.post.native import labels
    from appliance.post.params import vrf_threshold

    com = commitment(meta.node_id, meta.commitment_atx_id)
    above = next(i for i in range(320) if labels(com, 16, i, 1, full=True)[0] >= vrf_threshold(320))
    write_metadata(datadir, replace(meta, nonce=above))
    report = check_data(datadir, 1)
    assert not report.ok and report.vrf_nonce_ok is False and str(above) in report.vrf_error
    (datadir / "postdata_4.bin").unlink()
    with pytest.raises(DataFileError, match=r"postdata_4\.bin: is missing"):
        check_data(datadir, 1)
    with pytest.raises(ValueError, match="percentage"):
        check_data(datadir, 0)
