"""Wi-Fi setup in the booted image, with simulated radios (mac80211_hwsim) and real software all the
way: NetworkManager and the daemon on the box, hostapd + dnsmasq as the "home" access point, and a
"phone" (wpa_supplicant in its own network namespace, tests/image/phone.py for DHCP, DNS and HTTP).

The box loses its cable, so after the (shortened) grace period it opens Smeshbox-Setup-XXXX; the
phone joins it, gets DHCP, resolves the probe hosts through the captive DNS, is redirected to the
portal by the three probe URLs, sends a wrong then the right home password, reads the box's new
address, moves to the home network and reaches the box there. The box has two radios here, as a
board with a USB dongle would: the hotspot stays up while it joins (the one-radio path, where the
hotspot pauses, is covered on the host in tests/hostnet/test_setup.py)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .conftest import ARTIFACTS
from .qemu import Vm

pytestmark = [pytest.mark.qemu, pytest.mark.slow, pytest.mark.root, pytest.mark.timeout(1200)]
PY = "/opt/smeshbox/venv/bin/python"
HOME_PSK = "correct horse battery"
PHONE = Path(__file__).with_name("phone.py")


@pytest.fixture(scope="module")
def box(image: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Vm]:
    import os
    import subprocess

    work = tmp_path_factory.mktemp("wifi-vm")
    disk = work / "disk.img"
    subprocess.run(["cp", "--sparse=always", str(image / "disk.img"), str(disk)], check=True)
    os.truncate(disk, disk.stat().st_size + 256 * 1024**2)
    machine = Vm(disk, work, ARTIFACTS, name="wifi")
    machine.boot()
    try:
        machine.wait_for_agent()
        yield machine
    finally:
        machine.shutdown()


def sh(vm: Vm, command: str, timeout: float = 120.0) -> str:
    done = vm.agent.run(command, timeout)
    assert done.code == 0, f"{command}: exit {done.code}\n{done.out}\n{done.err}"
    return done.out


def until(what: str, check: Callable[[], object], timeout: float = 120.0, every: float = 2.0) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


def phone(vm: Vm, *args: str, timeout: float = 60.0) -> dict | list:
    quoted = " ".join("'" + a.replace("'", "'\\''") + "'" for a in args)
    return json.loads(sh(vm, f"ip netns exec phone {PY} /tmp/phone.py {quoted}", timeout))


def portal_status(vm: Vm) -> dict | None:
    done = vm.agent.run(f"ip netns exec phone {PY} /tmp/phone.py get http://10.42.0.1/portal/api/status", 40)
    if done.code != 0:
        return None
    reply = json.loads(done.out)
    return json.loads(reply["body"]) if reply["status"] == 200 else None


def test_phone_sets_up_wifi_through_the_captive_portal(box: Vm) -> None:
    try:
        _setup_through_the_portal(box)
    except BaseException:
        # What the box and the radios said, for whoever reads the failure.
        logs = box.agent.run("journalctl -b --no-pager -u NetworkManager -u smeshbox -u wpa_supplicant "
                             "| tail -400; cat /tmp/hostapd.log /tmp/wpa-phone.log", 60)
        (ARTIFACTS / "wifi-journal.log").write_text(logs.out + logs.err)
        raise


def _setup_through_the_portal(vm: Vm) -> None:
    started = time.monotonic()
    until("the daemon", lambda: vm.agent.run("systemctl is-active smeshbox.service").out.strip() == "active",
          timeout=300)
    encoded = base64.b64encode(PHONE.read_bytes()).decode()
    sh(vm, f"echo {encoded} | base64 -d > /tmp/phone.py")

    # Four simulated radios: two stay with the box, one is the phone's, one the home AP's.
    sh(vm, "modprobe mac80211_hwsim radios=4")
    phys = until("4 radios", lambda: sorted(vm.agent.run(
        "for p in /sys/class/ieee80211/*; do echo $(basename $p) $(ls $p/device/net); done").out.split("\n")),
        timeout=30, every=1)
    pairs = [line.split() for line in phys if len(line.split()) == 2]  # type: ignore[union-attr]
    assert len(pairs) == 4, pairs
    (phone_phy, phone_if), (home_phy, home_if) = pairs[2], pairs[3]
    sh(vm, f"ip netns add phone && ip netns add home && iw phy {phone_phy} set netns name phone && "
           f"iw phy {home_phy} set netns name home && ip -n phone link set lo up")

    # The home access point: hostapd (WPA2-PSK) with dnsmasq's DHCP, already up when the box scans.
    sh(vm, "cat > /tmp/home.conf <<'EOF'\n"
           f"interface={home_if}\ndriver=nl80211\nssid=HomeNet\nhw_mode=g\nchannel=6\nwpa=2\n"
           f"wpa_key_mgmt=WPA-PSK\nrsn_pairwise=CCMP\nwpa_passphrase={HOME_PSK}\nEOF\n"
           f"ip -n home link set {home_if} up && ip -n home addr add 192.168.77.1/24 dev {home_if} && "
           "ip netns exec home hostapd -B -P /run/hostapd-home.pid /tmp/home.conf "
           ">/tmp/hostapd.log 2>&1 </dev/null && "
           f"ip netns exec home dnsmasq --no-resolv --port=0 --interface={home_if} --bind-interfaces "
           "--dhcp-range=192.168.77.50,192.168.77.99,1h --dhcp-leasefile=/tmp/home.leases "
           "--pid-file=/run/dnsmasq-home.pid --conf-file=/dev/null >/tmp/dnsmasq-home.log 2>&1 </dev/null")

    # The cable goes: after the grace period (shortened through hostnet.json) the hotspot opens.
    sh(vm, "echo '{\"grace_s\": 10, \"check_s\": 2}' > /var/lib/smeshbox/hostnet.json")
    eth = sh(vm, "nmcli -t -f DEVICE,TYPE device | sed -n 's/:ethernet$//p' | head -1").strip()
    sh(vm, f"nmcli device set {eth} autoconnect no && nmcli device disconnect {eth}")
    sh(vm, "systemctl restart smeshbox.service", timeout=300)
    until("the hotspot", lambda: "10.42.0.1/" in vm.agent.run("ip -4 -o addr show").out, timeout=180)
    hotspot_up = time.monotonic() - started
    box_id = sh(vm, "cat /var/lib/smeshbox/box-id").strip()
    ssid = f"Smeshbox-Setup-{box_id[-4:].upper()}"
    password = json.loads(sh(vm, "cat /var/lib/smeshbox/hotspot.json"))["password"]

    # The phone joins the hotspot (the home network is known to it but not chosen yet).
    sh(vm, "cat > /tmp/phone.conf <<'EOF'\nctrl_interface=/run/wpa-phone\n"
           f'network={{\n ssid="{ssid}"\n psk="{password}"\n key_mgmt=WPA-PSK\n}}\n'
           f'network={{\n ssid="HomeNet"\n psk="{HOME_PSK}"\n key_mgmt=WPA-PSK\n disabled=1\n}}\nEOF\n'
           f"ip netns exec phone wpa_supplicant -B -i {phone_if} -c /tmp/phone.conf -P /run/wpa-phone.pid "
           ">/tmp/wpa-phone.log 2>&1 </dev/null")
    wpa = f"ip netns exec phone wpa_cli -p /run/wpa-phone -i {phone_if}"
    until("the phone on the hotspot", lambda: f"ssid={ssid}" in vm.agent.run(f"{wpa} status").out
          and "wpa_state=COMPLETED" in vm.agent.run(f"{wpa} status").out, timeout=90)
    lease = phone(vm, "dhcp", phone_if)
    assert lease["address"].startswith("10.42.0.") and lease["dns"] == "10.42.0.1"  # type: ignore[index,union-attr]
    sh(vm, f"ip -n phone addr add {lease['address']}/{lease['prefix']} dev {phone_if}")  # type: ignore[index]

    # Captive DNS and the probes: the phone's browser is sent to the setup page by itself.
    for host, path in (("connectivitycheck.gstatic.com", "/generate_204"),
                       ("captive.apple.com", "/hotspot-detect.html"),
                       ("www.msftconnecttest.com", "/connecttest.txt")):
        assert phone(vm, "dns", "10.42.0.1", host) == ["10.42.0.1"]
        probe = phone(vm, "get", f"http://10.42.0.1{path}", host)
        assert probe["status"] == 302 and probe["location"] == "http://10.42.0.1/portal/", probe  # type: ignore[index]
    page = phone(vm, "get", "http://10.42.0.1/portal/")
    assert page["status"] == 200 and "Wi-Fi setup" in page["body"]  # type: ignore[index,operator]

    status = until("the scan list", lambda: portal_status(vm), timeout=60)
    if not any(n["ssid"] == "HomeNet" for n in status["networks"]):  # type: ignore[index]
        phone(vm, "post", "http://10.42.0.1/portal/api/rescan", "{}")
    status = until("HomeNet in the list", lambda: (s := portal_status(vm)) and any(
        n["ssid"] == "HomeNet" for n in s["networks"]) and s, timeout=60)

    # A wrong password: back to the list with the reason; the hotspot stays.
    reply = phone(vm, "post", "http://10.42.0.1/portal/api/join",
                  json.dumps({"ssid": "HomeNet", "password": "not the password"}))
    assert reply["status"] == 202, reply  # type: ignore[index]
    failed = until("the wrong-password answer", lambda: (s := portal_status(vm)) and s["state"] == "failed"
                   and s, timeout=150)
    assert "password" in failed["reason"], failed  # type: ignore[index]

    # The right one: the box joins and says where it is now.
    reply = phone(vm, "post", "http://10.42.0.1/portal/api/join",
                  json.dumps({"ssid": "HomeNet", "password": HOME_PSK}))
    assert reply["status"] == 202, reply  # type: ignore[index]
    joined = until("the join", lambda: (s := portal_status(vm)) and s["state"] == "joined" and s, timeout=150)
    address = joined["next_address"]  # type: ignore[index]
    assert address.startswith("192.168.77.") and joined["next_url"] == "http://smeshbox.local"  # type: ignore[index]
    assert "smeshbox-wifi HomeNet" in sh(vm, "nmcli -t -f NAME connection show")

    # The phone goes home too and reaches the box there.
    sh(vm, f"{wpa} select_network 1 && ip -n phone addr flush dev {phone_if}")
    until("the phone at home", lambda: "ssid=HomeNet" in (out := vm.agent.run(f"{wpa} status").out)
          and "wpa_state=COMPLETED" in out, timeout=90)
    home_lease = phone(vm, "dhcp", phone_if)
    sh(vm, f"ip -n phone addr add {home_lease['address']}/{home_lease['prefix']} dev {phone_if}")  # type: ignore[index]
    health = phone(vm, "get", f"http://{address}/api/v1/health")
    assert health["status"] == 200 and json.loads(health["body"])["status"], health  # type: ignore[index,arg-type]
    print(f"\nwifi test: hotspot up {hotspot_up:.0f} s after the test began, done in "
          f"{time.monotonic() - started:.0f} s")
