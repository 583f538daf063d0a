# Carechart: the two commands of the README, and a few more for developers.
#   make run    install what is missing, build, and serve a demo database on http://localhost:8080
#   make test   install what is missing, build, and run every test
.PHONY: run test build deps bench format help clean

BUILD_DIR ?= build
JOBS ?= $(shell nproc)
PORT ?= 8080
DB ?= data/carechart.db

help:
	@echo "make run    - install dependencies, build, serve a demo database at http://localhost:$(PORT)"
	@echo "make test   - install dependencies, build, run every test (unit, conformance, crash)"
	@echo "make bench  - run the benchmarks (bench/run.sh --help for options)"
	@echo "make format - apply .clang-format to the C++ sources"

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD_DIR) -j $(JOBS)
	@bash scripts/build-web.sh

run: build
	@mkdir -p $(dir $(DB))
	@echo "Signing in: every FHIR request needs an OAuth access token (docs/security.md). For curl, in"
	@echo "another terminal:  $(BUILD_DIR)/src/app/carechart client add cli --kind backend --scope 'system/*.cruds' --db $(DB)"
	@echo "  TOKEN=\$$($(BUILD_DIR)/src/app/carechart token --client cli --db $(DB) --base-url http://localhost:$(PORT)/fhir)"
	@echo "  curl -H \"Authorization: Bearer \$$TOKEN\" http://localhost:$(PORT)/fhir/Patient?name=lopez"
	@echo "SMART apps sign in at /auth/authorize (the first start prints the admin's one-time password)."
	$(BUILD_DIR)/src/app/carechart serve --db $(DB) --host 127.0.0.1 --port $(PORT) --demo

test: build
	@bash scripts/run-all-tests.sh $(BUILD_DIR)

bench: build
	@bash bench/run.sh --bin $(BUILD_DIR)/src/app/carechart

format:
	@find src bench -name '*.cc' -o -name '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR)
