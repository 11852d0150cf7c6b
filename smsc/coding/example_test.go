package coding_test

import (
	"fmt"

	"github.com/smscbridge/smscbridge/smsc/coding"
)

func Example() {
	text := "Your code is 1234 {valid 5 min} 😀"
	c := coding.Pick(text, coding.GSM7) // the emoji forces UCS2
	fmt.Println(c, coding.Units(text, c), coding.Parts(text, c, coding.UDHConcat8Len))

	b, _ := coding.Encode(coding.GSM7, "Hi @ {x}")
	fmt.Printf("% X\n", b)

	s, err := coding.Decode(0x08, []byte{0x00, 'h', 0xD8, 0x3D, 0xDE, 0x00})
	fmt.Println(s, err)
	// Output:
	// ucs2 34 1
	// 48 69 20 00 20 1B 28 78 1B 29
	// h😀 <nil>
}
