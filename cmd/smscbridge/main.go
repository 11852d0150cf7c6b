package main

import (
	"fmt"
	"io"
	"os"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `usage: smscbridge <command> [flags]

commands:
  run -config FILE         run the daemon (systemd runs this; SIGHUP reloads FILE)
  check-config FILE        validate a configuration file; exit 1 on errors
  migrate -config FILE     create or upgrade the PostgreSQL schema ([store] backend = "postgres")
  demo                     simulator, bridge and stand-in platforms in one process on loopback
  queue ls|show|requeue|drop|compact [flags]   inspect and repair the durable queue
  trace ID|NUMBER          every hop of a message (or of a number's messages)
  version                  print the version
`

func main() {
	os.Exit(mainCmd(os.Args[1:], os.Stdout, os.Stderr))
}

func mainCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "run":
		return runCmd(args[1:], stdout, stderr)
	case "check-config":
		return checkConfigCmd(args[1:], stdout, stderr)
	case "migrate":
		return migrateCmd(args[1:], stdout, stderr)
	case "demo":
		return demoCmd(args[1:], stdout, stderr)
	case "queue":
		return queueCmd(args[1:], stdout, stderr)
	case "trace":
		return traceCmd(args[1:], stdout, stderr)
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, "smscbridge", version)
		return 0
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "smscbridge: unknown command %q\n%s", args[0], usage)
	return 2
}
