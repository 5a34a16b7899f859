#!/usr/bin/env bash
# `npm test`: sets up what the suite needs on a Debian machine, then builds, type-checks and runs
# it. `npm test -- test/a.test.ts test/b.test.ts` runs only those files (after the same setup).
#
# - Debian packages the tests call, installed with apt-get only when missing (root is needed for
#   that; without it the run stops before anything else, naming the packages): ps (procps) finds
#   a stopped stage's whole process tree; mount/umount (util-linux's mount) let the disk-full test
#   mount a small tmpfs; Debian's chromium is the browser the report test opens the HTML report
#   in (playwright-core drives it and downloads no browser of its own); Slurm's controller, node
#   daemon and client commands and munge run the one-node cluster test/slurm.test.ts submits to.
# - As root, a Vulkan driver for the WebGPU tests (scripts/install-vulkan.sh).
# - The test cluster (test/slurm/start.sh) is started for the run and stopped when it ends, also
#   on Ctrl-C or SIGTERM. A cluster this script did not start (test/slurm/start.sh run by hand)
#   is used and left running; one that an earlier run of this script left behind (it was killed
#   with SIGKILL) is taken over and stopped.
set -euo pipefail
cd "$(dirname "$0")/.."

has() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }
missing=()
has ps || missing+=(procps)
has mount || missing+=(mount)
has chromium || missing+=(chromium)
has slurmctld || missing+=(slurmctld)
has slurmd || missing+=(slurmd)
has sbatch || missing+=(slurm-client)
has munged || missing+=(munge)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "npm test: the tests need Debian packages that are missing: ${missing[*]}" >&2
    echo "npm test: install them as root (apt-get install ${missing[*]}) or run npm test as root" >&2
    exit 1
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "npm test: missing ${missing[*]} and there is no apt-get to install them (the setup is Debian's)" >&2
    exit 1
  fi
  echo "npm test: installing ${missing[*]} with apt-get" >&2
  # Lock::Timeout: wait for another apt-get instead of failing at once. Its output goes to a
  # log, shown only when it fails.
  log=$(mktemp)
  if ! { apt-get -o DPkg::Lock::Timeout=300 update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
      --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    echo "npm test: apt-get could not install ${missing[*]} (output above, all of it in $log)" >&2
    exit 1
  fi
  rm -f "$log"
fi

# A Vulkan loader and Mesa's lavapipe (Vulkan on the CPU), so the WebGPU tests have an adapter
# without a GPU (scripts/install-vulkan.sh says why the driver comes from bookworm-backports).
# Without root they are not installed, and the WebGPU tests say that they skip.
if [ "$(id -u)" -eq 0 ]; then scripts/install-vulkan.sh; fi

npm run build
npm run typecheck

slurm_dir=${PIPELINE_SLURM_DIR:-/tmp/pipeline-slurm}
owned=$slurm_dir/started-by-test-run
tests=
cleanup() {
  if [ -n "$tests" ]; then kill -TERM "$tests" 2>/dev/null && wait "$tests" || true; fi
  if [ -f "$owned" ]; then
    test/slurm/stop.sh
    rm -f "$owned"
  fi
}
trap cleanup EXIT
# An interrupted run ends through the EXIT trap too (bash alone would not run it for a signal).
trap 'exit 130' INT
trap 'exit 143' TERM
# start.sh prints the variables to eval; PIPELINE_SLURM_STARTED=1 when it started the daemons.
eval "$(test/slurm/start.sh)"
if [ "${PIPELINE_SLURM_STARTED:-0}" = 1 ]; then touch "$owned"; fi

if [ $# -eq 0 ]; then set -- test/*.test.ts; fi
# In the background, so that a signal to this script is acted on at once (the trap stops the
# test runner, which stops its test files) rather than after the suite.
node --import tsx --test --test-concurrency=2 "$@" &
tests=$!
status=0
wait "$tests" || status=$?
tests=
exit "$status"
