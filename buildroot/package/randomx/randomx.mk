################################################################################
#
# randomx
#
################################################################################

RANDOMX_VERSION = v1.2.1
RANDOMX_SITE = $(call github,tevador,RandomX,$(RANDOMX_VERSION))
RANDOMX_LICENSE = BSD-3-Clause
RANDOMX_LICENSE_FILES = LICENSE
RANDOMX_INSTALL_STAGING = YES
RANDOMX_CONF_OPTS = -DARCH=native -DBUILD_SHARED_LIBS=ON

$(eval $(cmake-package))
