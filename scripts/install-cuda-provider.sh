#!/usr/bin/env bash
# Lets onnxruntime-node run on an NVIDIA GPU (--device cuda|auto). onnxruntime-node's npm package ships no CUDA
# provider; the npm package com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9 (~180 MB, registry only, no other
# download) carries onnxruntime 1.29.0's libonnxruntime_providers_{cuda,shared}.so, which load when placed beside
# onnxruntime-node 1.29.0's own libonnxruntime.so. The versions must match exactly.
# The provider links CUDA 13 (libcudart.so.13, libcublas.so.13, libcublasLt.so.13, libcurand.so.10) and loads
# cuDNN 9: they must be on the library path (LD_LIBRARY_PATH), e.g. from the CUDA toolkit.
set -euo pipefail
cd "$(dirname "$0")/.."
PACKAGE=com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9
version=$(node -p "require('onnxruntime-node/package.json').version")
if [ "$version" != 1.29.0 ]; then
  echo "onnxruntime-node $version is installed; $PACKAGE matches 1.29.0 only" >&2
  exit 1
fi
dest=$(node -p "require('path').join(require('path').dirname(require.resolve('onnxruntime-node/package.json')), 'bin/napi-v6/linux/x64')")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "$PACKAGE" >/dev/null && tar xzf ./*.tgz package/Plugins/Linux/x64)
cp "$tmp"/package/Plugins/Linux/x64/libonnxruntime_providers_{cuda,shared}.so "$dest/"
echo "installed the CUDA provider in $dest"
echo "check: npm run ingest -- --device cuda <dir>   (fails with a clear message if CUDA cannot be used)"
