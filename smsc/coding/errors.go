package coding

import "errors"

// ErrUnencodable means the text contains a character that the requested
// coding cannot represent. The wrapping error names the character and its
// byte offset in the text.
var ErrUnencodable = errors.New("coding: character not representable")

// ErrInvalidUTF8 means the text given to Encode is not valid UTF-8.
var ErrInvalidUTF8 = errors.New("coding: text is not valid UTF-8")

// ErrBinary is returned by Decode when the data_coding declares binary data,
// compressed data, or an alphabet this package does not implement. It is a
// flag, not a failure: the string returned with it is the ISO-8859-1 reading
// of the bytes (one rune per octet, so the bytes can be recovered exactly).
var ErrBinary = errors.New("coding: data is not text in a supported alphabet")

// ErrMalformed is returned by Decode when the bytes are not valid for the
// declared data_coding (odd-length or unpaired UTF-16, octets above 0x7F in
// unpacked GSM 7-bit, unassigned ISO-8859-8 octets). It is a flag, not a
// failure: the string returned with it is a best-effort reading (bad UTF-16
// units and unassigned octets become U+FFFD; GSM data with octets above 0x7F
// is read as ISO-8859-1 instead).
var ErrMalformed = errors.New("coding: malformed data for the declared coding")

// ErrUDH means a user data header is truncated or one of its information
// elements overruns the header length.
var ErrUDH = errors.New("coding: malformed user data header")
