################################################################################
#
# python-billiard
#
################################################################################

PYTHON_BILLIARD_VERSION = 4.3.2
PYTHON_BILLIARD_SOURCE = billiard-$(PYTHON_BILLIARD_VERSION).tar.gz
PYTHON_BILLIARD_SITE = https://files.pythonhosted.org/packages/96/ba/4ee8c6d14b3e9b5ce89b5b070f1352e6cadefde3f6bc36afcfee5e7158a2
PYTHON_BILLIARD_SETUP_TYPE = setuptools
PYTHON_BILLIARD_LICENSE = BSD-3-Clause
PYTHON_BILLIARD_LICENSE_FILES = LICENSE.txt

$(eval $(python-package))
