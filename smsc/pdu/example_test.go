package pdu_test

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/smscbridge/smscbridge/smsc/pdu"
)

func Example() {
	submit := &pdu.PDU{
		Header: pdu.Header{ID: pdu.SubmitSM, Seq: 2},
		Body: &pdu.ShortMessage{
			SourceAddr: "12345", DestTON: 1, DestNPI: 1, DestAddr: "15550002222",
			RegisteredDelivery: pdu.RegisteredDeliveryReceipt,
			Message:            []byte("Hi"),
		},
	}
	var conn bytes.Buffer // stands in for a net.Conn
	if err := pdu.Write(&conn, submit); err != nil {
		fmt.Println(err)
		return
	}
	p, err := pdu.Read(&conn, pdu.DefaultMaxLength)
	if err != nil {
		fmt.Println(err)
		return
	}
	sm := p.Body.(*pdu.ShortMessage)
	fmt.Println(p.Header, sm.DestAddr, string(sm.Message))

	resp := pdu.NewResponse(p, pdu.StatusThrottled, nil)
	fmt.Println(resp.Header)
	var st pdu.Status
	if errors.As(fmt.Errorf("submit: %w", resp.Status), &st) && st.Temporary() {
		fmt.Println("retry later:", st)
	}
	// Output:
	// submit_sm seq=2 status=ESME_ROK 15550002222 Hi
	// submit_sm_resp seq=2 status=ESME_RTHROTTLED
	// retry later: ESME_RTHROTTLED (0x58): throttling error
}

func ExampleDecodeError() {
	// An unknown command_id: answer generic_nack ESME_RINVCMDID, keep going.
	raw := []byte{0, 0, 0, 16, 0, 0, 1, 0x23, 0, 0, 0, 0, 0, 0, 0, 4}
	_, err := pdu.Decode(raw)
	var de *pdu.DecodeError
	if errors.As(err, &de) && de.HeaderOK {
		nack := pdu.NewGenericNack(de.Header.Seq, de.Status)
		b, _ := nack.MarshalBinary()
		fmt.Printf("%v\n% x\n", err, b)
	}
	// Output:
	// pdu: command_id(0x00000123) seq 4: unknown command_id (ESME_RINVCMDID)
	// 00 00 00 10 80 00 00 00 00 00 00 03 00 00 00 04
}
