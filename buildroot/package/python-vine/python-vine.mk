################################################################################
#
# python-vine
#
################################################################################

PYTHON_VINE_VERSION = 5.1.0
PYTHON_VINE_SOURCE = vine-$(PYTHON_VINE_VERSION).tar.gz
PYTHON_VINE_SITE = https://files.pythonhosted.org/packages/bd/e4/d07b5f29d283596b9727dd5275ccbceb63c44a1a82aa9e4bfd20426762ac
PYTHON_VINE_SETUP_TYPE = setuptools
PYTHON_VINE_LICENSE = BSD-3-Clause
PYTHON_VINE_LICENSE_FILES = LICENSE

$(eval $(python-package))
