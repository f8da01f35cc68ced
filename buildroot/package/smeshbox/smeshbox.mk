################################################################################
#
# smeshbox — this repository, built in place (local site) with its cffi native core
#
################################################################################

SMESHBOX_VERSION = local
SMESHBOX_SITE = $(BR2_EXTERNAL_SMESHBOX_PATH)/..
SMESHBOX_SITE_METHOD = local
SMESHBOX_LICENSE = MIT
SMESHBOX_SETUP_TYPE = setuptools
SMESHBOX_DEPENDENCIES = host-python-cffi randomx

# The shared overlay's units start /opt/smeshbox/venv/bin/python (the Debian image's venv); here
# the package lives in the system interpreter, so that path points at it.
define SMESHBOX_INSTALL_VENV_LINK
	$(INSTALL) -d $(TARGET_DIR)/opt/smeshbox/venv/bin
	ln -sf /usr/bin/python3 $(TARGET_DIR)/opt/smeshbox/venv/bin/python
endef
SMESHBOX_POST_INSTALL_TARGET_HOOKS += SMESHBOX_INSTALL_VENV_LINK

$(eval $(python-package))
