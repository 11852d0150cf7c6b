package pdu

import (
	"encoding/binary"
	"fmt"
)

// Tag is the tag of an optional parameter (TLV, SMPP 3.4 §5.3).
type Tag uint16

// Optional parameter tags of SMPP 3.4 §5.3.2 (smpp.md §3.2).
const (
	TagDestAddrSubunit          Tag = 0x0005 // dest_addr_subunit, Int(1)
	TagDestNetworkType          Tag = 0x0006 // dest_network_type, Int(1)
	TagDestBearerType           Tag = 0x0007 // dest_bearer_type, Int(1)
	TagDestTelematicsID         Tag = 0x0008 // dest_telematics_id, Int(2)
	TagSourceAddrSubunit        Tag = 0x000D // source_addr_subunit, Int(1)
	TagSourceNetworkType        Tag = 0x000E // source_network_type, Int(1)
	TagSourceBearerType         Tag = 0x000F // source_bearer_type, Int(1)
	TagSourceTelematicsID       Tag = 0x0010 // source_telematics_id, Int(1)
	TagQOSTimeToLive            Tag = 0x0017 // qos_time_to_live, Int(4)
	TagPayloadType              Tag = 0x0019 // payload_type, Int(1)
	TagAdditionalStatusInfoText Tag = 0x001D // additional_status_info_text, C-octet ≤ 256
	TagReceiptedMessageID       Tag = 0x001E // receipted_message_id, C-octet ≤ 65
	TagMSMsgWaitFacilities      Tag = 0x0030 // ms_msg_wait_facilities, Int(1)
	TagPrivacyIndicator         Tag = 0x0201 // privacy_indicator, Int(1)
	TagSourceSubaddress         Tag = 0x0202 // source_subaddress, octets 2–23
	TagDestSubaddress           Tag = 0x0203 // dest_subaddress, octets 2–23
	TagUserMessageReference     Tag = 0x0204 // user_message_reference, Int(2)
	TagUserResponseCode         Tag = 0x0205 // user_response_code, Int(1)
	TagSourcePort               Tag = 0x020A // source_port, Int(2)
	TagDestinationPort          Tag = 0x020B // destination_port, Int(2)
	TagSARMsgRefNum             Tag = 0x020C // sar_msg_ref_num, Int(2)
	TagLanguageIndicator        Tag = 0x020D // language_indicator, Int(1)
	TagSARTotalSegments         Tag = 0x020E // sar_total_segments, Int(1)
	TagSARSegmentSeqnum         Tag = 0x020F // sar_segment_seqnum, Int(1)
	TagSCInterfaceVersion       Tag = 0x0210 // sc_interface_version, Int(1)
	TagCallbackNumPresInd       Tag = 0x0302 // callback_num_pres_ind, Int(1)
	TagCallbackNumAtag          Tag = 0x0303 // callback_num_atag, octets ≤ 65
	TagNumberOfMessages         Tag = 0x0304 // number_of_messages, Int(1)
	TagCallbackNum              Tag = 0x0381 // callback_num, octets 4–19
	TagDPFResult                Tag = 0x0420 // dpf_result, Int(1)
	TagSetDPF                   Tag = 0x0421 // set_dpf, Int(1)
	TagMSAvailabilityStatus     Tag = 0x0422 // ms_availability_status, Int(1)
	TagNetworkErrorCode         Tag = 0x0423 // network_error_code, 3 octets
	TagMessagePayload           Tag = 0x0424 // message_payload, octets ≤ 65535
	TagDeliveryFailureReason    Tag = 0x0425 // delivery_failure_reason, Int(1)
	TagMoreMessagesToSend       Tag = 0x0426 // more_messages_to_send, Int(1)
	TagMessageState             Tag = 0x0427 // message_state, Int(1)
	TagUSSDServiceOp            Tag = 0x0501 // ussd_service_op, Int(1)
	TagDisplayTime              Tag = 0x1201 // display_time, Int(1)
	TagSMSSignal                Tag = 0x1203 // sms_signal, Int(2)
	TagMSValidity               Tag = 0x1204 // ms_validity, Int(1)
	TagAlertOnMessageDelivery   Tag = 0x130C // alert_on_message_delivery, no value
	TagITSReplyType             Tag = 0x1380 // its_reply_type, Int(1)
	TagITSSessionInfo           Tag = 0x1383 // its_session_info, octets 2
)

var tagNames = map[Tag]string{
	TagDestAddrSubunit:          "dest_addr_subunit",
	TagDestNetworkType:          "dest_network_type",
	TagDestBearerType:           "dest_bearer_type",
	TagDestTelematicsID:         "dest_telematics_id",
	TagSourceAddrSubunit:        "source_addr_subunit",
	TagSourceNetworkType:        "source_network_type",
	TagSourceBearerType:         "source_bearer_type",
	TagSourceTelematicsID:       "source_telematics_id",
	TagQOSTimeToLive:            "qos_time_to_live",
	TagPayloadType:              "payload_type",
	TagAdditionalStatusInfoText: "additional_status_info_text",
	TagReceiptedMessageID:       "receipted_message_id",
	TagMSMsgWaitFacilities:      "ms_msg_wait_facilities",
	TagPrivacyIndicator:         "privacy_indicator",
	TagSourceSubaddress:         "source_subaddress",
	TagDestSubaddress:           "dest_subaddress",
	TagUserMessageReference:     "user_message_reference",
	TagUserResponseCode:         "user_response_code",
	TagSourcePort:               "source_port",
	TagDestinationPort:          "destination_port",
	TagSARMsgRefNum:             "sar_msg_ref_num",
	TagLanguageIndicator:        "language_indicator",
	TagSARTotalSegments:         "sar_total_segments",
	TagSARSegmentSeqnum:         "sar_segment_seqnum",
	TagSCInterfaceVersion:       "sc_interface_version",
	TagCallbackNumPresInd:       "callback_num_pres_ind",
	TagCallbackNumAtag:          "callback_num_atag",
	TagNumberOfMessages:         "number_of_messages",
	TagCallbackNum:              "callback_num",
	TagDPFResult:                "dpf_result",
	TagSetDPF:                   "set_dpf",
	TagMSAvailabilityStatus:     "ms_availability_status",
	TagNetworkErrorCode:         "network_error_code",
	TagMessagePayload:           "message_payload",
	TagDeliveryFailureReason:    "delivery_failure_reason",
	TagMoreMessagesToSend:       "more_messages_to_send",
	TagMessageState:             "message_state",
	TagUSSDServiceOp:            "ussd_service_op",
	TagDisplayTime:              "display_time",
	TagSMSSignal:                "sms_signal",
	TagMSValidity:               "ms_validity",
	TagAlertOnMessageDelivery:   "alert_on_message_delivery",
	TagITSReplyType:             "its_reply_type",
	TagITSSessionInfo:           "its_session_info",
}

// String returns the spec name ("receipted_message_id") or "tag(0x1401)".
func (t Tag) String() string {
	if s, ok := tagNames[t]; ok {
		return s
	}
	return fmt.Sprintf("tag(0x%04X)", uint16(t))
}

// CString reports whether the tag's value is a C-octet string, whose length
// includes a terminating NUL: additional_status_info_text and
// receipted_message_id.
func (t Tag) CString() bool {
	return t == TagAdditionalStatusInfoText || t == TagReceiptedMessageID
}

// Message states carried in the message_state TLV and query_sm_resp
// (SMPP 3.4 §5.2.28; SMPP 5.0 adds Scheduled and Skipped).
const (
	StateScheduled     uint8 = 0 // SCHEDULED (SMPP 5.0)
	StateEnroute       uint8 = 1 // ENROUTE
	StateDelivered     uint8 = 2 // DELIVERED
	StateExpired       uint8 = 3 // EXPIRED
	StateDeleted       uint8 = 4 // DELETED
	StateUndeliverable uint8 = 5 // UNDELIVERABLE
	StateAccepted      uint8 = 6 // ACCEPTED
	StateUnknown       uint8 = 7 // UNKNOWN
	StateRejected      uint8 = 8 // REJECTED
	StateSkipped       uint8 = 9 // SKIPPED (SMPP 5.0)
)

// TLV is one optional parameter. Value holds the raw value octets; its length
// is the TLV length field.
type TLV struct {
	Tag   Tag
	Value []byte
}

// TLVs is the optional part of a PDU body in wire order. Unknown and vendor
// tags are kept and re-encoded verbatim; a tag may occur more than once,
// the getters return the first.
type TLVs []TLV

// Get returns the value of the first TLV with tag.
func (t TLVs) Get(tag Tag) ([]byte, bool) {
	for i := range t {
		if t[i].Tag == tag {
			return t[i].Value, true
		}
	}
	return nil, false
}

// Uint8 returns a 1-octet integer TLV; ok is false if absent or not 1 octet.
func (t TLVs) Uint8(tag Tag) (uint8, bool) {
	v, ok := t.Get(tag)
	if !ok || len(v) != 1 {
		return 0, false
	}
	return v[0], true
}

// Uint16 returns a 2-octet big-endian integer TLV; ok is false if absent or
// not 2 octets.
func (t TLVs) Uint16(tag Tag) (uint16, bool) {
	v, ok := t.Get(tag)
	if !ok || len(v) != 2 {
		return 0, false
	}
	return binary.BigEndian.Uint16(v), true
}

// String returns a TLV value as a string with one trailing NUL (the
// terminator of C-octet TLVs) removed.
func (t TLVs) String(tag Tag) (string, bool) {
	v, ok := t.Get(tag)
	if !ok {
		return "", false
	}
	if n := len(v); n > 0 && v[n-1] == 0 {
		v = v[:n-1]
	}
	return string(v), true
}

// Set replaces the value of the first TLV with tag (dropping later
// duplicates) or appends a new TLV. v is stored, not copied.
func (t *TLVs) Set(tag Tag, v []byte) {
	for i := range *t {
		if (*t)[i].Tag == tag {
			(*t)[i].Value = v
			t.delFrom(tag, i+1)
			return
		}
	}
	*t = append(*t, TLV{Tag: tag, Value: v})
}

// SetUint8 sets a 1-octet integer TLV.
func (t *TLVs) SetUint8(tag Tag, v uint8) { t.Set(tag, []byte{v}) }

// SetUint16 sets a 2-octet big-endian integer TLV.
func (t *TLVs) SetUint16(tag Tag, v uint16) {
	t.Set(tag, binary.BigEndian.AppendUint16(nil, v))
}

// SetString sets a string TLV; for C-octet tags (Tag.CString) a NUL
// terminator is appended.
func (t *TLVs) SetString(tag Tag, s string) {
	v := []byte(s)
	if tag.CString() {
		v = append(v, 0)
	}
	t.Set(tag, v)
}

// Del removes every TLV with tag.
func (t *TLVs) Del(tag Tag) { t.delFrom(tag, 0) }

func (t *TLVs) delFrom(tag Tag, from int) {
	s := *t
	n := from
	for i := from; i < len(s); i++ {
		if s[i].Tag != tag {
			s[n] = s[i]
			n++
		}
	}
	clear(s[n:])
	*t = s[:n]
}

// appendTLVs encodes t.
func appendTLVs(b []byte, t TLVs) ([]byte, error) {
	for _, v := range t {
		if len(v.Value) > 0xFFFF {
			return b, fmt.Errorf("pdu: TLV %s: value of %d octets exceeds 65535: %w", v.Tag, len(v.Value), ErrFieldTooLong)
		}
		b = binary.BigEndian.AppendUint16(b, uint16(v.Tag))
		b = binary.BigEndian.AppendUint16(b, uint16(len(v.Value)))
		b = append(b, v.Value...)
	}
	return b, nil
}
