#!/bin/sh
# RAUC bundle hook of Pi 5 releases, run for `[image.bootfs] hooks=post-install`.
# The bundle's boot image is slot-neutral: RAUC writes the same image into whichever slot is
# inactive, so its cmdline.txt still holds the board template (root=PARTLABEL=root@SLOT@ ...
# rauc.slot=@SLOT@). Once RAUC has written the image and mounted it at $RAUC_SLOT_MOUNT_POINT, this
# fills in the target slot's letter. Any failure exits non-zero, which fails the install before
# RAUC activates the slot: a boot partition that would mount the wrong root is never booted.
# The box's persistent machine id (/data/etc/machine-id, see image/overlay/usr/lib/smeshbox/machine-id)
# goes onto the new command line too, so the first boot of the new slot keeps the box's id.
set -eu
MACHINE_ID_FILE=${MACHINE_ID_FILE:-/data/etc/machine-id}

die() { echo "bundle-hook: $*" >&2; exit 1; }

[ "${1:-}" = slot-post-install ] || die "called as '${1:-}', only slot-post-install is declared"
[ "${RAUC_SLOT_CLASS:-}" = bootfs ] || die "slot class '${RAUC_SLOT_CLASS:-}' is not bootfs"
mount_point=${RAUC_SLOT_MOUNT_POINT:-}
if [ -z "$mount_point" ] || [ ! -d "$mount_point" ]; then
    die "RAUC_SLOT_MOUNT_POINT '$mount_point' is not a folder"
fi
# A boot slot has no bootname of its own: RAUC passes its parent's (rootfs.N's), A or B. Anything
# else (no parent, an unknown letter) is refused rather than guessed.
slot=${RAUC_SLOT_BOOTNAME:-}
case "${RAUC_SLOT_PARENT:-}:$slot" in
?*:A | ?*:B) ;;
*) die "cannot tell the target slot of ${RAUC_SLOT_NAME:-?}: bootname '$slot', parent '${RAUC_SLOT_PARENT:-}'" ;;
esac
cmdline=$mount_point/cmdline.txt
# No template means the bundle carries a slot-specific boot image: writing it to this slot could
# boot the other slot's root.
grep -q '@SLOT@' "$cmdline" 2>/dev/null || die "$cmdline holds no @SLOT@ template"

tmp=$cmdline.tmp
trap 'rm -f "$tmp"' EXIT
machine_id=$(cat "$MACHINE_ID_FILE" 2>/dev/null || true)
if printf '%s\n' "$machine_id" | grep -Eqx '[0-9a-f]{32}'; then
    sed -e "s/@SLOT@/$slot/g" -e "1s/\$/ systemd.machine_id=$machine_id/" "$cmdline" >"$tmp"
else
    sed "s/@SLOT@/$slot/g" "$cmdline" >"$tmp"
fi
sync "$tmp"
mv "$tmp" "$cmdline"
sync "$mount_point"
echo "bundle-hook: ${RAUC_SLOT_NAME:-boot slot} boots root$slot"
