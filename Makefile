# smscbridge — build, test and run targets. `make test` is what CI runs.
GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)
RACE      ?= -race
BENCHTIME ?= 1s
FUZZTIME  ?= 30s
BIN       := bin

.PHONY: build test test-pg test-browser demo interop bench fuzz fmt vet check-config clean

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

bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./...

# Each fuzz target runs for FUZZTIME (go test -fuzz takes one target at a time).
FUZZ_TARGETS := FuzzDecode:./smsc/pdu FuzzDecodeLenient:./smsc/pdu FuzzRoundTrip:./smsc/pdu FuzzDecode:./smsc/coding FuzzAlphabet:./smsc/coding \
	FuzzUnpackGSM7:./smsc/coding FuzzParse:./smsc/dlr FuzzParseInbound:./smsc \
	FuzzParseSend:./bridge/rapidpro FuzzParseSend:./bridge/custom FuzzSendsms:./bridge/kannel FuzzExpand:./bridge/kannel FuzzParseRequest:./bridge/notify FuzzParse:./conf \
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
	$(GO) vet -tags browser ./cmd/smscbridge/

check-config:
	@for f in testdata/*.toml; do echo "check-config $$f"; $(GO) run ./cmd/smscbridge check-config $$f || exit 1; done

clean:
	rm -rf $(BIN)
