#!/usr/bin/env bash
# What tests/test_real_programs.py needs to build its programs, on Debian (run as root):
# clang with the wasm32-wasi target, lld, wasi-libc and the wasm32 compiler runtime; npm
# (it fetches SQLite's sources) only where there is none. Installs only what is missing,
# and never fails: without these the real-program tests skip, saying what is missing.
set -uo pipefail

if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" != 0 ]; then
  echo "ci_deps: not root on Debian; the real-program tests will skip if clang/wasi-libc are missing"
  exit 0
fi

missing=()
for pkg in clang lld wasi-libc libclang-rt-dev-wasm32; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ ${#missing[@]} -eq 0 ]; then
  echo "ci_deps: clang, lld, wasi-libc, libclang-rt-dev-wasm32 and npm are installed"
  exit 0
fi

start=$(date +%s)
echo "ci_deps: installing ${missing[*]}"
if apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
  echo "ci_deps: installed in $(( $(date +%s) - start )) s"
else
  echo "ci_deps: could not install ${missing[*]} (the real-program tests will skip)"
fi
exit 0
