package pdu

// esm_class bits (SMPP 3.4 §5.2.12, smpp.md §4.1).
const (
	ESMClassModeMask          uint8 = 0x03 // messaging mode bits 1–0
	ESMClassDefaultMode       uint8 = 0x00 // SMSC default mode
	ESMClassDatagram          uint8 = 0x01 // datagram mode
	ESMClassForward           uint8 = 0x02 // forward (transaction) mode
	ESMClassStoreForward      uint8 = 0x03 // store and forward mode
	ESMClassTypeMask          uint8 = 0x3C // message type bits 5–2
	ESMClassReceipt           uint8 = 0x04 // SMSC delivery receipt (deliver_sm)
	ESMClassSMEAck            uint8 = 0x08 // SME delivery acknowledgement
	ESMClassUserAck           uint8 = 0x10 // SME manual/user acknowledgement
	ESMClassConversationAbort uint8 = 0x18 // conversation abort (Korean CDMA)
	ESMClassIntermediate      uint8 = 0x20 // intermediate delivery notification
	ESMClassUDHI              uint8 = 0x40 // short_message starts with a UDH
	ESMClassReplyPath         uint8 = 0x80 // GSM reply path
)

// IsReceipt reports whether a deliver_sm/data_sm esm_class marks a delivery
// receipt: message type (esm_class & ESMClassTypeMask) is ESMClassReceipt or
// ESMClassIntermediate. Other bits (UDHI: 0x44) are ignored. Callers that
// also want SME acks (0x08, as Kannel accepts) test the type themselves.
func IsReceipt(esmClass uint8) bool {
	t := esmClass & ESMClassTypeMask
	return t == ESMClassReceipt || t == ESMClassIntermediate
}

// registered_delivery bits (SMPP 3.4 §5.2.17, smpp.md §4.2).
const (
	RegisteredDeliveryMask         uint8 = 0x03 // SMSC receipt bits 1–0
	RegisteredDeliveryNone         uint8 = 0x00 // no SMSC receipt
	RegisteredDeliveryReceipt      uint8 = 0x01 // receipt on final outcome
	RegisteredDeliveryFailure      uint8 = 0x02 // receipt on failure only
	RegisteredDeliverySMEAck       uint8 = 0x04 // SME delivery acknowledgement
	RegisteredDeliveryManualAck    uint8 = 0x08 // SME manual/user acknowledgement
	RegisteredDeliveryIntermediate uint8 = 0x10 // intermediate notification
)

// InterfaceVersion34 is the interface_version / sc_interface_version value
// for SMPP 3.4. Always bind with it (smpp.md §8 #3).
const InterfaceVersion34 uint8 = 0x34

// submit_multi dest_flag values (SMPP 3.4 §5.2.25).
const (
	DestFlagSME uint8 = 1 // SME address
	DestFlagDL  uint8 = 2 // distribution list name
)
