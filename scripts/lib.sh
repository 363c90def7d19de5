# Shared by the scripts in this folder (sourced, not run).
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
say() { printf '\033[1m[%s]\033[0m %s\n' "$(basename "$0")" "$*" >&2; }
die() { printf '\033[31m[%s] error:\033[0m %s\n' "$(basename "$0")" "$*" >&2; exit 1; }

# Installs the host toolchain pinned in rust-toolchain.toml (rustup does not
# auto-install here: RUSTUP_AUTO_INSTALL=0 on these machines).
ensure_host_toolchain() {
  command -v rustup >/dev/null || die "rustup not found: install it from https://rustup.rs"
  local channel
  channel=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' "$ROOT/rust-toolchain.toml")
  if ! rustup run "$channel" cargo clippy --version >/dev/null 2>&1; then
    say "installing Rust $channel (rust-toolchain.toml)"
    rustup toolchain install "$channel" --profile minimal -c rustfmt -c clippy >&2 || die "rustup could not install $channel"
  fi
}

# npm packages from the lockfile (only when missing or the lockfile changed).
ensure_npm_packages() {
  command -v npm >/dev/null || die "npm not found: install Node.js 20+"
  if [ ! -f "$ROOT/node_modules/.package-lock.json" ] || [ "$ROOT/package-lock.json" -nt "$ROOT/node_modules/.package-lock.json" ]; then
    say "npm ci"
    (cd "$ROOT" && npm ci --no-audit --no-fund >&2) || die "npm ci failed"
  fi
}
