# nslab — run as root (sudo make ...) for everything that creates namespaces.
# sudo resets PATH: fall back to the usual Go install location. Expanded
# where used (?= is recursive), so a Go that `make setup` just installed counts.
GO       ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
CC       ?= gcc
CFLAGS   ?= -O2 -Wall -Wextra -Werror
BIN      := bin
CHAPTERS := $(sort $(wildcard [0-9][0-9]-*))
CSRC     := $(wildcard [0-9][0-9]-*/c/*.c)
CBIN     := $(patsubst %.c,$(BIN)/c/%,$(notdir $(CSRC)))

.PHONY: all build c test test-oldest-go lint tour clean help bench soak setup fresh-test

all: build c

help:
	@echo "make tour    run every chapter's demo in order (root); make tour-02 for one"
	@echo "make test    the test suite: go vet + go test (root; CI runs exactly this)"
	@echo "make test-oldest-go  make test with go.mod's Go (1.22; CI runs it too)"
	@echo "make setup   install what is missing (tour and test run it first; NSLAB_SETUP=0 skips)"
	@echo "make build   build the Go programs into $(BIN)/"
	@echo "make c       build the C counterparts into $(BIN)/c/"
	@echo "make lint    gofmt, go vet, shellcheck"
	@echo "make check   preflight: kernel features, cgroups, tools (like Docker's check-config)"
	@echo "make check-02  check your work on a chapter's exercises (end of its README)"
	@echo "make soak    every demo 100x, then 20x Ctrl-C and 20x SIGKILL + make reset at random: the host must not change (root; SOAK_STEPS=06-net: those steps only)"
	@echo "make reset   remove what a crashed or killed demo left behind, and nothing else (root)"
	@echo "make bench   what each namespace, a veth and a whole container cost: C vs Go vs unshare, 10-container vs runc (root; ROUNDS=100)"
	@echo "make vm-test the test suite as root in a Debian 12 cgroup-v2 guest under qemu (ARCH=arm64: an arm64 guest)"
	@echo "make vm-clean  drop the cached guest images and the guest's build cache"
	@echo "make vm      that guest, interactively: a root shell in this checkout (Linux, no Vagrant)"

# A program is rebuilt when its chapter's sources, common's or go.mod changed
# since it was built: make's rule, as for the C below. So the guest of make
# vm, whose build cache starts cold, uses the programs the host just built,
# and compiles only a chapter edited since.
build: $(addprefix $(BIN)/,$(CHAPTERS))

$(BIN)/%: %/*.go $(wildcard common/*.go) go.mod go.sum
	@mkdir -p $(BIN)
	$(GO) build -buildvcs=false -o $(BIN)/ ./$*

$(BIN)/09-setns: 09-setns/nsexec.c

c: $(CBIN)

$(BIN)/c/%: [0-9][0-9]-*/c/%.c
	@mkdir -p $(BIN)/c
	$(CC) $(CFLAGS) -o $@ $< -lrt

# The one test command: README and .ci/run both use it. -buildvcs=false:
# as root in a clone owned by another user, git refuses to answer go build.
test: export GOFLAGS += -buildvcs=false
test: setup
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 10m ./...

# go.mod's Go (1.22, Ubuntu 24.04's: the oldest a learner's distribution
# ships) must build and vet the repository as it is, with no toolchain
# switch; lab/setup.sh --lint installs it (.ci/run does).
OLDEST_GO = /usr/lib/go-$(shell awk '$$1 == "go" { split($$2, v, "."); print v[1] "." v[2]; exit }' go.mod)/bin/go

# The test suite again with go.mod's Go first on PATH (CI runs it): it must
# pass with the oldest Go a learner may have, not only build.
test-oldest-go:
	@test -x $(OLDEST_GO) || { echo "test-oldest-go: no $(OLDEST_GO): bash lab/setup.sh --lint installs it" >&2; exit 1; }
	PATH="$(dir $(OLDEST_GO)):$$PATH" GOTOOLCHAIN=local $(MAKE) test GO=$(OLDEST_GO)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change: $$out"; exit 1; fi
	$(GO) vet ./...
	@if [ -x $(OLDEST_GO) ]; then echo "$(OLDEST_GO) build + vet (go.mod's Go)"; \
	  GOTOOLCHAIN=local GOFLAGS=-buildvcs=false $(OLDEST_GO) build ./... && GOTOOLCHAIN=local $(OLDEST_GO) vet ./...; \
	else echo "$(OLDEST_GO) not installed (bash lab/setup.sh --lint): go.mod's Go not tried"; fi
	@if command -v shellcheck >/dev/null; then shellcheck .ci/run lab/*.sh lab/checks/*.sh; else echo "shellcheck not installed (apt-get install shellcheck): skipped"; fi

tour: setup build
	@bash lab/tour.sh $(BIN)

tour-%: setup build
	@bash lab/tour.sh $(BIN) $$(ls -d $*-* 2>/dev/null || echo $*)

# The set-up (lab/setup.sh, the list in lab/packages.sh): installs the
# packages the chapters and tests use, and Go 1.21+, when missing, in one
# line; silent when all is there. NSLAB_SETUP=0 skips it.
setup:
	@GO="$(GO)" bash lab/setup.sh

# The set-up proven on a fresh Debian 12 root with only git, make and sudo
# (lab/fresh-test.sh; root, network; cached debootstrap). CI runs it.
fresh-test:
	@bash lab/fresh-test.sh

# The soak (lab/soak_test.go), and the bad-input catalog with a photograph
# of the whole host around each case: alone, as nothing else may change the
# host meanwhile.
# SOAK_KILLS: runs of each demo killed with SIGKILL, each followed by
# lab/reset.sh (TestReset tests reset itself, alone like the soak).
# CI runs it short: make soak SOAK_ROUNDS=10 SOAK_INTERRUPTS=5 SOAK_KILLS=3.
# SOAK_STEPS=06-net (chapters or tour step numbers, comma-separated): the
# soak of those steps alone, without the catalog and reset. SOAK_PART=1 (with
# one chapter in SOAK_STEPS): photograph only what that chapter changes, on a
# host where other tests run meanwhile.
SOAK_ROUNDS ?= 100
SOAK_INTERRUPTS ?= 20
SOAK_KILLS ?= 20
SOAK_STEPS ?=
SOAK_PART ?=
soak: export GOFLAGS += -buildvcs=false
soak:
	$(GO) test -count=1 -timeout 120m -run '^($(if $(SOAK_STEPS),TestSoak,TestSoak|TestBadInputCatalog|TestReset))$$' -v ./lab -args \
		-soak.rounds=$(SOAK_ROUNDS) -soak.interrupts=$(SOAK_INTERRUPTS) -soak.kills=$(SOAK_KILLS) -soak.steps=$(SOAK_STEPS) $(if $(SOAK_PART),-soak.part)

# After a crash (SIGKILL, OOM kill, power cut mid-demo): remove what the
# programs left, listing each thing, and nothing that is not nslab's.
.PHONY: reset
reset:
	@bash lab/reset.sh

# The cost of isolation (README: "What isolation costs"): lab/bench times
# the namespaces (01-clone's programs, their C, unshare) and the veth links
# (ROUNDS / 5 rounds, at least 5). Its C side, clone_cost, is not a chapter's.
ROUNDS ?= 100
bench: build c $(BIN)/c/clone_cost
	$(GO) build -buildvcs=false -o $(BIN)/bench ./lab/bench
	@$(BIN)/bench -n $(ROUNDS) -bin $(BIN)

$(BIN)/c/clone_cost: lab/bench/c/clone_cost.c
	@mkdir -p $(BIN)/c
	$(CC) $(CFLAGS) -o $@ $< -lrt

clean:
	rm -rf $(BIN)

# The lab (lab/README.md): the preflight, and the harness that runs the tests
# as root in a Debian 12 cgroup-v2 guest under qemu (root; cached image).
.PHONY: check vm-test vm-clean vm vm-smoke

check:
	@GO="$(GO)" bash lab/check.sh

# make check-02: the chapter's exercises, checked on what the kernel shows.
check-%:
	@if [ -f lab/checks/$*.sh ]; then bash lab/checks/$*.sh; \
	else echo "no exercises for chapter $* (lab/checks/NN.sh, NN = 01..10)" >&2; exit 2; fi

# ARCH=arm64: the same in an arm64 guest (qemu-system-aarch64, TCG), with the
# tests and programs cross-compiled here (lab/vm-arch.sh).
ARCH ?= amd64
vm-test:
	@GO="$(GO)" NSLAB_VM_ARCH="$(ARCH)" bash lab/vm-test.sh

# make vm: the same guest, interactively (lab/vm.sh): a root shell in the
# checkout, shared live at /nslab, where make build, make c and go test work
# offline (lab/vm.sh shares the modules of this host's cache read-only).
vm: setup build c
	@GO="$(GO)" bash lab/vm.sh

# make vm-smoke: drives make vm through a pseudo-terminal: boot, make tour,
# a chapter tested, edited, rebuilt and run in the guest, exit
# (lab/vm_smoke_test.go; its build tag keeps it out of make test and of the
# vm-test guest). CI runs it after vm-test.
vm-smoke: export GOFLAGS += -buildvcs=false
vm-smoke:
	$(GO) vet -tags vmsmoke ./lab
	$(GO) test -tags vmsmoke -count=1 -timeout 15m -run '^TestVMShell$$' -v ./lab

vm-clean:
	rm -rf lab/.cache
	@if [ -n "$${NSLAB_VM_CACHE:-}" ]; then rm -rfv "$$NSLAB_VM_CACHE"/img-* "$$NSLAB_VM_CACHE"/build-* "$$NSLAB_VM_CACHE"/fresh-* "$$NSLAB_VM_CACHE"/gocache-*; fi
