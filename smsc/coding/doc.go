// Package coding converts SMS text to and from the byte forms SMPP carries,
// and splits long text into concatenated segments.
//
// It implements:
//
//   - the GSM 03.38 default alphabet and its extension table (3GPP TS 23.038
//     §6.2.1, smpp.md §6.1–6.2), unpacked (one septet per octet, what SMPP
//     SMSCs expect for data_coding 0x00) and packed (PackGSM7, UnpackGSM7,
//     smpp.md §6.3);
//   - ASCII (IA5), ISO-8859-1, ISO-8859-5, ISO-8859-8 and UCS2 (UTF-16BE with
//     surrogate pairs) — SMPP 3.4 §5.2.19 data_coding, smpp.md §4.3;
//   - decoding of every data_coding value, including the TS 23.038 general
//     data coding groups (0x10–0x7F), message waiting groups (0xC0–0xEF) and
//     message class groups (0xF0–0xFF);
//   - choice of coding (Pick), length counting (Units, Parts), splitting on
//     character boundaries (Split, never separating a GSM escape pair or a
//     UTF-16 surrogate pair) and the concatenation user data header
//     (Concat, ParseUDH; TS 23.040 §9.2.3.24.1 and .8, smpp.md §6.4–6.5);
//   - what an SMSC means by data_coding 0x00 (Alphabet, Kannel's
//     alt-charset, smpp.md §4.3): GSM 03.38 unpacked (the default) or
//     packed with UDH fill bits, or ISO-8859-1 / ASCII that the SMSC
//     converts to GSM for the air interface, sized in GSM septets.
//
// It does not build PDUs, reassemble inbound segments, or know about
// sessions; package smsc does. It does not implement the national language
// shift tables (UDH IEI 0x24/0x25), JIS, ISO-2022-JP, KS C 5601 or
// compressed data: those are decoded through the binary fallback of Decode.
// Encode never substitutes characters: text that does not fit a coding is an
// error (ErrUnencodable), and callers pick UCS2 instead (see Pick).
//
// The package uses the standard library only and never logs.
package coding
