#!/bin/sh
# RAUC custom bootloader backend for the Raspberry Pi 5 "tryboot" A/B mechanism.
#   get-primary | set-primary SLOT | get-state SLOT | set-state SLOT good|bad | get-current
# Slots are RAUC bootnames A/B = boot partitions 2/3. set-primary on the other slot points
# [tryboot] at it and arms a one-shot tryboot for the next reboot (systemd's reboot-param);
# mark-good from the tried slot commits it to [all]. Bad states persist on the data partition.
set -eu
AUTOBOOT=${AUTOBOOT:-/boot/autoboot.txt}
STATE=${STATE:-/data/rauc/tryboot-bad}
REBOOT_PARAM=${REBOOT_PARAM:-/run/systemd/reboot-param}
CMDLINE=${CMDLINE:-/proc/cmdline}

part_of() { case "$1" in A) echo 2 ;; B) echo 3 ;; *) echo "unknown slot $1" >&2; exit 1 ;; esac; }
slot_of() { case "$1" in 2) echo A ;; 3) echo B ;; *) echo "unknown partition $1" >&2; exit 1 ;; esac; }
section_value() { # section key
    awk -v s="[$1]" -v k="$2" '$0 == s {in_s = 1; next} /^\[/ {in_s = 0}
        in_s && index($0, k "=") == 1 {print substr($0, length(k) + 2)}' "$AUTOBOOT"
}
write_autoboot() { # all_part try_part
    tmp="$AUTOBOOT.tmp"
    printf '[all]\ntryboot_a_b=1\nboot_partition=%s\n[tryboot]\nboot_partition=%s\n' "$1" "$2" >"$tmp"
    sync "$tmp"
    mv "$tmp" "$AUTOBOOT"
    sync "$(dirname "$AUTOBOOT")"
}
current() { sed -n 's/.*rauc\.slot=\([AB]\).*/\1/p' "$CMDLINE"; }
is_bad() { [ -f "$STATE" ] && grep -qx "$1" "$STATE"; }
set_bad() {
    mkdir -p "$(dirname "$STATE")"
    { [ -f "$STATE" ] && grep -vx "$1" "$STATE"; echo "$1"; } >"$STATE.tmp" || true
    mv "$STATE.tmp" "$STATE"
}
clear_bad() {
    [ -f "$STATE" ] || return 0
    grep -vx "$1" "$STATE" >"$STATE.tmp" || true
    mv "$STATE.tmp" "$STATE"
}

committed=$(section_value all boot_partition)
case "${1:-}" in
get-primary)
    slot_of "$committed" ;;
set-primary)
    want=$(part_of "$2")
    clear_bad "$2"
    if [ "$want" = "$committed" ]; then
        write_autoboot "$committed" "$committed"
    else
        write_autoboot "$committed" "$want"
        mkdir -p "$(dirname "$REBOOT_PARAM")"
        echo "0 tryboot" >"$REBOOT_PARAM"
    fi ;;
get-state)
    if is_bad "$2"; then echo bad; else echo good; fi ;;
set-state)
    if [ "$3" = bad ]; then
        set_bad "$2"
        rm -f "$REBOOT_PARAM"
    else
        clear_bad "$2"
        # Marking the slot we run good commits it: the next plain boot starts it again.
        if [ "$2" = "$(current)" ]; then write_autoboot "$(part_of "$2")" "$(part_of "$2")"; fi
    fi ;;
get-current)
    current ;;
*)
    echo "usage: $0 get-primary|set-primary SLOT|get-state SLOT|set-state SLOT good|bad|get-current" >&2
    exit 1 ;;
esac
