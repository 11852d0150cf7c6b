// Package interop holds the interoperability tests of smscbridge against SMPP
// implementations we did not write. They run only with the build tag
// `interop`, through `make interop` (test/interop/run.sh), which installs the
// peers first:
//
//   - node-smsc.js, an SMSC built on the npm package `smpp` 0.5.1: our
//     smsc.Client binds to it as transceiver, transmitter+receiver pair and
//     receiver, submits GSM 03.38, long GSM 03.38 with extension characters
//     and UCS-2 with emoji, and receives MO (single and concatenated) and
//     receipts. The test checks what the peer decoded, not only what we sent.
//   - Debian's Kannel (bearerbox + smsbox) as an ESME binding to our
//     cmd/smscsim: messages sent through Kannel's sendsms must reach the
//     simulator with the right text and data_coding, and the simulator's
//     receipts must reach Kannel's dlr-url.
//
// Everything listens on 127.0.0.1 only, every wait is bounded, and every
// process a test starts is stopped by its PID when the test ends. The
// package has no non-test code; this file only documents it. The SMPP
// sections exercised are those of smpp.md §4 (field values), §5 (receipts),
// §6 (GSM 03.38, UCS-2 and UDH segmentation) and §8 (pitfalls 1, 3, 4, 15).
package interop
