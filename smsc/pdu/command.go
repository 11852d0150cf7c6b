package pdu

import "fmt"

// CommandID is the command_id header field (SMPP 3.4 §5.1.2.1). Bit 31 set
// marks a response.
type CommandID uint32

// Command IDs of SMPP 3.4 (smpp.md §1.4). 0x0000000A and 0x8000000A are
// reserved; Outbind and AlertNotification have no response.
const (
	GenericNack         CommandID = 0x80000000 // generic_nack
	BindReceiver        CommandID = 0x00000001 // bind_receiver
	BindReceiverResp    CommandID = 0x80000001 // bind_receiver_resp
	BindTransmitter     CommandID = 0x00000002 // bind_transmitter
	BindTransmitterResp CommandID = 0x80000002 // bind_transmitter_resp
	QuerySM             CommandID = 0x00000003 // query_sm
	QuerySMResp         CommandID = 0x80000003 // query_sm_resp
	SubmitSM            CommandID = 0x00000004 // submit_sm
	SubmitSMResp        CommandID = 0x80000004 // submit_sm_resp
	DeliverSM           CommandID = 0x00000005 // deliver_sm
	DeliverSMResp       CommandID = 0x80000005 // deliver_sm_resp
	Unbind              CommandID = 0x00000006 // unbind
	UnbindResp          CommandID = 0x80000006 // unbind_resp
	ReplaceSM           CommandID = 0x00000007 // replace_sm
	ReplaceSMResp       CommandID = 0x80000007 // replace_sm_resp
	CancelSM            CommandID = 0x00000008 // cancel_sm
	CancelSMResp        CommandID = 0x80000008 // cancel_sm_resp
	BindTransceiver     CommandID = 0x00000009 // bind_transceiver
	BindTransceiverResp CommandID = 0x80000009 // bind_transceiver_resp
	Outbind             CommandID = 0x0000000B // outbind
	EnquireLink         CommandID = 0x00000015 // enquire_link
	EnquireLinkResp     CommandID = 0x80000015 // enquire_link_resp
	SubmitMulti         CommandID = 0x00000021 // submit_multi
	SubmitMultiResp     CommandID = 0x80000021 // submit_multi_resp
	AlertNotification   CommandID = 0x00000102 // alert_notification
	DataSM              CommandID = 0x00000103 // data_sm
	DataSMResp          CommandID = 0x80000103 // data_sm_resp
)

const responseBit = 0x80000000

var commandNames = map[CommandID]string{
	GenericNack:         "generic_nack",
	BindReceiver:        "bind_receiver",
	BindReceiverResp:    "bind_receiver_resp",
	BindTransmitter:     "bind_transmitter",
	BindTransmitterResp: "bind_transmitter_resp",
	QuerySM:             "query_sm",
	QuerySMResp:         "query_sm_resp",
	SubmitSM:            "submit_sm",
	SubmitSMResp:        "submit_sm_resp",
	DeliverSM:           "deliver_sm",
	DeliverSMResp:       "deliver_sm_resp",
	Unbind:              "unbind",
	UnbindResp:          "unbind_resp",
	ReplaceSM:           "replace_sm",
	ReplaceSMResp:       "replace_sm_resp",
	CancelSM:            "cancel_sm",
	CancelSMResp:        "cancel_sm_resp",
	BindTransceiver:     "bind_transceiver",
	BindTransceiverResp: "bind_transceiver_resp",
	Outbind:             "outbind",
	EnquireLink:         "enquire_link",
	EnquireLinkResp:     "enquire_link_resp",
	SubmitMulti:         "submit_multi",
	SubmitMultiResp:     "submit_multi_resp",
	AlertNotification:   "alert_notification",
	DataSM:              "data_sm",
	DataSMResp:          "data_sm_resp",
}

// String returns the SMPP name ("submit_sm") or "command_id(0x00000123)" for
// an unknown id.
func (c CommandID) String() string {
	if s, ok := commandNames[c]; ok {
		return s
	}
	return fmt.Sprintf("command_id(0x%08X)", uint32(c))
}

// Known reports whether c is one of the command ids this package decodes.
func (c CommandID) Known() bool {
	switch c {
	case GenericNack, BindReceiver, BindReceiverResp, BindTransmitter, BindTransmitterResp,
		QuerySM, QuerySMResp, SubmitSM, SubmitSMResp, DeliverSM, DeliverSMResp, Unbind, UnbindResp,
		ReplaceSM, ReplaceSMResp, CancelSM, CancelSMResp, BindTransceiver, BindTransceiverResp,
		Outbind, EnquireLink, EnquireLinkResp, SubmitMulti, SubmitMultiResp, AlertNotification,
		DataSM, DataSMResp:
		return true
	}
	return false
}

// IsResponse reports whether bit 31 (the response bit) is set.
func (c CommandID) IsResponse() bool { return c&responseBit != 0 }

// Response returns the response id for a request id (c with bit 31 set);
// a response id is returned unchanged. Outbind and AlertNotification have
// no response in SMPP 3.4; HasResponse reports that.
func (c CommandID) Response() CommandID { return c | responseBit }

// HasResponse reports whether a request with this id is answered with a
// response PDU. It is false for responses, outbind and alert_notification.
func (c CommandID) HasResponse() bool {
	return !c.IsResponse() && c != Outbind && c != AlertNotification
}
