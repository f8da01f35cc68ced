################################################################################
#
# python-blake3
#
################################################################################

PYTHON_BLAKE3_VERSION = 1.0.11
PYTHON_BLAKE3_SOURCE_PYPI = blake3-$(PYTHON_BLAKE3_VERSION).tar.gz
PYTHON_BLAKE3_SITE_PYPI = https://files.pythonhosted.org/packages/24/fd/1ad6581856cbd018072b2b5debf9d8aa3928b579bedd5d170b60e5a20256
PYTHON_BLAKE3_SITE = $(PYTHON_BLAKE3_SITE_PYPI)/$(PYTHON_BLAKE3_SOURCE_PYPI)?buildroot-path=filename
PYTHON_BLAKE3_SETUP_TYPE = maturin
PYTHON_BLAKE3_LICENSE = CC0-1.0 or Apache-2.0
PYTHON_BLAKE3_LICENSE_FILES = LICENSE

$(eval $(python-package))
