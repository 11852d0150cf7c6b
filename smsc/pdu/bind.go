package pdu

// Bind is the body of bind_receiver, bind_transmitter and bind_transceiver
// (SMPP 3.4 §4.1, smpp.md §1.5).
type Bind struct {
	SystemID         string // max 15 characters
	Password         string // max 8 characters
	SystemType       string // max 12 characters
	InterfaceVersion uint8  // InterfaceVersion34
	AddrTON          uint8
	AddrNPI          uint8
	AddressRange     string // max 40 characters
}

func (m *Bind) matches(id CommandID) bool {
	return id == BindReceiver || id == BindTransmitter || id == BindTransceiver
}

func (m *Bind) decode(d *decoder) {
	m.SystemID = d.cstr("system_id", maxSystemID, StatusInvSysID)
	m.Password = d.cstr("password", maxPassword, StatusInvPaswd)
	m.SystemType = d.cstr("system_type", maxSystemType, StatusInvSysTyp)
	m.InterfaceVersion = d.u8("interface_version")
	m.AddrTON = d.u8("addr_ton")
	m.AddrNPI = d.u8("addr_npi")
	m.AddressRange = d.cstr("address_range", maxAddressRange, StatusBindFail)
	d.end()
}

func (m *Bind) appendBody(b []byte) ([]byte, error) {
	e := encoder{b: b}
	e.cstr("system_id", m.SystemID, maxSystemID)
	e.cstr("password", m.Password, maxPassword)
	e.cstr("system_type", m.SystemType, maxSystemType)
	e.u8(m.InterfaceVersion)
	e.u8(m.AddrTON)
	e.u8(m.AddrNPI)
	e.cstr("address_range", m.AddressRange, maxAddressRange)
	return e.b, e.err
}

// BindResp is the body of bind_receiver_resp, bind_transmitter_resp and
// bind_transceiver_resp: the SMSC's system_id and optionally the
// sc_interface_version TLV. A missing sc_interface_version hints that the
// SMSC may not support TLVs (smpp.md §1.5).
type BindResp struct {
	SystemID string // max 15 characters
	TLVs     TLVs
}

func (m *BindResp) matches(id CommandID) bool {
	return id == BindReceiverResp || id == BindTransmitterResp || id == BindTransceiverResp
}

func (m *BindResp) decode(d *decoder) {
	m.SystemID = d.cstr("system_id", maxSystemID, StatusInvSysID)
	m.TLVs = d.tlvs()
}

func (m *BindResp) appendBody(b []byte) ([]byte, error) {
	e := encoder{b: b}
	e.cstr("system_id", m.SystemID, maxSystemID)
	e.tlvs(m.TLVs)
	return e.b, e.err
}

// OutbindBody is the body of outbind (SMPP 3.4 §4.1.7): the SMSC asks the ESME
// to bind_receiver on this connection.
type OutbindBody struct {
	SystemID string // max 15 characters
	Password string // max 8 characters
}

func (m *OutbindBody) matches(id CommandID) bool { return id == Outbind }

func (m *OutbindBody) decode(d *decoder) {
	m.SystemID = d.cstr("system_id", maxSystemID, StatusInvSysID)
	m.Password = d.cstr("password", maxPassword, StatusInvPaswd)
	d.end()
}

func (m *OutbindBody) appendBody(b []byte) ([]byte, error) {
	e := encoder{b: b}
	e.cstr("system_id", m.SystemID, maxSystemID)
	e.cstr("password", m.Password, maxPassword)
	return e.b, e.err
}
