// Command smscsim is an SMPP 3.4 SMSC simulator for tests, demos,
// benchmarks and operators trying a configuration. It is a thin wrapper
// around package smsc/smsctest: it accepts binds, answers submit_sm, sends
// MO deliver_sm and delivery receipts, injects faults on request and prints
// a stats line (or JSON) when it stops.
//
//	smscsim -listen 127.0.0.1:2775 -system-id esme -password secret \
//	        -mo-count 10 -mo-rate 2 -dlr -dlr-mix "DELIVRD=8,UNDELIV=1,EXPIRED=1"
//
// It stops on SIGINT/SIGTERM or after -duration.
//
// With -record FILE it appends one JSON line per submit_sm to FILE, written
// before the submit_sm_resp goes out so a test can read it while the
// simulator runs: addresses with TON/NPI, esm_class, registered_delivery,
// data_coding, short_message and TLV values in hex, the text decoded as
// GSM 03.38 / Latin-1 / UCS-2 per data_coding (short_message, or
// message_payload when empty, without the UDH; for a segment also its
// ref/total/seq from the UDH or SAR TLVs), and the message_id and
// command_status answered (or "dropped"), and the rules it broke
// ("violation"). Submits refused as violations are recorded too; an
// undecodable one gets a line with its sequence number, status and
// violation only. Submits refused by -window are not recorded.
//
// It is a strict SMPP 3.4 SMSC (package smsctest): what an ESME sends
// against the rules is refused with the status a strict SMSC answers and
// reported, one "smscsim: violation: …" line each before the stats line
// (a "violations" list in the -json report, a "violation" field in the
// -record line). -lenient all (or a comma-separated list of rules, e.g.
// "interface_version,charset") accepts such PDUs instead, still reporting
// them. -dc0 sets what data_coding 0 means here: gsm7 (unpacked GSM 03.38,
// the default), gsm7-packed, latin1 or ascii.
//
// What it is not: a production SMSC. Everything is kept in memory and
// nothing is routed anywhere. Flags mirror smsctest's options; see -h.
package main
