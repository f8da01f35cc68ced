"""Wi-Fi network names as a person sees them. An SSID is up to 32 arbitrary bytes, not text: valid
UTF-8 is shown as it is (control characters escaped), anything else byte by byte as ``\\xNN``, so a
name with odd bytes is still shown, told apart from its neighbours, and joined by its exact bytes
(the hex form travels with it)."""

from __future__ import annotations

MAX_SSID = 32


def ssid_text(raw: bytes) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "".join(chr(b) if 0x20 <= b < 0x7F and b != 0x5C else f"\\x{b:02x}" for b in raw)
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)


def parse_ssid(ssid: str | None, ssid_hex: str | None) -> bytes:
    """The exact bytes a person picked: ``ssid_hex`` (from a scan) wins over the typed name."""
    if ssid_hex:
        try:
            raw = bytes.fromhex(ssid_hex)
        except ValueError as exc:
            raise ValueError("ssid_hex is not hexadecimal") from exc
    elif ssid:
        raw = ssid.encode("utf-8")
    else:
        raise ValueError("name the network to join")
    if not 1 <= len(raw) <= MAX_SSID:
        raise ValueError(f"a Wi-Fi network name is 1 to {MAX_SSID} bytes")
    return raw
