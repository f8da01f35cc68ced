################################################################################
#
# python-kombu
#
################################################################################

PYTHON_KOMBU_VERSION = 5.7.0
PYTHON_KOMBU_SOURCE = kombu-$(PYTHON_KOMBU_VERSION).tar.gz
PYTHON_KOMBU_SITE = https://files.pythonhosted.org/packages/57/31/3e632ebce43c684dcc6eead4660b33307e6153be87e33c14e1ed9875deff
PYTHON_KOMBU_SETUP_TYPE = setuptools
PYTHON_KOMBU_LICENSE = BSD-3-Clause
PYTHON_KOMBU_LICENSE_FILES = LICENSE

$(eval $(python-package))
