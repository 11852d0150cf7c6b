package pdu

// ShortMessage is the body of submit_sm and deliver_sm, which share one
// layout (SMPP 3.4 §4.4, §4.6; smpp.md §1.5). sm_length is derived from
// Message on encode. In deliver_sm the time fields, replace_if_present and
// sm_default_msg_id are empty/zero.
type ShortMessage struct {
	ServiceType          string // max 5 characters
	SourceTON            uint8
	SourceNPI            uint8
	SourceAddr           string // max 20 characters
	DestTON              uint8
	DestNPI              uint8
	DestAddr             string // max 20 characters
	ESMClass             uint8  // ESMClass* bits
	ProtocolID           uint8
	PriorityFlag         uint8
	ScheduleDeliveryTime string // "" or 16 characters (smpp.md §4.6)
	ValidityPeriod       string // "" or 16 characters
	RegisteredDelivery   uint8  // RegisteredDelivery* bits
	ReplaceIfPresent     uint8
	DataCoding           uint8
	SMDefaultMsgID       uint8
	Message              []byte // short_message (UDH included when ESMClassUDHI), max 254 octets
	TLVs                 TLVs
}

func (m *ShortMessage) matches(id CommandID) bool { return id == SubmitSM || id == DeliverSM }

func (m *ShortMessage) decode(d *decoder) {
	m.ServiceType = d.cstr("service_type", maxServiceType, StatusInvSerTyp)
	m.SourceTON = d.u8("source_addr_ton")
	m.SourceNPI = d.u8("source_addr_npi")
	m.SourceAddr = d.cstr("source_addr", maxAddr, StatusInvSrcAdr)
	m.DestTON = d.u8("dest_addr_ton")
	m.DestNPI = d.u8("dest_addr_npi")
	m.DestAddr = d.cstr("destination_addr", maxAddr, StatusInvDstAdr)
	m.ESMClass = d.u8("esm_class")
	m.ProtocolID = d.u8("protocol_id")
	m.PriorityFlag = d.u8("priority_flag")
	m.ScheduleDeliveryTime = d.cstr("schedule_delivery_time", maxTime, StatusInvSched)
	m.ValidityPeriod = d.cstr("validity_period", maxTime, StatusInvExpiry)
	m.RegisteredDelivery = d.u8("registered_delivery")
	m.ReplaceIfPresent = d.u8("replace_if_present_flag")
	m.DataCoding = d.u8("data_coding")
	m.SMDefaultMsgID = d.u8("sm_default_msg_id")
	m.Message = d.shortMessage()
	// Tolerate one stray NUL after short_message (smpp.md §3.1, §8 #22).
	if d.err == nil && len(d.b)-d.off == 1 && d.b[d.off] == 0 {
		d.off++
	}
	m.TLVs = d.tlvs()
}

func (m *ShortMessage) appendBody(b []byte) ([]byte, error) {
	e := encoder{b: b}
	e.cstr("service_type", m.ServiceType, maxServiceType)
	e.u8(m.SourceTON)
	e.u8(m.SourceNPI)
	e.cstr("source_addr", m.SourceAddr, maxAddr)
	e.u8(m.DestTON)
	e.u8(m.DestNPI)
	e.cstr("destination_addr", m.DestAddr, maxAddr)
	e.u8(m.ESMClass)
	e.u8(m.ProtocolID)
	e.u8(m.PriorityFlag)
	e.cstr("schedule_delivery_time", m.ScheduleDeliveryTime, maxTime)
	e.cstr("validity_period", m.ValidityPeriod, maxTime)
	e.u8(m.RegisteredDelivery)
	e.u8(m.ReplaceIfPresent)
	e.u8(m.DataCoding)
	e.u8(m.SMDefaultMsgID)
	e.shortMessage(m.Message)
	e.tlvs(m.TLVs)
	return e.b, e.err
}

// MessageResp is the body of submit_sm_resp, deliver_sm_resp and
// data_sm_resp: a message_id (empty in deliver_sm_resp) and TLVs (SMPP 3.4
// defines them for data_sm_resp only; they are accepted on all three).
type MessageResp struct {
	MessageID string // max 64 characters
	TLVs      TLVs
}

func (m *MessageResp) matches(id CommandID) bool {
	return id == SubmitSMResp || id == DeliverSMResp || id == DataSMResp
}

func (m *MessageResp) decode(d *decoder) {
	m.MessageID = d.cstr("message_id", maxMessageID, StatusInvMsgID)
	m.TLVs = d.tlvs()
}

func (m *MessageResp) appendBody(b []byte) ([]byte, error) {
	e := encoder{b: b}
	e.cstr("message_id", m.MessageID, maxMessageID)
	e.tlvs(m.TLVs)
	return e.b, e.err
}

// DataSMBody is the body of data_sm (SMPP 3.4 §4.7); the text travels in the
// message_payload TLV.
type DataSMBody struct {
	ServiceType        string // max 5 characters
	SourceTON          uint8
	SourceNPI          uint8
	SourceAddr         string // max 64 characters
	DestTON            uint8
	DestNPI            uint8
	DestAddr           string // max 64 characters
	ESMClass           uint8
	RegisteredDelivery uint8
	DataCoding         uint8
	TLVs               TLVs
}

func (m *DataSMBody) matches(id CommandID) bool { return id == DataSM }

func (m *DataSMBody) decode(d *decoder) {
	m.ServiceType = d.cstr("service_type", maxServiceType, StatusInvSerTyp)
	m.SourceTON = d.u8("source_addr_ton")
	m.SourceNPI = d.u8("source_addr_npi")
	m.SourceAddr = d.cstr("source_addr", maxAddr65, StatusInvSrcAdr)
	m.DestTON = d.u8("dest_addr_ton")
	m.DestNPI = d.u8("dest_addr_npi")
	m.DestAddr = d.cstr("destination_addr", maxAddr65, StatusInvDstAdr)
	m.ESMClass = d.u8("esm_class")
	m.RegisteredDelivery = d.u8("registered_delivery")
	m.DataCoding = d.u8("data_coding")
	m.TLVs = d.tlvs()
}

func (m *DataSMBody) appendBody(b []byte) ([]byte, error) {
	e := encoder{b: b}
	e.cstr("service_type", m.ServiceType, maxServiceType)
	e.u8(m.SourceTON)
	e.u8(m.SourceNPI)
	e.cstr("source_addr", m.SourceAddr, maxAddr65)
	e.u8(m.DestTON)
	e.u8(m.DestNPI)
	e.cstr("destination_addr", m.DestAddr, maxAddr65)
	e.u8(m.ESMClass)
	e.u8(m.RegisteredDelivery)
	e.u8(m.DataCoding)
	e.tlvs(m.TLVs)
	return e.b, e.err
}

// AlertNotificationBody is the body of alert_notification (SMPP 3.4 §4.12): an
// MS became available. It has no response.
type AlertNotificationBody struct {
	SourceTON  uint8
	SourceNPI  uint8
	SourceAddr string // max 64 characters
	ESMETON    uint8
	ESMENPI    uint8
	ESMEAddr   string // max 64 characters
	TLVs       TLVs   // ms_availability_status
}

func (m *AlertNotificationBody) matches(id CommandID) bool { return id == AlertNotification }

func (m *AlertNotificationBody) decode(d *decoder) {
	m.SourceTON = d.u8("source_addr_ton")
	m.SourceNPI = d.u8("source_addr_npi")
	m.SourceAddr = d.cstr("source_addr", maxAddr65, StatusInvSrcAdr)
	m.ESMETON = d.u8("esme_addr_ton")
	m.ESMENPI = d.u8("esme_addr_npi")
	m.ESMEAddr = d.cstr("esme_addr", maxAddr65, StatusInvDstAdr)
	m.TLVs = d.tlvs()
}

func (m *AlertNotificationBody) appendBody(b []byte) ([]byte, error) {
	e := encoder{b: b}
	e.u8(m.SourceTON)
	e.u8(m.SourceNPI)
	e.cstr("source_addr", m.SourceAddr, maxAddr65)
	e.u8(m.ESMETON)
	e.u8(m.ESMENPI)
	e.cstr("esme_addr", m.ESMEAddr, maxAddr65)
	e.tlvs(m.TLVs)
	return e.b, e.err
}
