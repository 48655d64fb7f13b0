#!/usr/bin/env bash
# The project against LibTorch 2.x: Debian trixie's libtorch-dev 2.6 in a trixie tree made with
# debootstrap (cached in build-libtorch2/, never committed), the project built there and its
# suite run there (the studio under Xvfb too). Bookworm's LibTorch 1.13 stays the default of
# the README's commands; this script says whether the code also builds and passes on 2.x.
#
# Usage: scripts/check_libtorch2.sh [--cuda] [tree|build|test|all] [ctest args...]
#   tree   make the trixie tree and install the packages (skipped when it is complete)
#   build  configure and build in the tree (build-libtorch2/<tree>/work/build)
#   test   run ctest there (extra arguments go to ctest, e.g. -L unit)
#   all    the three (the default)
#   --cuda libtorch-cuda-dev and nvidia-cuda-toolkit (contrib, non-free) in a tree of its own;
#          builds `ponder` alone (no studio, no tests): linking needs no GPU. `test` then runs
#          `ponder info`, which names the CUDA it was built with and that there is no device.
#          Not yet complete here: Debian's nvidia-cudnn downloads cuDNN from NVIDIA when it is
#          installed, which these machines cannot reach, so the tree lacks libcudnn.so.9 and
#          libtorch-cuda-2.6 stays unconfigured.
# Needs root (debootstrap, chroot, bind mounts) and Debian's package mirrors.
#
# Test data: the suite reads real code from bookworm's /usr/lib/python3.11 and Go 1.19 sources;
# they are bind-mounted read-only from this machine, so both LibTorch builds read the same files.
# Catch2 stays at v2 (bookworm's package, pinned): trixie ships v3, whose headers differ.
set -euo pipefail
cd "$(dirname "$0")/.."
project=$(pwd)

cuda=0
if [ "${1:-}" = --cuda ]; then cuda=1; shift; fi
stage="${1:-all}"
[ $# -gt 0 ] && shift
case "$stage" in tree|build|test|all) ;; *)
  echo "error: unknown stage '$stage'; hint: use tree, build, test or all" >&2; exit 2 ;;
esac
if [ "$(id -u)" -ne 0 ]; then
  echo "error: debootstrap, chroot and bind mounts need root; hint: run it with sudo" >&2
  exit 1
fi

tree="$project/build-libtorch2/root"
[ $cuda = 1 ] && tree="$project/build-libtorch2/cuda-root"
mirror=http://deb.debian.org/debian
log_dir="$project/build-libtorch2"
mkdir -p "$log_dir"

packages=(
  build-essential cmake ninja-build pkg-config git
  libopenblas0-openmp libsqlitecpp-dev libsqlite3-dev nlohmann-json3-dev
  libutf8proc-dev libsentencepiece-dev catch2/bookworm libseccomp-dev
  bubblewrap python3 util-linux sqlite3 nodejs npm
)
if [ $cuda = 1 ]; then
  packages+=(libtorch-cuda-dev libgloo-cuda-dev nvidia-cuda-toolkit)
else
  packages+=(libtorch-dev libgloo-dev libimgui-dev libglfw3-dev libgl-dev libcairo2-dev libstb-dev
             fonts-dejavu-core xvfb xauth libgl1-mesa-dri)
fi

in_tree() { chroot "$tree" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin \
  LANG=C.UTF-8 OMP_WAIT_POLICY=PASSIVE DEBIAN_FRONTEND=noninteractive bash -c "$1"; }

mounted=()
mount_into() {  # mount_into SOURCE TARGET [options]
  mkdir -p "$tree$2"
  mount --bind "$1" "$tree$2"
  [ -n "${3:-}" ] && mount -o "remount,bind,$3" "$tree$2"
  mounted+=("$tree$2")
}
unmount_all() {
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    umount -l "${mounted[i]}" 2>/dev/null || true
  done
  mounted=()
}
trap unmount_all EXIT
trap "exit 130" INT TERM  # the EXIT trap then unmounts

make_tree() {
  if [ -f "$tree/.ponder-tree-complete" ]; then
    echo "libtorch2: tree $tree is complete"
    return
  fi
  local start=$SECONDS
  if [ ! -x "$tree/usr/bin/apt-get" ]; then
    command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap >/dev/null
    echo "libtorch2: debootstrap trixie into $tree"
    debootstrap --variant=minbase --components=main,contrib,non-free,non-free-firmware \
      trixie "$tree" "$mirror" >"$log_dir/debootstrap.log" 2>&1 ||
      { tail -20 "$log_dir/debootstrap.log" >&2; exit 1; }
  fi
  cat >"$tree/etc/apt/sources.list" <<EOF
deb $mirror trixie main contrib non-free non-free-firmware
deb $mirror bookworm main
EOF
  # Bookworm only where asked by name (catch2/bookworm).
  cat >"$tree/etc/apt/preferences.d/bookworm" <<EOF
Package: *
Pin: release n=bookworm
Pin-Priority: 100
EOF
  cp /etc/resolv.conf "$tree/etc/resolv.conf"
  mount_into /proc /proc
  echo "libtorch2: installing ${#packages[@]} packages in the tree"
  local install="apt-get install -y -qq --no-install-recommends ${packages[*]}"
  if ! in_tree "apt-get update -qq && $install" \
      >"$log_dir/apt-$(basename "$tree").log" 2>&1; then
    tail -20 "$log_dir/apt-$(basename "$tree").log" >&2
    exit 1
  fi
  unmount_all
  in_tree "apt-get clean"
  touch "$tree/.ponder-tree-complete"
  echo "libtorch2: tree ready in $((SECONDS - start)) s ($(du -sh "$tree" | cut -f1))"
}

mount_work() {
  mount_into /proc /proc
  mount_into /dev /dev
  mount_into /dev/pts /dev/pts
  mount_into /sys /sys
  mount_into "$project" /work/src
  mkdir -p "$tree/tmp" && chmod 1777 "$tree/tmp"
  for data in /usr/lib/python3.11 /usr/share/go-1.19; do
    [ -d "$data" ] && mount_into "$data" "$data" ro
  done
}

build() {
  local start=$SECONDS
  if [ $cuda = 1 ]; then
    in_tree "cmake -S /work/src -B /work/build -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DPONDER_BUILD_STUDIO=OFF -DPONDER_IMGUI=OFF -DPONDER_BUILD_TESTS=OFF \
      -DPONDER_NODE_CONFORMANCE=OFF \
      && cmake --build /work/build -j $(nproc) --target ponder -- -k 0"
  else
    in_tree "cmake -S /work/src -B /work/build -G Ninja -DCMAKE_BUILD_TYPE=Release \
      && cmake --build /work/build -j $(nproc) -- -k 0"
  fi
  echo "libtorch2: build $((SECONDS - start)) s"
}

run_tests() {
  local start=$SECONDS
  if [ $cuda = 1 ]; then
    in_tree "/work/build/app/ponder info"
    ls -l "$tree/work/build/app/ponder"
  else
    in_tree "cd /work/build && ctest --output-on-failure -j 2 $*"
  fi
  echo "libtorch2: test $((SECONDS - start)) s"
}

if [ "$stage" = tree ] || [ "$stage" = all ]; then make_tree; fi
if [ "$stage" != tree ]; then
  if [ ! -f "$tree/.ponder-tree-complete" ]; then
    echo "error: no tree in $tree yet; hint: run scripts/check_libtorch2.sh tree first" >&2
    exit 1
  fi
  mount_work
  if [ "$stage" = build ] || [ "$stage" = all ]; then build; fi
  if [ "$stage" = test ] || [ "$stage" = all ]; then run_tests "$@"; fi
fi
