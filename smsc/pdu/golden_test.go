package pdu

import (
	"bytes"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.hex that are missing or differ from the expected PDUs")

func hdr(id CommandID, st Status, seq uint32) Header { return Header{ID: id, Status: st, Seq: seq} }

func tlvs(kv ...any) TLVs {
	var t TLVs
	for i := 0; i < len(kv); i += 2 {
		var v []byte
		switch x := kv[i+1].(type) {
		case string:
			v = []byte(x)
		case []byte:
			v = x
		case int:
			v = []byte{byte(x)}
		}
		if len(v) == 0 {
			v = nil
		}
		t = append(t, TLV{Tag: kv[i].(Tag), Value: v})
	}
	return t
}

const receiptText = "id:4097 sub:001 dlvrd:001 submit date:2611220317 done date:2611220317 stat:DELIVRD err:000 text:Hi @ {x}"

// ucs2 "Привет" (UTF-16BE).
var ucs2Privet = []byte{0x04, 0x1F, 0x04, 0x40, 0x04, 0x38, 0x04, 0x32, 0x04, 0x35, 0x04, 0x42}

// goldens pairs each testdata/<name>.hex with the PDU it holds.
var goldens = []struct {
	name string
	pdu  *PDU
}{
	{"bind_transceiver", &PDU{Header: hdr(BindTransceiver, 0, 1), Body: &Bind{
		SystemID: "esme", Password: "secret", InterfaceVersion: 0x34}}},
	{"bind_transceiver_resp", &PDU{Header: hdr(BindTransceiverResp, 0, 1), Body: &BindResp{
		SystemID: "SIMSMSC", TLVs: tlvs(TagSCInterfaceVersion, 0x34)}}},
	{"bind_transceiver_resp_error_nobody", &PDU{Header: hdr(BindTransceiverResp, StatusInvPaswd, 1)}},
	{"bind_transceiver_resp_error_body", &PDU{Header: hdr(BindTransceiverResp, StatusInvSysTyp, 1), Body: &BindResp{}}},
	{"bind_transmitter", &PDU{Header: hdr(BindTransmitter, 0, 7), Body: &Bind{
		SystemID: "smppclient1", Password: "password", SystemType: "VMA", InterfaceVersion: 0x34,
		AddrTON: 1, AddrNPI: 1, AddressRange: "^1555"}}},
	{"bind_transmitter_resp", &PDU{Header: hdr(BindTransmitterResp, 0, 7), Body: &BindResp{SystemID: "SMSC"}}},
	{"bind_receiver", &PDU{Header: hdr(BindReceiver, 0, 1), Body: &Bind{
		SystemID: "rx", Password: "pw", InterfaceVersion: 0x34}}},
	{"bind_receiver_resp", &PDU{Header: hdr(BindReceiverResp, 0, 1), Body: &BindResp{
		SystemID: "SMSC", TLVs: tlvs(TagSCInterfaceVersion, 0x34)}}},
	{"outbind", &PDU{Header: hdr(Outbind, 0, 1), Body: &OutbindBody{SystemID: "smsc", Password: "secret"}}},
	{"submit_sm", &PDU{Header: hdr(SubmitSM, 0, 2), Body: &ShortMessage{
		SourceAddr: "12345", DestTON: 1, DestNPI: 1, DestAddr: "15550002222", RegisteredDelivery: 1,
		Message: []byte{0x48, 0x69, 0x20, 0x00, 0x20, 0x1b, 0x28, 0x78, 0x1b, 0x29}}}},
	{"submit_sm_udh", &PDU{Header: hdr(SubmitSM, 0, 0x7fffffff), Body: &ShortMessage{
		SourceTON: 5, SourceAddr: "Acme", DestTON: 1, DestNPI: 1, DestAddr: "4915112345678",
		ESMClass: ESMClassUDHI, ValidityPeriod: "000001000000000R", RegisteredDelivery: 1, DataCoding: 8,
		Message: append([]byte{0x05, 0x00, 0x03, 0xA7, 0x02, 0x01}, ucs2Privet...),
		TLVs:    tlvs(TagUserMessageReference, []byte{0x12, 0x34}, TagMoreMessagesToSend, 1)}}},
	{"submit_sm_tlvs", &PDU{Header: hdr(SubmitSM, 0, 9), Body: &ShortMessage{
		ServiceType: "CMT", SourceTON: 1, SourceNPI: 1, SourceAddr: "447700900000", DestTON: 1, DestNPI: 1,
		DestAddr: "447700900001", ProtocolID: 0x40, PriorityFlag: 1, ScheduleDeliveryTime: "261122143000004+",
		DataCoding: 4,
		TLVs: tlvs(TagMessagePayload, []byte{0xCA, 0xFE, 0x00, 0xBA, 0xBE}, TagSARMsgRefNum, []byte{0, 42},
			TagSARTotalSegments, 2, TagSARSegmentSeqnum, 1, Tag(0x1401), "vendor\x00x",
			TagAlertOnMessageDelivery, nil, TagSourcePort, []byte{0x0B, 0x84})}}},
	{"submit_sm_resp", &PDU{Header: hdr(SubmitSMResp, 0, 2), Body: &MessageResp{MessageID: "00001001"}}},
	{"submit_sm_resp_error_nobody", &PDU{Header: hdr(SubmitSMResp, StatusThrottled, 3)}},
	{"submit_sm_resp_error_body", &PDU{Header: hdr(SubmitSMResp, StatusSubmitFail, 4), Body: &MessageResp{}}},
	{"deliver_sm_receipt", &PDU{Header: hdr(DeliverSM, 0, 2), Body: &ShortMessage{
		SourceTON: 1, SourceNPI: 1, SourceAddr: "15550002222", DestAddr: "12345", ESMClass: ESMClassReceipt,
		Message: []byte(receiptText),
		TLVs:    tlvs(TagReceiptedMessageID, "4097\x00", TagMessageState, int(StateDelivered))}}},
	{"deliver_sm_mo", &PDU{Header: hdr(DeliverSM, 0, 0x10), Body: &ShortMessage{
		ServiceType: "", SourceTON: 1, SourceNPI: 1, SourceAddr: "79161234567", DestTON: 3, DestAddr: "4242",
		DataCoding: 8, Message: ucs2Privet}}},
	{"deliver_sm_resp", &PDU{Header: hdr(DeliverSMResp, 0, 2), Body: &MessageResp{}}},
	{"deliver_sm_resp_nobody", &PDU{Header: hdr(DeliverSMResp, StatusRxTAppn, 5)}},
	{"data_sm", &PDU{Header: hdr(DataSM, 0, 11), Body: &DataSMBody{
		ServiceType: "WAP", SourceTON: 1, SourceNPI: 1, SourceAddr: "15550002222", DestTON: 0, DestNPI: 0,
		DestAddr: "12345", RegisteredDelivery: 1,
		TLVs: tlvs(TagMessagePayload, "hello via data_sm", TagSourcePort, []byte{0x23, 0xF0},
			TagDestinationPort, []byte{0x0B, 0x84})}}},
	{"data_sm_resp", &PDU{Header: hdr(DataSMResp, StatusDeliveryFailure, 11), Body: &MessageResp{
		MessageID: "abc-1",
		TLVs: tlvs(TagDeliveryFailureReason, 3, TagNetworkErrorCode, []byte{3, 0x00, 0x22},
			TagAdditionalStatusInfoText, "absent subscriber\x00", TagDPFResult, 1)}}},
	{"query_sm", &PDU{Header: hdr(QuerySM, 0, 12), Body: &QuerySMBody{
		MessageID: "00001001", SourceAddr: "12345"}}},
	{"query_sm_resp", &PDU{Header: hdr(QuerySMResp, 0, 12), Body: &QuerySMRespBody{
		MessageID: "00001001", FinalDate: "261122031700000+", MessageState: StateDelivered}}},
	{"cancel_sm", &PDU{Header: hdr(CancelSM, 0, 13), Body: &CancelSMBody{
		MessageID: "00001001", SourceAddr: "12345", DestTON: 1, DestNPI: 1, DestAddr: "15550002222"}}},
	{"cancel_sm_resp", &PDU{Header: hdr(CancelSMResp, 0, 13)}},
	{"replace_sm", &PDU{Header: hdr(ReplaceSM, 0, 14), Body: &ReplaceSMBody{
		MessageID: "00001001", SourceAddr: "12345", ValidityPeriod: "000000020000000R",
		RegisteredDelivery: 1, Message: []byte("new text")}}},
	{"replace_sm_resp", &PDU{Header: hdr(ReplaceSMResp, StatusReplaceFail, 14)}},
	{"submit_multi", &PDU{Header: hdr(SubmitMulti, 0, 15), Body: &SubmitMultiBody{
		SourceTON: 5, SourceAddr: "Acme",
		Dests: []MultiDest{
			{Flag: DestFlagSME, TON: 1, NPI: 1, Addr: "15550002222"},
			{Flag: DestFlagDL, DLName: "staff"},
			{Flag: DestFlagSME, TON: 1, NPI: 1, Addr: "15550003333"},
		},
		RegisteredDelivery: 1, Message: []byte("meeting at 10"),
		TLVs: tlvs(TagUserMessageReference, []byte{0, 7})}}},
	{"submit_multi_resp", &PDU{Header: hdr(SubmitMultiResp, 0, 15), Body: &SubmitMultiRespBody{
		MessageID: "m-77",
		Unsuccess: []UnsuccessSME{{TON: 1, NPI: 1, Addr: "15550003333", Status: StatusInvDstAdr}}}}},
	{"alert_notification", &PDU{Header: hdr(AlertNotification, 0, 16), Body: &AlertNotificationBody{
		SourceTON: 1, SourceNPI: 1, SourceAddr: "15550002222", ESMEAddr: "12345",
		TLVs: tlvs(TagMSAvailabilityStatus, 0)}}},
	{"enquire_link", &PDU{Header: hdr(EnquireLink, 0, 3)}},
	{"enquire_link_resp", &PDU{Header: hdr(EnquireLinkResp, 0, 3)}},
	{"unbind", &PDU{Header: hdr(Unbind, 0, 0x42)}},
	{"unbind_resp", &PDU{Header: hdr(UnbindResp, 0, 0x42)}},
	{"generic_nack", &PDU{Header: hdr(GenericNack, StatusInvCmdID, 4)}},
}

// MustReadHex reads a .hex fixture: hex digits and whitespace, '#' starts a
// comment running to the end of the line.
func MustReadHex(t testing.TB, path string) []byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := parseHex(string(raw))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return b
}

func parseHex(s string) ([]byte, error) {
	var digits strings.Builder
	for line := range strings.SplitSeq(s, "\n") {
		line, _, _ = strings.Cut(line, "#")
		digits.WriteString(strings.Join(strings.Fields(line), ""))
	}
	return hex.DecodeString(digits.String())
}

// formatHex renders a PDU as a fixture: the header on one line, then the
// body in rows of 16 octets.
func formatHex(b []byte) string {
	var s strings.Builder
	s.WriteString("# generated by go test -update; hand annotations are kept while the bytes match\n")
	for i := 0; i < 16; i += 4 {
		fmt.Fprintf(&s, "%x", b[i:i+4])
		if i < 12 {
			s.WriteByte(' ')
		}
	}
	s.WriteByte('\n')
	for i := 16; i < len(b); i += 16 {
		fmt.Fprintf(&s, "% x\n", b[i:min(i+16, len(b))])
	}
	return s.String()
}

func TestGolden(t *testing.T) {
	seen := map[string]bool{}
	for _, tc := range goldens {
		seen[tc.name+".hex"] = true
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join("testdata", tc.name+".hex")
			enc, err := tc.pdu.MarshalBinary()
			if err != nil {
				t.Fatalf("MarshalBinary: %v", err)
			}
			if *update {
				old, _ := os.ReadFile(path)
				if oldb, err := parseHex(string(old)); err != nil || !bytes.Equal(oldb, enc) {
					if err := os.WriteFile(path, []byte(formatHex(enc)), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			raw := MustReadHex(t, path)
			if !bytes.Equal(enc, raw) {
				t.Errorf("MarshalBinary =\n% x\nwant (golden)\n% x", enc, raw)
			}
			got, err := Decode(raw)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			want := *tc.pdu
			want.Length = uint32(len(raw))
			if !reflect.DeepEqual(got, &want) {
				t.Errorf("Decode =\n%#v\nwant\n%#v", describe(got), describe(&want))
			}
		})
	}
	files, _ := filepath.Glob("testdata/*.hex")
	for _, f := range files {
		if !seen[filepath.Base(f)] {
			t.Errorf("%s has no entry in goldens", f)
		}
	}
}

// TestGoldenCoversCommands checks there is a golden PDU for every command id.
func TestGoldenCoversCommands(t *testing.T) {
	have := map[CommandID]bool{}
	for _, tc := range goldens {
		have[tc.pdu.ID] = true
	}
	for id := range commandNames {
		if !have[id] {
			t.Errorf("no golden fixture for %s", id)
		}
	}
}

// describe renders a PDU with its body dereferenced, for failure messages.
func describe(p *PDU) string {
	if p == nil {
		return "<nil>"
	}
	return fmt.Sprintf("%+v body=%+v", p.Header, p.Body)
}
