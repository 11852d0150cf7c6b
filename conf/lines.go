package conf

// lineIndex maps key paths ("smsc.0.port") to the line they are written on.
type lineIndex struct {
	lines map[string]int
}
