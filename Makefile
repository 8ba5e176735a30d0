# The two commands: `make run` starts the whole system on :7000,
# `make test` proves it. `make help` lists the rest.

GO ?= go
SERVICES := gateway ordersvc paymentsvc flowsvc
# Tag of the images; the Helm chart's appVersion names the same.
IMAGE_TAG ?= 0.1.0

.PHONY: help run test vet unit deps swag build fuzz token load bench chaos clean \
	docker-build compose-up compose-plugin compose-down k8s-render ecs-render k8s-credentials

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed 's/$$(IMAGE_TAG)/$(IMAGE_TAG)/g' | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

# Built, then run, rather than `go run`, so that Ctrl-C stops the stack
# itself, cleanly (devstack exits 0). make, interrupted too, then says so and
# exits 130, as it does for any recipe stopped by Ctrl-C.
run: ## run the whole system locally: API on :7000, Swagger UI on :7000/api
	@echo "building bin/devstack (the first build compiles the embedded FerretDB and its SQLite: a few minutes; later ones take seconds)"
	$(GO) build -o bin/devstack ./devstack/cmd/devstack
	./bin/devstack

# FerretDB runs under the race detector too, so every package is in -race.
# The deploy module checks the Dockerfile, compose file, manifests and chart.
test: deps vet ## install what tests need, then vet and run every test with -race
	@echo "testing every package with -race (the first run compiles FerretDB, SQLite and the race runtime: several minutes, then output comes package by package)"
	$(GO) test -race -count=1 ./...
	cd deploy && $(GO) test -count=1 ./...

vet: ## go vet
	$(GO) vet ./...
	cd deploy && $(GO) vet ./...

unit: ## the fast tests only (no Redis, no FerretDB, no swag run)
	$(GO) test -short -count=1 ./ordersvc/ ./gateway/ ./transport/...

# redis-server, chromium (the flow page's browser test) and shellcheck (the
# workflows' scripts) are what tests need that Go does not bring.
deps: ## install redis-server, chromium and shellcheck through apt when missing (as root)
	@missing=""; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v shellcheck >/dev/null 2>&1 || missing="$$missing shellcheck"; \
	[ -z "$$missing" ] || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "missing and cannot be installed here (not root, or no apt-get):$$missing; tests that need them will skip"; \
	  fi; }

swag: ## regenerate the OpenAPI documents (Swagger 2.0, then OpenAPI 3) from the gateway's annotations
	cd gateway && $(GO) tool swag init --quiet -g gateway.go -d . --outputTypes go,json --packageName docs -o docs
	$(GO) run ./gateway/apidoc/cmd/apidoc gateway/docs/swagger.json gateway/docs/openapi.json

build: ## build the service binaries into bin/
	$(GO) build -trimpath -o bin/ $(foreach s,$(SERVICES),./$(s)/cmd/$(s)) ./devstack/cmd/devstack

fuzz: ## fuzz the create-order, token and cursor decoders, 30 s each
	$(GO) test -run '^$$' -fuzz FuzzParseCreateOrder -fuzztime 30s ./gateway/
	$(GO) test -run '^$$' -fuzz FuzzTokens -fuzztime 30s ./gateway/
	$(GO) test -run '^$$' -fuzz FuzzDecodeCursor -fuzztime 30s ./ordersvc/orderstore/

# LOAD and BENCH pass flags: make load LOAD="-c 64 -d 1m -url http://host:7000".
token: ## print a sign-in token for user SUB (default u1), signed with AUTH_HS256_SECRET, valid for TTL (default 1h)
	@GATEWAY_AUTH_HS256_SECRET="$(AUTH_HS256_SECRET)" $(GO) run ./gateway/cmd/gateway token -sub "$(or $(SUB),u1)" -ttl "$(or $(TTL),1h)"

load: ## send orders to the API on :7000 for 20 s and report what clients saw (LOAD= flags, -h lists them)
	$(GO) run ./loadgen/cmd/loadgen $(LOAD)

bench: ## measure the stack on a fresh embedded store at concurrency 1, 16, 64 and with 100,000 orders stored (~15 min)
	$(GO) run ./loadgen/cmd/bench $(BENCH)

# Each run's whole output, service logs included when it fails, is in
# .chaos.log; the report of each way paymentsvc asks the demo rule is
# printed under its name.
chaos: deps ## kill any process of two replicas each every ~2 s under load, at 2,000 then 5,000 orders, and print the reports (~12 min)
	@for n in 2000 5000; do \
	  echo "chaos with $$n orders placed during the kills"; \
	  CHAOS_ORDERS=$$n $(GO) test -count=1 -timeout 60m -run '^TestTheOperatorsWorstDay' -v ./devstack/ > .chaos.log 2>&1; status=$$?; \
	  awk '/^=== RUN .*\//{sub(/^=== RUN +[^\/]*\//, ""); print "# " $$0; next} /chaos_test.go:[0-9]+: *$$/{on=1; next} on && /^        /{print; next} {on=0}' .chaos.log; \
	  grep -E '^ *(--- |ok|FAIL)' .chaos.log; \
	  [ $$status = 0 ] || { echo "make chaos: failed; the whole output is in .chaos.log"; exit 1; }; \
	done

docker-build: ## build the three images, orderflow/<service>:$(IMAGE_TAG) (needs Docker)
	for s in $(SERVICES); do \
	  docker build -f docker/Dockerfile --target $$s --build-arg VERSION=$(IMAGE_TAG) --build-arg COMMIT=$$(git rev-parse HEAD 2>/dev/null) -t orderflow/$$s:$(IMAGE_TAG) . || exit 1; \
	done

.env:
	@sh scripts/credentials.sh .env.example .env

compose-up: compose-plugin .env ## run the system with docker compose on :7000 (writes .env with random passwords if missing)
	IMAGE_TAG=$(IMAGE_TAG) docker compose up --build

# Checked before .env is written: without the plugin, `docker compose` is
# docker's "unknown flag" after the fact.
compose-plugin:
	@docker compose version >/dev/null 2>&1 || { echo "make compose-up needs Docker with the compose plugin (docker compose version fails here): https://docs.docker.com/compose/install/"; exit 1; }

compose-down: ## stop docker compose (its MongoDB volume stays; add -v to drop it)
	docker compose down

k8s-render: ## render the plain manifests of k8s/ from the Helm chart
	cd deploy && $(GO) run ./cmd/k8s-render -root ..

ecs-render: ## render ecs/ (the ECS task definitions and CloudFormation template) from the Helm chart
	cd deploy && $(GO) run ./cmd/ecs-render -root ..

k8s-credentials: ## write k8s/credentials.env with random passwords, for kubectl apply -k k8s/
	@sh scripts/credentials.sh k8s/credentials.env.example k8s/credentials.env

clean: ## remove build output and the local data of `make run`
	rm -rf bin .data
