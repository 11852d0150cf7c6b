package pdu

import "fmt"

// SubmitMultiBody is the body of submit_multi (SMPP 3.4 §4.5): one message
// to up to 254 destinations.
type SubmitMultiBody struct {
	ServiceType          string // max 5 characters
	SourceTON            uint8
	SourceNPI            uint8
	SourceAddr           string // max 20 characters
	Dests                []MultiDest
	ESMClass             uint8
	ProtocolID           uint8
	PriorityFlag         uint8
	ScheduleDeliveryTime string // "" or 16 characters
	ValidityPeriod       string // "" or 16 characters
	RegisteredDelivery   uint8
	ReplaceIfPresent     uint8
	DataCoding           uint8
	SMDefaultMsgID       uint8
	Message              []byte // max 254 octets
	TLVs                 TLVs
}

// MultiDest is one submit_multi destination: an SME address (Flag
// DestFlagSME: TON, NPI, Addr) or a distribution list (Flag DestFlagDL:
// DLName).
type MultiDest struct {
	Flag   uint8
	TON    uint8
	NPI    uint8
	Addr   string // max 20 characters
	DLName string // max 20 characters
}

func (m *SubmitMultiBody) matches(id CommandID) bool { return id == SubmitMulti }

func (m *SubmitMultiBody) decode(d *decoder) {
	m.ServiceType = d.cstr("service_type", maxServiceType, StatusInvSerTyp)
	m.SourceTON = d.u8("source_addr_ton")
	m.SourceNPI = d.u8("source_addr_npi")
	m.SourceAddr = d.cstr("source_addr", maxAddr, StatusInvSrcAdr)
	m.Dests = decodeDests(d)
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
	m.TLVs = d.tlvs()
}

func decodeDests(d *decoder) []MultiDest {
	n := int(d.u8("number_of_dests"))
	if d.err != nil || n == 0 {
		return nil
	}
	if n > maxDests {
		d.fail(StatusInvNumDests, fmt.Errorf("number_of_dests %d above %d: %w", n, maxDests, ErrFieldTooLong))
		return nil
	}
	// Each destination takes at least 2 octets; do not allocate for more
	// than the body can hold.
	if 2*n > len(d.b)-d.off {
		d.fail(StatusInvNumDests, fmt.Errorf("number_of_dests %d exceeds body: %w", n, ErrTruncated))
		return nil
	}
	dests := make([]MultiDest, n)
	for i := range dests {
		x := &dests[i]
		x.Flag = d.u8("dest_flag")
		switch {
		case d.err != nil:
			return nil
		case x.Flag == DestFlagSME:
			x.TON = d.u8("dest_addr_ton")
			x.NPI = d.u8("dest_addr_npi")
			x.Addr = d.cstr("destination_addr", maxAddr, StatusInvDstAdr)
		case x.Flag == DestFlagDL:
			x.DLName = d.cstr("dl_name", maxDLName, StatusInvDLName)
		default:
			d.fail(StatusInvDestFlag, fmt.Errorf("dest_flag %d: %w", x.Flag, ErrBadValue))
			return nil
		}
	}
	return dests
}

func (m *SubmitMultiBody) appendBody(b []byte) ([]byte, error) {
	e := encoder{b: b}
	e.cstr("service_type", m.ServiceType, maxServiceType)
	e.u8(m.SourceTON)
	e.u8(m.SourceNPI)
	e.cstr("source_addr", m.SourceAddr, maxAddr)
	e.dests(m.Dests)
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

func (e *encoder) dests(dests []MultiDest) {
	if len(dests) > maxDests {
		e.err = fmt.Errorf("number_of_dests %d above %d: %w", len(dests), maxDests, ErrFieldTooLong)
		return
	}
	e.u8(uint8(len(dests)))
	for _, x := range dests {
		e.u8(x.Flag)
		switch x.Flag {
		case DestFlagSME:
			e.u8(x.TON)
			e.u8(x.NPI)
			e.cstr("destination_addr", x.Addr, maxAddr)
		case DestFlagDL:
			e.cstr("dl_name", x.DLName, maxDLName)
		default:
			if e.err == nil {
				e.err = fmt.Errorf("dest_flag %d: %w", x.Flag, ErrBadValue)
			}
		}
	}
}

// SubmitMultiRespBody is the body of submit_multi_resp (SMPP 3.4 §4.5.2).
type SubmitMultiRespBody struct {
	MessageID string // max 64 characters
	Unsuccess []UnsuccessSME
}

// UnsuccessSME is a destination submit_multi could not deliver to.
type UnsuccessSME struct {
	TON    uint8
	NPI    uint8
	Addr   string // max 20 characters
	Status Status // error_status_code
}

func (m *SubmitMultiRespBody) matches(id CommandID) bool { return id == SubmitMultiResp }

func (m *SubmitMultiRespBody) decode(d *decoder) {
	m.MessageID = d.cstr("message_id", maxMessageID, StatusInvMsgID)
	n := int(d.u8("no_unsuccess"))
	// Each entry takes at least 7 octets.
	if d.err == nil && 7*n > len(d.b)-d.off {
		d.fail(StatusInvCmdLen, fmt.Errorf("no_unsuccess %d exceeds body: %w", n, ErrTruncated))
	}
	if d.err == nil && n > 0 {
		m.Unsuccess = make([]UnsuccessSME, n)
		for i := range m.Unsuccess {
			x := &m.Unsuccess[i]
			x.TON = d.u8("dest_addr_ton")
			x.NPI = d.u8("dest_addr_npi")
			x.Addr = d.cstr("destination_addr", maxAddr, StatusInvDstAdr)
			x.Status = Status(d.u32("error_status_code"))
		}
	}
	d.end()
}

func (m *SubmitMultiRespBody) appendBody(b []byte) ([]byte, error) {
	e := encoder{b: b}
	e.cstr("message_id", m.MessageID, maxMessageID)
	if len(m.Unsuccess) > 255 {
		return b, fmt.Errorf("no_unsuccess %d above 255: %w", len(m.Unsuccess), ErrFieldTooLong)
	}
	e.u8(uint8(len(m.Unsuccess)))
	for _, x := range m.Unsuccess {
		e.u8(x.TON)
		e.u8(x.NPI)
		e.cstr("destination_addr", x.Addr, maxAddr)
		e.u32(uint32(x.Status))
	}
	return e.b, e.err
}
