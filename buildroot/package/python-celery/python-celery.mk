################################################################################
#
# python-celery
#
################################################################################

PYTHON_CELERY_VERSION = 5.4.0
PYTHON_CELERY_SOURCE = celery-$(PYTHON_CELERY_VERSION).tar.gz
PYTHON_CELERY_SITE = https://files.pythonhosted.org/packages/8a/9c/cf0bce2cc1c8971bf56629d8f180e4ca35612c7e79e6e432e785261a8be4
PYTHON_CELERY_SETUP_TYPE = setuptools
PYTHON_CELERY_LICENSE = BSD-3-Clause
PYTHON_CELERY_LICENSE_FILES = LICENSE

$(eval $(python-package))
