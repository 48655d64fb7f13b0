#!/usr/bin/env bash
# Makes gpu-kit/: what scripts/gpu_check.sh needs on a GPU machine that has only a CUDA PyTorch,
# CMake, ninja and a C++ compiler. Those are Debian bookworm's packages of the libraries the
# build links (SQLiteCpp, SQLite, utf8proc, SentencePiece, seccomp, Cairo and its libraries),
# the header-only ones (nlohmann-json, Catch2 v2, Gloo's headers), zlib and pkgconf, as the
# .deb files themselves (about 11 MB; compressed, so they travel in the 64 MiB a device call
# carries). gpu_check.sh unpacks them into its build folder and points CMake, pkg-config and
# the loader there. Bookworm's builds need glibc 2.36 or newer.
#
# Usage: scripts/make_gpu_kit.sh   (writes gpu-kit/, which git ignores: never committed)
# Needs apt-get with bookworm's package lists (this project's machines).
set -euo pipefail
cd "$(dirname "$0")/.."
kit=gpu-kit

packages=(
  # linked: the library and its headers (-dev)
  libsqlitecpp-dev libsqlite3-dev libsqlite3-0 libutf8proc-dev libutf8proc2
  libsentencepiece-dev libsentencepiece0 libseccomp-dev libseccomp2 zlib1g-dev zlib1g
  # Cairo with the libraries it loads (figure export is part of the CLI)
  libcairo2-dev libcairo2 libpixman-1-0 libfreetype-dev libfreetype6 libfontconfig-dev
  libfontconfig1 libpng16-16 libexpat1 libbrotli1 libxcb1 libxcb-render0 libxcb-shm0
  libx11-6 libxext6 libxrender1 libxau6 libxdmcp6 libbsd0 libmd0
  # headers only
  nlohmann-json3-dev catch2 libgloo-dev
  # pkg-config, which a bare machine may lack
  pkgconf pkgconf-bin libpkgconf3
)

if ! grep -qs bookworm /etc/os-release; then
  echo "error: the kit is made from Debian bookworm's packages and this is not bookworm" >&2
  echo "hint: run it on one of this project's bookworm machines" >&2
  exit 1
fi
rm -rf "$kit.partial" && mkdir -p "$kit.partial"
# apt's _apt user must be able to write there.
chmod 777 "$kit.partial"
(cd "$kit.partial" && apt-get download -qq "${packages[@]}")
count=$(ls "$kit.partial"/*.deb | wc -l)
if [ "$count" -ne ${#packages[@]} ]; then
  echo "error: $count of ${#packages[@]} packages downloaded; hint: run apt-get update" >&2
  exit 1
fi
chmod 755 "$kit.partial"
rm -rf "$kit" && mv "$kit.partial" "$kit"
echo "gpu kit: $count packages, $(du -sh "$kit" | cut -f1) in $kit/"
