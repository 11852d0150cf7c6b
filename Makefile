# smscbridge — build, test and run targets. `make test` is what CI runs.
GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)
RACE      ?= -race
BENCHTIME ?= 1s
FUZZTIME  ?= 30s
BIN       := bin

# make install: DESTDIR-aware (packagers stage into DESTDIR; nothing outside it is touched then).
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
DOCDIR      ?= $(PREFIX)/share/doc/smscbridge
CONFDIR     ?= /etc/smscbridge
UNITDIR     ?= /etc/systemd/system
SYSUSERSDIR ?= /usr/lib/sysusers.d

.PHONY: build test test-pg test-browser demo interop compare chaos bench fuzz fmt vet check-config clean install verify-unit install-check

build:
	CGO_ENABLED=0 $(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/ ./cmd/...

test:
	$(GO) test $(RACE) -count=1 ./...

# The status page rendered in headless Chromium (Debian's package, installed
# here when missing); the screenshot goes to $(ARTIFACTS).
ARTIFACTS ?= $(CURDIR)/test-artifacts
test-browser:
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || echo "chromium not installable: the browser test will skip"
	mkdir -p $(ARTIFACTS)
	$(GO) test -tags browser -count=1 -run TestStatusPageInChromium -v -artifacts -outputdir $(ARTIFACTS) ./cmd/smscbridge

demo:
	$(GO) run -ldflags "$(LDFLAGS)" ./cmd/smscbridge demo

interop: build
	bash test/interop/run.sh

# The PostgreSQL store tests against a real server (they skip in `make test`
# when none answers); starts a throwaway one if need be: test/pg/run.sh.
test-pg:
	bash test/pg/run.sh

# make compare: Kannel vs smscbridge, same simulator, sink and load (test/compare).
# Quick check: make compare COMPARE_FLAGS="-mo 2000 -mt 1000 -duration 5s".
COMPARE_FLAGS ?=
compare: build
	@bash test/interop/run.sh --install-kannel || echo "compare: could not install Kannel; its half is skipped"
	$(GO) run ./test/compare -json compare.json $(COMPARE_FLAGS)

# make chaos: the daemon under faults (kill -9, SMSC drops, platform outage,
# throttling, garbage PDUs, bad HTTP, full disk), cmd/smscbridge/chaos_test.go.
# CHAOS_LONG=1 stretches the platform outage to a minute.
chaos:
	SMSCBRIDGE_TEST_QUIET=1 $(GO) test -tags chaos -run '^TestChaos' -count=1 -v -timeout 8m ./cmd/smscbridge/

bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./...

# Each fuzz target runs for FUZZTIME (go test -fuzz takes one target at a time).
FUZZ_TARGETS := FuzzDecode:./smsc/pdu FuzzDecodeLenient:./smsc/pdu FuzzRoundTrip:./smsc/pdu FuzzDecode:./smsc/coding FuzzAlphabet:./smsc/coding \
	FuzzUnpackGSM7:./smsc/coding FuzzParse:./smsc/dlr FuzzParseInbound:./smsc \
	FuzzParseSend:./bridge/rapidpro FuzzParseSend:./bridge/custom FuzzSendsms:./bridge/kannel FuzzExpand:./bridge/kannel FuzzParseRequest:./bridge/notify FuzzParse:./conf \
	FuzzDecodeParts:./store FuzzDecodeCallback:./bridge FuzzDecodeRecords:./bridge FuzzDecodeReport:./bridge/kannel FuzzDecodeTraceEvent:./store

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "fuzz $${t%%:*} in $${t#*:}"; \
		$(GO) test -run '^$$' -fuzz "^$${t%%:*}$$" -fuzztime $(FUZZTIME) "$${t#*:}"; \
	done

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...
	$(GO) vet -tags interop ./test/interop/
	$(GO) vet -tags browser ./cmd/smscbridge/
	$(GO) vet -tags chaos ./cmd/smscbridge/

check-config:
	@for f in testdata/*.toml; do echo "check-config $$f"; $(GO) run ./cmd/smscbridge check-config $$f || exit 1; done

clean:
	rm -rf $(BIN)

# install puts the binary, the systemd unit (its paths follow BINDIR), the
# sysusers.d entry of the smscbridge user, the README and a sample config
# (smscbridge.toml.sample; copied to smscbridge.toml only if that does not
# exist). Installing for real (no DESTDIR, as root) also creates the user,
# gives the config to group smscbridge and reloads systemd.
install: build
	install -D -m 0755 $(BIN)/smscbridge $(DESTDIR)$(BINDIR)/smscbridge
	install -d -m 0755 $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(DOCDIR) $(DESTDIR)$(CONFDIR)
	sed -e 's#/usr/local/bin/smscbridge#$(BINDIR)/smscbridge#g' -e 's#/usr/local/share/doc/smscbridge#$(DOCDIR)#g' \
		systemd/smscbridge.service > $(DESTDIR)$(UNITDIR)/smscbridge.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/smscbridge.service
	install -m 0644 systemd/smscbridge.sysusers $(DESTDIR)$(SYSUSERSDIR)/smscbridge.conf
	install -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	install -m 0640 testdata/smscbridge.toml $(DESTDIR)$(CONFDIR)/smscbridge.toml.sample
	@if [ ! -e $(DESTDIR)$(CONFDIR)/smscbridge.toml ]; then \
		install -m 0640 testdata/smscbridge.toml $(DESTDIR)$(CONFDIR)/smscbridge.toml; \
		echo "installed a sample $(DESTDIR)$(CONFDIR)/smscbridge.toml: edit it before starting the service"; \
	else echo "kept the existing $(DESTDIR)$(CONFDIR)/smscbridge.toml"; fi
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && command -v systemd-sysusers >/dev/null; then \
		systemd-sysusers $(SYSUSERSDIR)/smscbridge.conf && \
		chgrp smscbridge $(CONFDIR)/smscbridge.toml $(CONFDIR)/smscbridge.toml.sample && \
		chmod 0750 $(CONFDIR) && chgrp smscbridge $(CONFDIR) && \
		{ systemctl daemon-reload 2>/dev/null || echo "systemctl daemon-reload failed (no systemd running?)"; }; \
	fi

# install-check stages an install into a temporary DESTDIR and checks what
# it put there (CI).
install-check:
	@set -e; d=$$(mktemp -d); trap 'rm -rf "$$d"' EXIT; \
	$(MAKE) --no-print-directory install DESTDIR=$$d >/dev/null; \
	for f in usr/local/bin/smscbridge etc/systemd/system/smscbridge.service usr/lib/sysusers.d/smscbridge.conf \
		etc/smscbridge/smscbridge.toml etc/smscbridge/smscbridge.toml.sample usr/local/share/doc/smscbridge/README.md; do \
		test -e "$$d/$$f" || { echo "install-check: $$f missing"; exit 1; }; done; \
	test -x "$$d/usr/local/bin/smscbridge"; \
	"$$d/usr/local/bin/smscbridge" check-config "$$d/etc/smscbridge/smscbridge.toml" >/dev/null; \
	echo "install-check: OK (binary, unit, sysusers.d entry, config, README under DESTDIR)"

# verify-unit runs systemd-analyze verify on the unit (with ExecStart
# pointing at the built binary) and fails if its sandboxing exposure score
# rises above 2.0 (threshold 20 in systemd-analyze's tenths); skipped, saying so, where systemd-analyze is missing.
verify-unit: build
	@if ! command -v systemd-analyze >/dev/null; then \
		echo "verify-unit: SKIPPED: systemd-analyze not installed (apt-get install systemd)"; exit 0; fi; \
	set -e; d=$$(mktemp -d); trap 'rm -rf "$$d"' EXIT; \
	sed 's#/usr/local/bin/smscbridge#$(CURDIR)/$(BIN)/smscbridge#g' systemd/smscbridge.service > $$d/smscbridge.service; \
	systemd-analyze verify $$d/smscbridge.service; \
	out=$$(systemd-analyze security --offline=yes --threshold=20 --no-pager $$d/smscbridge.service 2>&1) || { echo "$$out"; exit 1; }; \
	echo "verify-unit: OK: $$(echo "$$out" | tail -1)"
