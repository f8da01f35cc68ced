#!/usr/bin/env bash
# Buildroot post-image: assemble sdcard.img with genimage from the board's config.
# Args: $1 = BINARIES_DIR, $2 = board (rpi4 | rpi5).
set -euo pipefail
BINARIES=$1
BOARD=$2
EXTERNAL=$(cd "$(dirname "$0")/../.." && pwd)
BOARD_DIR=$EXTERNAL/board/$BOARD
GENIMAGE_TMP=$BUILD_DIR/genimage.tmp

# An empty data filesystem, grown to the medium on first boot (smeshbox-firstboot.service).
rm -f "$BINARIES/data.ext4"
mkdir -p "$BINARIES/data-seed/var/log/journal" "$BINARIES/data-seed/var/lib/systemd" \
    "$BINARIES/data-seed/var/lib/smeshbox" "$BINARIES/data-seed/etc/smeshbox" "$BINARIES/data-seed/rauc"
mke2fs -q -t ext4 -b 4096 -m 0 -L data -d "$BINARIES/data-seed" "$BINARIES/data.ext4" 128M

if [ "$BOARD" = rpi4 ]; then
    cp "$BOARD_DIR/config.txt" "$BINARIES/rpi-firmware/config.txt"
else
    cp "$BOARD_DIR/autoboot.txt" "$BINARIES/autoboot.txt"
    for slot in A B; do
        sed "s/@SLOT@/$slot/" "$BOARD_DIR/cmdline.txt" >"$BINARIES/cmdline-$slot.txt"
    done
fi

rm -rf "$GENIMAGE_TMP"
genimage --rootpath "$TARGET_DIR" --tmppath "$GENIMAGE_TMP" --inputpath "$BINARIES" \
    --outputpath "$BINARIES" --config "$BOARD_DIR/genimage.cfg"
