################################################################################
#
# python-ijson
#
################################################################################

PYTHON_IJSON_VERSION = 3.6.0
PYTHON_IJSON_SOURCE = ijson-$(PYTHON_IJSON_VERSION).tar.gz
PYTHON_IJSON_SITE = https://files.pythonhosted.org/packages/75/61/4066af787ed25bfca02c3edd2d7fd489b1b5ca27b54b400b187e5f2865e7
PYTHON_IJSON_SETUP_TYPE = setuptools
PYTHON_IJSON_LICENSE = BSD-3-Clause, ISC (yajl)
PYTHON_IJSON_LICENSE_FILES = LICENSE.txt
PYTHON_IJSON_DEPENDENCIES = yajl
# the sdist has no embedded yajl: build the C extension against Buildroot's yajl, and fail
# rather than fall back silently to the pure-Python backend
PYTHON_IJSON_ENV = IJSON_BUILD_YAJL2C=1

$(eval $(python-package))
