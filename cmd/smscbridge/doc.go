// Command smscbridge is the SMPP ↔ HTTP bridge daemon and its operator
// commands:
//
//	smscbridge run -config FILE          the daemon (systemd runs this)
//	smscbridge check-config FILE         validate a configuration; exit 1 on errors
//	smscbridge demo                      simulator, bridge and stand-in platforms on loopback
//	smscbridge queue ls|stats|show|requeue|drop|compact [flags]
//	smscbridge version
//
// This package only wires components together: it maps conf.Config onto the
// options of store, smsc, bridge and the channel adapters, serves the
// platform and admin listeners, and orders start-up and shutdown (SIGTERM:
// stop HTTP, let in-flight submit_sm finish, unbind, close the store). SIGHUP
// reloads the configuration file (daemon.Reload: validated first, only what
// changed is applied, unchanged binds stay up). Under systemd it speaks the
// notify protocol: READY=1, RELOADING=1/READY=1 around a reload, WATCHDOG=1
// from a loop that checks a store commit and the lanes, STOPPING=1.
package main
