package kannel

// smppErrorText is how Kannel names an SMPP command_status in the %A of a
// rejected submit ("NACK/0x0000000b/Invalid Destination Address"): the
// descriptions of SMPP 3.4 §5.1.3 (and 5.0 §4.7.6) as Kannel 1.4 spells
// them. Checked against Debian's Kannel in make interop.
var smppErrorText = map[uint32]string{
	0x00: "OK", 0x01: "Message Length is invalid", 0x02: "Command Length is invalid",
	0x03: "Invalid Command ID", 0x04: "Incorrect BIND Status for given command",
	0x05: "ESME Already in Bound State", 0x06: "Invalid Priority Flag",
	0x07: "Invalid Registered Delivery Flag", 0x08: "System Error", 0x0A: "Invalid Source Address",
	0x0B: "Invalid Destination Address", 0x0D: "Bind Failed", 0x0E: "Invalid Password",
	0x0F: "Invalid System ID", 0x11: "Cancel SM Failed", 0x13: "Replace SM Failed",
	0x14: "Message Queue Full", 0x15: "Invalid Service Type", 0x33: "Invalid number of destinations",
	0x34: "Invalid Distribution List Name", 0x40: "Destination flag is invalid",
	0x42: "Submit w/replace not supported/allowed", 0x43: "Invalid esm_class field data",
	0x44: "Cannot Submit to Distribution List", 0x45: "Submit failed",
	0x48: "Invalid Source address TON", 0x49: "Invalid Source address NPI",
	0x50: "Invalid Destination address TON", 0x51: "Invalid Destination address NPI",
	0x53: "Invalid system_type field", 0x54: "Invalid replace_if_present flag",
	0x55: "Invalid number of messages", 0x58: "Throttling error", 0x61: "Invalid Scheduled Delivery Time",
	0x62: "Invalid message validity period",
	0x63: "Predefined Message ID is Invalid or specific predefined message was not found",
	0x64: "ESME Receiver Temporary App Error Code", 0x65: "ESME Receiver Permanent App Error Code",
	0x66: "ESME Receiver Reject Message Error Code", 0x67: "query_sm request failed",
	0xC0: "Error in optional part of the PDU Body", 0xC1: "TLV not allowed", 0xC2: "Invalid Parameter Length",
	0xC3: "Expected TLV missing", 0xC4: "Invalid TLV value", 0xFE: "Transaction Delivery Failure",
	0xFF: "Unknown Error", 0x100: "ESME Not authorized to use specified service_type",
	0x101: "ESME Prohibited from using specified operation", 0x102: "Specified service_type is unavailable",
	0x103: "Specified service_type is denied", 0x104: "Invalid Data Coding Scheme",
	0x105: "Source Address Sub unit is invalid", 0x106: "Destination Address Sub unit is invalid",
}

// smppError returns Kannel's text for command_status c.
func smppError(c uint32) string {
	if s, ok := smppErrorText[c]; ok {
		return s
	}
	if c >= 0x400 && c <= 0x4FF {
		return "Vendor-specific error, please refer to your SMPP provider"
	}
	return "Unknown/Reserved"
}
