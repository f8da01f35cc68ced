################################################################################
#
# python-dnslib
#
################################################################################

PYTHON_DNSLIB_VERSION = 0.9.26
PYTHON_DNSLIB_SOURCE = dnslib-$(PYTHON_DNSLIB_VERSION).tar.gz
PYTHON_DNSLIB_SITE = https://files.pythonhosted.org/packages/a2/71/269f74ef9bc8ca453af2e1768d4f4c8e7ef5f894d058d27fd1b69c754d7f
PYTHON_DNSLIB_SETUP_TYPE = setuptools
PYTHON_DNSLIB_LICENSE = BSD-2-Clause
PYTHON_DNSLIB_LICENSE_FILES = LICENSE

$(eval $(python-package))
