// Package dlr parses SMPP delivery receipts and defines how their message
// ids are matched to submit_sm_resp message ids.
//
// Parse reads the receipt text of SMPP 3.4 Appendix B
// ("id:… sub:… dlvrd:… submit date:… done date:… stat:… err:… text:…")
// leniently, as real SMSCs vary it (smpp.md §5.1–5.2 and §8 pitfalls 17–20):
// keys are case-insensitive, any field may be missing, the date keys may be
// written without a space or with an underscore, err is an opaque string and
// text swallows the rest. The receipted_message_id, message_state and
// network_error_code TLVs, when present, win over the text. Receipt bodies
// are read as ISO-8859-1 whatever their data_coding, unless they look like
// UTF-16BE (receipts flagged UCS2 that carry ASCII, and vice versa).
//
// CanonicalID, IDFormat and IDType turn message ids into comparable keys
// (smpp.md §5.3): ids can be decimal, hexadecimal or opaque strings, differ
// in zero-padding and case, differ in base between the submit_sm_resp and
// the receipt, and exceed 64 bits.
//
// The package does not decide whether a deliver_sm is a receipt (esm_class
// lives in package smsc; LooksLikeReceipt is only the text fallback), does
// not store receipt mappings, and does not convert the receipt dates, which
// are SMSC local time without a zone. It uses the standard library only and
// never logs.
package dlr
