#!/usr/bin/env bash
# The project's test command: installs what the tests need, then runs `cargo test --locked`.
#
# The tests need the PostgreSQL server programs (they start a private throwaway cluster under target/,
# never a system one), chromium with chromium-driver, and CJK fonts for the browser tests. Run as root on
# Debian or Ubuntu, this installs whichever of them is missing with apt-get; as another user it names them.
# Arguments go to `cargo test`, e.g. `scripts/test.sh --test it -- queue::`.
set -euo pipefail

cd "$(dirname "$0")/.."

# cargo lives in rustup's directory; make sure it is on PATH.
if ! command -v cargo >/dev/null 2>&1 && [ -x "${HOME:-/root}/.cargo/bin/cargo" ]; then
  export PATH="${HOME:-/root}/.cargo/bin:$PATH"
fi

have_pg_server() {
  command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1 && return 0
  local bin
  for bin in /usr/lib/postgresql/*/bin; do
    [ -x "$bin/initdb" ] && [ -x "$bin/pg_ctl" ] && return 0
  done
  return 1
}

PKGS=()
if [ -z "${YICHUANG_TEST_PG:-}" ] && ! have_pg_server; then PKGS+=(postgresql); fi
if [ -z "${YICHUANG_CHROMIUM:-}" ] && [ ! -x /usr/bin/chromium ]; then PKGS+=(chromium); fi
if [ -z "${YICHUANG_CHROMEDRIVER:-}" ] && [ ! -x /usr/bin/chromedriver ]; then PKGS+=(chromium-driver); fi
if command -v dpkg >/dev/null 2>&1 && ! dpkg -s fonts-noto-cjk >/dev/null 2>&1; then PKGS+=(fonts-noto-cjk); fi

if [ "${#PKGS[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing: ${PKGS[*]}"
    apt-get update
    # The server programs only: the tests start their own cluster, so no system cluster is needed,
    # but Debian's postinst creates one; it is left alone.
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${PKGS[@]}"
  else
    echo "missing: ${PKGS[*]} (install them, e.g. sudo apt-get install ${PKGS[*]})" >&2
  fi
fi

exec cargo test --locked "$@"
