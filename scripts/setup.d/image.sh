#!/usr/bin/env bash
# image/: lets the arm64 chroot run under qemu-user (binfmt_misc with the F flag). Idempotent and
# fast when already done; harmless without root (the image tests then skip with a reason).
set -euo pipefail
[ "$(id -u)" = 0 ] || exit 0
command -v update-binfmts >/dev/null || exit 0
if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null || exit 0
fi
if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
    update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
fi
