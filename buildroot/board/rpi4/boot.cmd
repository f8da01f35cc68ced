# U-Boot boot script for RAUC's "uboot" backend (Pi 4): BOOT_ORDER plus a per-slot attempt
# counter BOOT_<slot>_LEFT. Each boot of a slot spends one attempt; `rauc status mark-good`
# (the OTA health gate) refills it. A slot with none left is skipped; with none anywhere, reset.
test -n "${BOOT_ORDER}" || setenv BOOT_ORDER "A B"
test -n "${BOOT_A_LEFT}" || setenv BOOT_A_LEFT 3
test -n "${BOOT_B_LEFT}" || setenv BOOT_B_LEFT 3

setenv bootpart
setenv raucslot
for BOOT_SLOT in "${BOOT_ORDER}"; do
  if test -z "${bootpart}" && test "x${BOOT_SLOT}" = "xA" && test ${BOOT_A_LEFT} -gt 0; then
    setexpr BOOT_A_LEFT ${BOOT_A_LEFT} - 1
    setenv bootpart 2
    setenv raucslot A
  fi
  if test -z "${bootpart}" && test "x${BOOT_SLOT}" = "xB" && test ${BOOT_B_LEFT} -gt 0; then
    setexpr BOOT_B_LEFT ${BOOT_B_LEFT} - 1
    setenv bootpart 3
    setenv raucslot B
  fi
done

if test -z "${bootpart}"; then
  echo "smeshbox: no slot has attempts left, resetting the counters"
  setenv BOOT_A_LEFT 3
  setenv BOOT_B_LEFT 3
  saveenv
  reset
fi
saveenv

setenv bootargs "console=ttyS0,115200 console=tty1 root=PARTLABEL=root${raucslot} rootfstype=ext4 ro rootwait panic=10 rauc.slot=${raucslot}"
# The box's persistent machine id (image/overlay/usr/lib/smeshbox/machine-id writes it, checked
# to be 32 hex digits): the read-only root's /etc/machine-id is empty and systemd takes it from here.
if test -n "${smeshbox_machine_id}"; then
  setenv bootargs "${bootargs} systemd.machine_id=${smeshbox_machine_id}"
fi
echo "smeshbox: booting slot ${raucslot}"
load mmc 0:${bootpart} ${kernel_addr_r} /boot/Image
booti ${kernel_addr_r} - ${fdt_addr}
