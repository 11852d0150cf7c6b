# smscbridge — build, test and run targets. `make test` is what CI runs.
GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)
RACE      ?= -race
BENCHTIME ?= 1s
FUZZTIME  ?= 30s
BIN       := bin

.PHONY: build test demo interop bench fuzz fmt vet check-config clean

build:
	CGO_ENABLED=0 $(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/ ./cmd/...

test:
	$(GO) test $(RACE) -count=1 ./...

demo:
	$(GO) run -ldflags "$(LDFLAGS)" ./cmd/smscbridge demo

interop: build
	bash test/interop/run.sh

bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./...

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzDecode -fuzztime $(FUZZTIME) ./smsc/pdu

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

check-config:
	@for f in testdata/*.toml; do echo "check-config $$f"; $(GO) run ./cmd/smscbridge check-config $$f || exit 1; done

clean:
	rm -rf $(BIN)
