################################################################################
#
# python-amqp
#
################################################################################

PYTHON_AMQP_VERSION = 5.4.2
PYTHON_AMQP_SOURCE = amqp-$(PYTHON_AMQP_VERSION).tar.gz
PYTHON_AMQP_SITE = https://files.pythonhosted.org/packages/4b/46/64c69cdd9705a5b312920cf76c3cb7c2c4718ffeafbfbcf87a842890765e
PYTHON_AMQP_SETUP_TYPE = setuptools
PYTHON_AMQP_LICENSE = BSD-3-Clause
PYTHON_AMQP_LICENSE_FILES = LICENSE

$(eval $(python-package))
