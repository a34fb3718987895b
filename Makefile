# The README's two commands are `make run` and `make test`.
GO      ?= go
# cvo is the served binary (server, worker, migrate, score); cvodev the
# developer tools (demo, simulator, generator, benchmarks, fleet).
BIN     := bin/cvo
DEVBIN  := bin/cvodev
# go.mod ignores frontend/node_modules, whose npm packages can hold Go files.
PKGS    := $(shell $(GO) list ./...)

.PHONY: run build frontend generate test test-go test-frontend test-e2e bench lint lint-go lint-frontend lint-tools services fmt e2e chaos

# With no Shopify credentials in the environment, the explicit demo
# (cvodev demo: simulator, built-in credentials, loopback); with them, the
# real app (cvo run).
run: build services
	@if [ -z "$$SHOPIFY_API_KEY$$SHOPIFY_API_SECRET" ]; then ./$(DEVBIN) demo; else ./$(BIN) run; fi

build: frontend
	$(GO) build -o $(BIN) ./app
	$(GO) build -o $(DEVBIN) ./app/cvodev

# The admin page is built when its sources exist and npm is available; the
# Go binary embeds whatever frontend/dist holds.
frontend:
	@if [ -f frontend/package.json ]; then \
		cd frontend && (npm ci --no-audit --no-fund --loglevel=error || npm install --no-audit --no-fund --loglevel=error) && npm run build; \
	fi

# The admin API's contract, internal/web/openapi.yaml, generates the Go types
# and Echo interface (oapi-codegen, pinned as a tool in go.mod) and the
# page's TypeScript types (openapi-typescript, pinned in package-lock.json).
# The generated code is committed; `make test` fails when it is stale
# (internal/web/apigen's test, and `npm run check:api`).
generate:
	$(GO) generate ./internal/web/apigen
	cd frontend && npm run generate:api

test: services lint test-go test-frontend test-e2e

# golangci-lint is pinned and built from the Go module proxy into bin/tools
# when missing (never at run time, never a floating version); its checks are
# in .golangci.yml.
GOLANGCI_LINT_VERSION := v2.15.0
GOLANGCI_LINT := bin/tools/$(GOLANGCI_LINT_VERSION)/golangci-lint

lint: lint-go lint-frontend

lint-tools: $(GOLANGCI_LINT)

$(GOLANGCI_LINT):
	GOBIN=$(CURDIR)/$(dir $(GOLANGCI_LINT)) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)

# --allow-parallel-runners: another checkout's lint on the same machine (its
# lock file is machine-wide) must not fail this one.
lint-go: $(GOLANGCI_LINT)
	@out=$$(gofmt -l $$(find . -name '*.go' -not -path './frontend/node_modules/*' -not -path './.git/*')); \
		if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) mod tidy -diff
	$(GOLANGCI_LINT) run --allow-parallel-runners ./...

# ESLint (flat config, typescript-eslint, react-hooks): frontend/eslint.config.js.
lint-frontend:
	@if [ -f frontend/package.json ]; then \
		cd frontend && { [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error; } && npm run lint; \
	fi

test-go:
	$(GO) vet $(PKGS)
	$(GO) test -race -count=1 -timeout 12m $(PKGS)
	$(GO) test -count=1 -run '^TestLoadOnlineRetail$$' ./internal/shopgen
	@# The stored line sums must equal Go's to the last bit on builds that
	@# may fuse a multiply and an add (arm64; amd64 at GOAMD64=v3), where
	@# the CPU can run such a build.
	@if [ "$$($(GO) env GOARCH)" = amd64 ] && GOAMD64=v3 $(GO) test -count=1 -run '^$$' ./internal/cvo >/dev/null 2>&1; then \
		GOAMD64=v3 $(GO) test -count=1 -run 'LineSums|Summed|AcrossFetchChunks|StreamedHistory' ./internal/ledger ./internal/postgres ./internal/rescore; \
	fi

test-frontend:
	@if [ -f frontend/package.json ]; then \
		cd frontend && (npm ci --no-audit --no-fund --loglevel=error || npm install --no-audit --no-fund --loglevel=error) && npm run check:api && npm test; \
	fi

# The admin page in Debian's Chromium against the real demo (app, simulator,
# Online Retail shop), every page checked against the API.
test-e2e: frontend services
	frontend/e2e/demo.sh

# Go benchmarks, then the project's own benchmark commands at the sizes the
# issues name (a 1M-customer / 5M-order shop); BENCH_CUSTOMERS and
# BENCH_ORDERS scale them down for a quick look. BENCH_BASELINE, another
# build's cvo binary, runs cvo score beside this one's, alternating.
BENCH_CUSTOMERS ?= 1000000
BENCH_ORDERS    ?= 5000000
BENCH_BASELINE  ?=

bench: build services
	$(GO) test -run '^$$' -bench . -benchmem -timeout 60m ./internal/...
	./$(DEVBIN) bench-score --bin $(BIN) $(if $(BENCH_BASELINE),--compare $(BENCH_BASELINE) --runs 3) --customers 10000,100000,$(BENCH_CUSTOMERS)
	./$(DEVBIN) bench-sync --customers $(BENCH_CUSTOMERS) --orders $(BENCH_ORDERS)
	./$(DEVBIN) bench-sync --rescore-only --parallel 4
	./$(DEVBIN) bench-writeback --customers $(BENCH_CUSTOMERS) --change 0.1 --initial
	./$(DEVBIN) bench-api --customers $(BENCH_CUSTOMERS) --orders $(BENCH_ORDERS)

# A fleet end to end (README "Running a fleet"): cvodev starts bin/cvo, the
# served binary, as one server and two workers, separate processes with a database and a redis-server of
# their own, 20 simulated shops, live webhooks, a 10,000-delivery storm,
# uninstall and shop/redact. Not part of make test; FLEET_FLAGS adds flags.
e2e: build services
	./$(DEVBIN) fleet e2e -bin $(BIN) $(FLEET_FLAGS)

# make e2e with faults: workers SIGKILLed during a sync and a write-back,
# its own Redis restarted, a throttling and failing Shopify, and the shared
# PostgreSQL server restarted with pg_ctlcluster, which breaks anything else
# using it at that moment: never run it beside make test.
chaos: build services
	./$(DEVBIN) fleet chaos -bin $(BIN) $(FLEET_FLAGS)

# Start PostgreSQL and Redis when they are down (as on a fresh machine).
services:
	@pg_isready -h 127.0.0.1 -p 5432 -q || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
	@for i in $$(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && exit 0; sleep 1; done; echo "services did not start" >&2; exit 1

fmt:
	gofmt -l -w app internal webhooks migrations frontend/embed.go
