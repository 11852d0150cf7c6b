// Package interop holds the interoperability tests of smscbridge against SMPP
// implementations we did not write. They run only with the build tag
// `interop`, through `make interop` (test/interop/run.sh), which installs the
// peers first:
//
//   - node-smsc.js, an SMSC built on the npm package `smpp` 0.5.1: our
//     smsc.Client binds to it as transceiver, transmitter+receiver pair and
//     receiver, also over TLS; submits GSM 03.38, long GSM 03.38 with
//     extension characters and UCS-2 with emoji, split by 8- and 16-bit UDH,
//     SAR TLVs or message_payload; and receives receipts, MO (single,
//     concatenated out of order, in message_payload, as data_sm), the SMSC's
//     enquire_link, unbind and an unknown command. The peer prints every PDU
//     it sees as JSON, and the tests check what the peer decoded, not only
//     what we sent (esme_test.go, tls_test.go).
//   - Debian's Kannel (bearerbox + smsbox) as an ESME binding to the
//     in-process smsctest server and to the bin/smscsim binary: messages
//     sent through Kannel's sendsms arrive with the right text and
//     data_coding, our receipts (hex ids in submit_sm_resp, decimal in
//     receipts) reach Kannel's dlr-url, and our MO reach Kannel's sms-service
//     (kannel_test.go, kannel.conf.tmpl).
//   - node-esme.js, the same npm library as an ESME driving bin/smscsim
//     (smscsim_test.go).
//
// Everything listens on 127.0.0.1 only, every wait is bounded, and every
// process a test starts is stopped by its PID when the test ends. The
// package has no non-test code; this file only documents it. The SMPP parts
// exercised are SMPP 3.4 §4.1–4.7 and §4.11 (bind, submit_sm, deliver_sm,
// data_sm, enquire_link, generic_nack, unbind), §5.2.12/5.2.17/5.2.19
// (esm_class, registered_delivery, data_coding), §5.3.2 (SAR and receipt
// TLVs, message_payload) and Appendix B (receipts); GSM 03.38 and 3GPP TS
// 23.040 §9.2.3.24 (concatenation UDH); and the pitfalls of smpp.md §8
// (1–5, 9, 13, 15, 20–24).
package interop
