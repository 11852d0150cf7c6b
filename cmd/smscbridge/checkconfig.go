package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/smscbridge/smscbridge/conf"
)

const checkConfigUsage = `usage: smscbridge check-config FILE...
       smscbridge check-config -config FILE

Loads each configuration file exactly as "run" would (strict keys, *_file
secrets read, every cross-check) and prints "FILE: OK", or every problem
as "FILE:LINE: key value: what is allowed", one per line. Exit status 0 if
all files are valid, 1 if any is not, 2 on a usage error.
`

// checkConfigCmd validates configuration files: "FILE: OK" on stdout for a
// good one, each problem on its own line on stderr for a bad one.
func checkConfigCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check-config", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, checkConfigUsage) }
	path := fs.String("config", "", "configuration file (instead of a FILE argument)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	files := fs.Args()
	if *path != "" {
		files = append([]string{*path}, files...)
	}
	if len(files) == 0 {
		fs.Usage()
		return 2
	}
	status := 0
	for _, f := range files {
		if _, err := conf.Load(f); err != nil {
			for _, e := range splitErrors(err) {
				fmt.Fprintln(stderr, e)
			}
			status = 1
			continue
		}
		fmt.Fprintf(stdout, "%s: OK\n", f)
	}
	return status
}

// splitErrors lists the problems of an errors.Join error.
func splitErrors(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
