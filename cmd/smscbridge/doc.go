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
// stop HTTP, let in-flight submit_sm finish, unbind, close the store).
package main
