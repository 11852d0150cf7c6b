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
// What it is not: a production SMSC. Everything is kept in memory and
// nothing is routed anywhere. Flags mirror smsctest's options; see -h.
package main
