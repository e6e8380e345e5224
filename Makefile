# The same commands the README and CI use. `make help` lists them.
CARGO_TARGET_DIR ?= $(HOME)/.cache/scenergy-target
export CARGO_TARGET_DIR

.PHONY: help services run test fmt clippy nextest peer-test

help: ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

services: ## Install (if missing) and start Redis and PostgreSQL; reuses running ones
	bash infra/local/services.sh

run: ## Run the system end to end with embedded defaults (README command one)
	bash infra/local/run.sh

test: ## Run every check and test, as CI does (README command two)
	bash infra/local/test.sh

fmt: ## Check formatting
	cargo fmt --all --check

clippy: ## Lint with warnings as errors
	cargo clippy --locked --workspace --all-targets -- -D warnings

nextest: services ## Rust tests only, against the real services
	cargo nextest run --workspace --profile ci

peer-test: services ## The official @upstash/redis client against the local gateway
	bash tools/upstash-gateway/peer-test/run.sh
