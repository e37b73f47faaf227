# aftercare: the two commands a newcomer needs are `make dev` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV      := .local/venv/bin
GOFILES    = $(shell git ls-files '*.go' 2>/dev/null; git ls-files --others --exclude-standard '*.go' 2>/dev/null)
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

.PHONY: install
install: ## install the local tools into .local/ (first run only)
	@bash infra/local/install.sh

.PHONY: dev
dev: install ## run everything locally: HTTP API :3000, Lambda Invoke API :3001, SQS pollers
	@go build -o .local/bin/devstack ./infra/devstack/cmd/devstack
	@exec .local/bin/devstack $(DEV_FLAGS)

.PHONY: test
test: install fmt-check vet staticcheck go-test sam-check ## everything CI runs

.PHONY: fmt-check
fmt-check:
	@out=$$(gofmt -l $(GOFILES)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

.PHONY: vet
vet:
	go vet ./...

.PHONY: staticcheck
staticcheck: install
	.local/bin/staticcheck ./...

.PHONY: go-test
go-test: install ## unit tests and integration tests (they start DynamoDB Local and moto) with -race
	go test -race -count=1 -timeout 20m $$(go list ./... | grep -v '/infra/e2e$$')
	@# The e2e runs the whole local stack (six functions, emulators): alone, so
	@# that two cores are not shared with other packages' emulator tests.
	go test -race -count=1 -timeout 20m ./infra/e2e/

.PHONY: sam-check
sam-check: install ## sam validate --lint, cfn-lint and sam build
	$(VENV)/sam validate --lint
	$(VENV)/cfn-lint template.yaml
	GOFLAGS=-tags=lambda.norpc $(VENV)/sam build --cached

.PHONY: bench
bench: install ## benchmarks with their floors, side by side
	go test -run '^$$' -bench . -benchmem -count 5 ./internal/...

.PHONY: coldstart
coldstart: ## each function's stripped arm64 binary and Init Duration vs its floor (hello-world with the same SDK clients), with the ratios
	go run ./infra/cmd/coldstart

FUZZTIME ?= 60s
.PHONY: fuzz
fuzz: ## run every fuzzer for FUZZTIME (60s) each; new corpus entries land in Go's cache
	@for pkg in $$(grep -l '^func Fuzz' internal/*/*_test.go | xargs -n1 dirname | sort -u); do \
	  for f in $$(grep -ho '^func Fuzz[A-Za-z]*' $$pkg/*_test.go | cut -d' ' -f2); do \
	    echo "== $$pkg $$f"; go test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) ./$$pkg || exit 1; \
	  done; \
	done

LOCAL_AWS := AWS_ENDPOINT_URL_SQS=http://127.0.0.1:9324 AWS_ENDPOINT_URL_SSM=http://127.0.0.1:9324 AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8000 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local

.PHONY: backfill
backfill: ## import a shop's order history into the local stack: make backfill SHOP=<domain> FILE=<orders.jsonl>
	@if [ -z "$(SHOP)" ] || [ -z "$(FILE)" ]; then echo "usage: make backfill SHOP=<domain> FILE=<orders.jsonl> (with make dev running)"; exit 2; fi
	@$(LOCAL_AWS) go run ./infra/cmd/aftercare backfill --shop "$(SHOP)" --file "$(FILE)" --queue aftercare-local-InboxQueue

.PHONY: samples
samples: ## regenerate the sample invocation events in events/ from the golden webhooks
	go run ./infra/cmd/samples

.PHONY: preview
preview: ## render every message kind x channel for infra/settings.example.json into .local/preview/ (open index.html)
	go run ./infra/cmd/preview -settings infra/settings.example.json -out .local/preview

.PHONY: outbox
outbox: ## list the emails and SMS the local stack sent (moto's SES and SNS); RAW=1 prints each email's MIME
	go run ./infra/cmd/outbox -endpoint http://127.0.0.1:9324 $(if $(RAW),-raw)

.PHONY: fmt
fmt:
	gofmt -w $(GOFILES)

.PHONY: clean
clean: ## remove build output (keeps the installed tools)
	rm -rf .aws-sam

.PHONY: distclean
distclean: clean ## remove the installed tools too
	rm -rf .local

N ?= 1000
COST_N ?= 200
# COST_FLAGS=-cpu=false bills the host's CPUs where no cgroup can be written (not root, not Linux).
COST_FLAGS ?=
.PHONY: cost
cost: install ## a month of COST_N (200) order lives through the local stack, every billable unit, the AWS bill per 1,000 orders
	go run ./infra/cost -n $(COST_N) $(COST_FLAGS)

.PHONY: memory
memory: install ## the same month at 128, 256 and 512 MB, each function on that size's CPU share: durations and compute side by side
	go run ./infra/cost -n $(COST_N) $(COST_FLAGS) -sweep 128,256,512

.PHONY: soak
soak: install ## replay N webhooks of order lives clean, then with faults, and compare what was delivered
	go run ./infra/soak -n $(N) $(SOAK_FLAGS)
