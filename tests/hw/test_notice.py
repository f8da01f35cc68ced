"""Notice screens on the simulated panel: the setup hotspot's Wi-Fi-join QR code decodes (zxing-cpp)
to the payload phones' cameras understand, with the name and password beside it."""

from __future__ import annotations

import zxingcpp

from appliance.hostnet.credentials import HotspotCredentials
from appliance.hostnet.setup import SetupStatus, screen_notice
from appliance.hw.screen import DisplayStatus, render_status
from tests.hw.test_screen import show_on_panel

CREDS = HotspotCredentials("Smeshbox-Setup-C0DE", "k3yforthebox")


def test_hotspot_notice_qr_joins_the_hotspot(tmp_path) -> None:  # type: ignore[no-untyped-def]
    lines, qr = screen_notice(SetupStatus(state="open"), CREDS)
    assert qr == "WIFI:S:Smeshbox-Setup-C0DE;T:WPA;P:k3yforthebox;;"
    assert "k3yforthebox" in lines and "Setup-C0DE" in lines
    png = show_on_panel(DisplayStatus(url="http://10.42.0.1/", notice=lines, qr=qr), "horizontal", tmp_path)
    assert [r.text for r in zxingcpp.read_barcodes(png)] == [qr]


def test_special_characters_are_escaped_in_the_payload() -> None:
    assert HotspotCredentials('a;b:c"', "p\\w,d").wifi_qr() == 'WIFI:S:a\\;b\\:c\\";T:WPA;P:p\\\\w\\,d;;'


def test_notice_replaces_the_status_lines_and_clears() -> None:
    normal = DisplayStatus(url="http://10.0.0.2/")
    assert render_status(DisplayStatus(url="http://10.0.0.2/", notice=("Factory reset", "cancelled"))) \
        != render_status(normal)
    lines, qr = screen_notice(SetupStatus(state="idle"), CREDS)
    assert lines == () and qr == ""
    assert render_status(DisplayStatus(url="http://10.0.0.2/", notice=lines)) == render_status(normal)
