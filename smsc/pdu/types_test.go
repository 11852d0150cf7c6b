package pdu

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
)

func TestCommandID(t *testing.T) {
	tests := []struct {
		id     CommandID
		name   string
		resp   CommandID
		isResp bool
		hasRsp bool
	}{
		{SubmitSM, "submit_sm", SubmitSMResp, false, true},
		{SubmitSMResp, "submit_sm_resp", SubmitSMResp, true, false},
		{BindTransceiver, "bind_transceiver", BindTransceiverResp, false, true},
		{EnquireLink, "enquire_link", EnquireLinkResp, false, true},
		{DataSM, "data_sm", DataSMResp, false, true},
		{GenericNack, "generic_nack", GenericNack, true, false},
		{Outbind, "outbind", 0x8000000B, false, false},
		{AlertNotification, "alert_notification", 0x80000102, false, false},
		{0x123, "command_id(0x00000123)", 0x80000123, false, true},
	}
	for _, tc := range tests {
		if got := tc.id.String(); got != tc.name {
			t.Errorf("CommandID(0x%X).String() = %q, want %q", uint32(tc.id), got, tc.name)
		}
		if got := tc.id.Response(); got != tc.resp {
			t.Errorf("%s.Response() = %s, want %s", tc.id, got, tc.resp)
		}
		if got := tc.id.IsResponse(); got != tc.isResp {
			t.Errorf("%s.IsResponse() = %v, want %v", tc.id, got, tc.isResp)
		}
		if got := tc.id.HasResponse(); got != tc.hasRsp {
			t.Errorf("%s.HasResponse() = %v, want %v", tc.id, got, tc.hasRsp)
		}
	}
}

func TestStatus(t *testing.T) {
	tests := []struct {
		s         Status
		str, err  string
		temporary bool
	}{
		{StatusThrottled, "ESME_RTHROTTLED", "ESME_RTHROTTLED (0x58): throttling error", true},
		{StatusMsgQFul, "ESME_RMSGQFUL", "ESME_RMSGQFUL (0x14): message queue full", true},
		{StatusRxTAppn, "ESME_RX_T_APPN", "ESME_RX_T_APPN (0x64): ESME receiver temporary app error", true},
		{StatusSysErr, "ESME_RSYSERR", "ESME_RSYSERR (0x08): system error", true},
		{StatusInvBndSts, "ESME_RINVBNDSTS", "ESME_RINVBNDSTS (0x04): incorrect bind status for given command", true},
		{StatusUnknownErr, "ESME_RUNKNOWNERR", "ESME_RUNKNOWNERR (0xFF): unknown error", true},
		{StatusInvDstAdr, "ESME_RINVDSTADR", "ESME_RINVDSTADR (0x0B): invalid destination address", false},
		{StatusSubmitFail, "ESME_RSUBMITFAIL", "ESME_RSUBMITFAIL (0x45): submit failed", false},
		{StatusRxRAppn, "ESME_RX_R_APPN", "ESME_RX_R_APPN (0x66): ESME receiver reject message error", false},
		{StatusDeliveryFailure, "ESME_RDELIVERYFAILURE", "ESME_RDELIVERYFAILURE (0xFE): delivery failure", false},
		{0x0401, "vendor_status(0x0401)", "vendor_status(0x0401) (0x401): vendor specific error", false},
		{0x0110, "status(0x110)", "status(0x110) (0x110): unknown status", false},
	}
	for _, tc := range tests {
		if got := tc.s.String(); got != tc.str {
			t.Errorf("Status(0x%X).String() = %q, want %q", uint32(tc.s), got, tc.str)
		}
		if got := tc.s.Error(); got != tc.err {
			t.Errorf("Status(0x%X).Error() = %q, want %q", uint32(tc.s), got, tc.err)
		}
		if got := tc.s.Temporary(); got != tc.temporary {
			t.Errorf("%s.Temporary() = %v, want %v", tc.s, got, tc.temporary)
		}
	}
	var st Status
	if err := fmt.Errorf("submit: %w", StatusThrottled); !errors.As(err, &st) || st != StatusThrottled || !st.Throttle() {
		t.Errorf("errors.As(wrapped status) = %v, want ESME_RTHROTTLED", st)
	}
	if StatusSysErr.Throttle() {
		t.Error("ESME_RSYSERR.Throttle() = true")
	}
}

func TestStatusValues(t *testing.T) {
	// A few spot checks against smpp.md §2.
	for s, v := range map[Status]uint32{StatusInvSysID: 0x0F, StatusInvDestFlag: 0x40, StatusInvDstNPI: 0x51,
		StatusInvOptParamVal: 0xC4, StatusInvDftMsgID: 0x63, StatusQueryFail: 0x67, StatusInvNumMsgs: 0x55} {
		if uint32(s) != v {
			t.Errorf("%s = 0x%X, want 0x%X", s, uint32(s), v)
		}
	}
}

func TestTLVs(t *testing.T) {
	var tl TLVs
	tl.SetString(TagReceiptedMessageID, "4097")
	tl.SetUint8(TagMessageState, StateDelivered)
	tl.SetUint16(TagUserMessageReference, 0x1234)
	tl.Set(TagNetworkErrorCode, []byte{3, 0, 1})
	tl.SetString(TagMessagePayload, "hi")
	want := TLVs{
		{TagReceiptedMessageID, []byte("4097\x00")},
		{TagMessageState, []byte{2}},
		{TagUserMessageReference, []byte{0x12, 0x34}},
		{TagNetworkErrorCode, []byte{3, 0, 1}},
		{TagMessagePayload, []byte("hi")},
	}
	if !reflect.DeepEqual(tl, want) {
		t.Fatalf("TLVs = %v, want %v", tl, want)
	}
	if s, ok := tl.String(TagReceiptedMessageID); !ok || s != "4097" {
		t.Errorf("String(receipted_message_id) = %q, %v", s, ok)
	}
	if s, ok := tl.String(TagMessagePayload); !ok || s != "hi" {
		t.Errorf("String(message_payload) = %q, %v", s, ok)
	}
	if v, ok := tl.Uint8(TagMessageState); !ok || v != StateDelivered {
		t.Errorf("Uint8(message_state) = %d, %v", v, ok)
	}
	if v, ok := tl.Uint16(TagUserMessageReference); !ok || v != 0x1234 {
		t.Errorf("Uint16(user_message_reference) = %#x, %v", v, ok)
	}
	if _, ok := tl.Uint8(TagNetworkErrorCode); ok {
		t.Error("Uint8 of a 3-octet TLV reported ok")
	}
	if _, ok := tl.Uint16(TagMessageState); ok {
		t.Error("Uint16 of a 1-octet TLV reported ok")
	}
	if _, ok := tl.Get(TagSARMsgRefNum); ok {
		t.Error("Get of an absent tag reported ok")
	}
	// Set replaces in place and drops duplicates.
	tl = append(tl, TLV{TagMessageState, []byte{5}})
	tl.SetUint8(TagMessageState, StateUndeliverable)
	if len(tl) != 5 || tl[1].Tag != TagMessageState || tl[1].Value[0] != StateUndeliverable {
		t.Errorf("after Set with a duplicate: %v", tl)
	}
	tl.Del(TagReceiptedMessageID)
	tl.Del(TagSARMsgRefNum)
	if len(tl) != 4 || tl[0].Tag != TagMessageState {
		t.Errorf("after Del: %v", tl)
	}
}

func TestTagString(t *testing.T) {
	if got := TagReceiptedMessageID.String(); got != "receipted_message_id" {
		t.Errorf("String = %q", got)
	}
	if got := Tag(0x1401).String(); got != "tag(0x1401)" {
		t.Errorf("String = %q", got)
	}
}

func TestIsReceipt(t *testing.T) {
	for esm, want := range map[uint8]bool{0x04: true, 0x44: true, 0x20: true, 0x00: false, 0x40: false, 0x08: false, 0x03: false} {
		if got := IsReceipt(esm); got != want {
			t.Errorf("IsReceipt(0x%02X) = %v, want %v", esm, got, want)
		}
	}
}

func TestKnownMatchesNames(t *testing.T) {
	for id := range commandNames {
		if !id.Known() {
			t.Errorf("%s.Known() = false", id)
		}
	}
	for _, id := range []CommandID{0, 0x0A, 0x8000000A, 0x8000000B, 0x123, 0x80000102, 0xFFFFFFFF} {
		if id.Known() {
			t.Errorf("CommandID(0x%X).Known() = true", uint32(id))
		}
	}
}
