#!/usr/bin/env bash
# Runs the variants' tests on the Node version the Docker image uses (NODE_IMAGE in .env),
# taken from the npm registry's node-linux-<arch> package, beside the machine's own Node.
set -euo pipefail
cd "$(dirname "$0")/.."
image=$(sed -n 's/^NODE_IMAGE=//p' .env)
version=$(sed -E 's/^node:([0-9]+\.[0-9]+\.[0-9]+).*/\1/' <<<"$image")
if [[ ! $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "test:node-lts: NODE_IMAGE=$image in .env names no exact Node version (node:X.Y.Z-...)" >&2
  exit 1
fi
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "test:node-lts: no node-linux package for $(uname -m)" >&2; exit 1 ;;
esac
dir=".tmp/node-$version"
bin="$PWD/$dir/node_modules/node-linux-$arch/bin"
if [ ! -x "$bin/node" ]; then
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-save --no-package-lock --no-audit --no-fund "node-linux-$arch@$version"
fi
echo "test:node-lts: the variants' tests on Node $("$bin/node" --version), as in $image"
PATH="$bin:$PATH" node --import tsx --test --test-concurrency=1 test/lib/*.test.ts test/steps/*.test.ts
