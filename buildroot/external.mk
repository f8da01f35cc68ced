include $(sort $(wildcard $(BR2_EXTERNAL_SMESHBOX_PATH)/package/*/*.mk))
