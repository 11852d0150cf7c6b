package pdu

// QuerySMBody is the body of query_sm (SMPP 3.4 §4.8). Named with a Body
// suffix because QuerySM is the command id.
type QuerySMBody struct {
	MessageID  string // max 64 characters
	SourceTON  uint8
	SourceNPI  uint8
	SourceAddr string // max 20 characters; must equal the submit's source
}

func (m *QuerySMBody) matches(id CommandID) bool { return id == QuerySM }

func (m *QuerySMBody) decode(d *decoder) {
	m.MessageID = d.cstr("message_id", maxMessageID, StatusInvMsgID)
	m.SourceTON = d.u8("source_addr_ton")
	m.SourceNPI = d.u8("source_addr_npi")
	m.SourceAddr = d.cstr("source_addr", maxAddr, StatusInvSrcAdr)
	d.end()
}

func (m *QuerySMBody) appendBody(b []byte) ([]byte, error) {
	e := encoder{b: b}
	e.cstr("message_id", m.MessageID, maxMessageID)
	e.u8(m.SourceTON)
	e.u8(m.SourceNPI)
	e.cstr("source_addr", m.SourceAddr, maxAddr)
	return e.b, e.err
}

// QuerySMRespBody is the body of query_sm_resp (SMPP 3.4 §4.8.2).
type QuerySMRespBody struct {
	MessageID    string // max 64 characters
	FinalDate    string // "" or 16 characters
	MessageState uint8  // State* constants
	ErrorCode    uint8  // network specific
}

func (m *QuerySMRespBody) matches(id CommandID) bool { return id == QuerySMResp }

func (m *QuerySMRespBody) decode(d *decoder) {
	m.MessageID = d.cstr("message_id", maxMessageID, StatusInvMsgID)
	m.FinalDate = d.cstr("final_date", maxTime, StatusInvCmdLen)
	m.MessageState = d.u8("message_state")
	m.ErrorCode = d.u8("error_code")
	d.end()
}

func (m *QuerySMRespBody) appendBody(b []byte) ([]byte, error) {
	e := encoder{b: b}
	e.cstr("message_id", m.MessageID, maxMessageID)
	e.cstr("final_date", m.FinalDate, maxTime)
	e.u8(m.MessageState)
	e.u8(m.ErrorCode)
	return e.b, e.err
}

// CancelSMBody is the body of cancel_sm (SMPP 3.4 §4.9); its response is
// header-only.
type CancelSMBody struct {
	ServiceType string // max 5 characters
	MessageID   string // max 64 characters
	SourceTON   uint8
	SourceNPI   uint8
	SourceAddr  string // max 20 characters
	DestTON     uint8
	DestNPI     uint8
	DestAddr    string // max 20 characters
}

func (m *CancelSMBody) matches(id CommandID) bool { return id == CancelSM }

func (m *CancelSMBody) decode(d *decoder) {
	m.ServiceType = d.cstr("service_type", maxServiceType, StatusInvSerTyp)
	m.MessageID = d.cstr("message_id", maxMessageID, StatusInvMsgID)
	m.SourceTON = d.u8("source_addr_ton")
	m.SourceNPI = d.u8("source_addr_npi")
	m.SourceAddr = d.cstr("source_addr", maxAddr, StatusInvSrcAdr)
	m.DestTON = d.u8("dest_addr_ton")
	m.DestNPI = d.u8("dest_addr_npi")
	m.DestAddr = d.cstr("destination_addr", maxAddr, StatusInvDstAdr)
	d.end()
}

func (m *CancelSMBody) appendBody(b []byte) ([]byte, error) {
	e := encoder{b: b}
	e.cstr("service_type", m.ServiceType, maxServiceType)
	e.cstr("message_id", m.MessageID, maxMessageID)
	e.u8(m.SourceTON)
	e.u8(m.SourceNPI)
	e.cstr("source_addr", m.SourceAddr, maxAddr)
	e.u8(m.DestTON)
	e.u8(m.DestNPI)
	e.cstr("destination_addr", m.DestAddr, maxAddr)
	return e.b, e.err
}

// ReplaceSMBody is the body of replace_sm (SMPP 3.4 §4.10); its response is
// header-only.
type ReplaceSMBody struct {
	MessageID            string // max 64 characters
	SourceTON            uint8
	SourceNPI            uint8
	SourceAddr           string // max 20 characters
	ScheduleDeliveryTime string // "" or 16 characters
	ValidityPeriod       string // "" or 16 characters
	RegisteredDelivery   uint8
	SMDefaultMsgID       uint8
	Message              []byte // max 254 octets
}

func (m *ReplaceSMBody) matches(id CommandID) bool { return id == ReplaceSM }

func (m *ReplaceSMBody) decode(d *decoder) {
	m.MessageID = d.cstr("message_id", maxMessageID, StatusInvMsgID)
	m.SourceTON = d.u8("source_addr_ton")
	m.SourceNPI = d.u8("source_addr_npi")
	m.SourceAddr = d.cstr("source_addr", maxAddr, StatusInvSrcAdr)
	m.ScheduleDeliveryTime = d.cstr("schedule_delivery_time", maxTime, StatusInvSched)
	m.ValidityPeriod = d.cstr("validity_period", maxTime, StatusInvExpiry)
	m.RegisteredDelivery = d.u8("registered_delivery")
	m.SMDefaultMsgID = d.u8("sm_default_msg_id")
	m.Message = d.shortMessage()
	d.end()
}

func (m *ReplaceSMBody) appendBody(b []byte) ([]byte, error) {
	e := encoder{b: b}
	e.cstr("message_id", m.MessageID, maxMessageID)
	e.u8(m.SourceTON)
	e.u8(m.SourceNPI)
	e.cstr("source_addr", m.SourceAddr, maxAddr)
	e.cstr("schedule_delivery_time", m.ScheduleDeliveryTime, maxTime)
	e.cstr("validity_period", m.ValidityPeriod, maxTime)
	e.u8(m.RegisteredDelivery)
	e.u8(m.SMDefaultMsgID)
	e.shortMessage(m.Message)
	return e.b, e.err
}
