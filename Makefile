# smscbridge — build, test and run targets. `make test` is what CI runs.
GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)
RACE      ?= -race
BENCHTIME ?= 1s
FUZZTIME  ?= 30s
BIN       := bin

.PHONY: build test demo interop compare chaos bench fuzz fmt vet check-config clean

build:
	CGO_ENABLED=0 $(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/ ./cmd/...

test:
	$(GO) test $(RACE) -count=1 ./...

demo:
	$(GO) run -ldflags "$(LDFLAGS)" ./cmd/smscbridge demo

interop: build
	bash test/interop/run.sh

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
	FuzzParseSend:./bridge/rapidpro FuzzParseSend:./bridge/custom FuzzParse:./conf \
	FuzzDecodeParts:./store

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

check-config:
	@for f in testdata/*.toml; do echo "check-config $$f"; $(GO) run ./cmd/smscbridge check-config $$f || exit 1; done

clean:
	rm -rf $(BIN)
