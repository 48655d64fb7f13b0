#!/usr/bin/env bash
# The project against LibTorch 2.x: Debian trixie's libtorch-dev 2.6 in a trixie tree made with
# debootstrap (cached in build-libtorch2/, never committed), the project built there and its
# suite run there (the studio under Xvfb too). Bookworm's LibTorch 1.13 stays the default of
# the README's commands; this script says whether the code also builds and passes on 2.x.
#
# Usage: scripts/check_libtorch2.sh [--cuda|--kit] [tree|build|test|all] [ctest args...]
#   tree   make the trixie tree and install the packages (skipped when it is complete)
#   build  configure and build in the tree (build-libtorch2/<tree>/work/build)
#   test   run ctest there (extra arguments go to ctest, e.g. -L unit)
#   all    the three (the default)
#   --cuda libtorch-cuda-dev and nvidia-cuda-toolkit (contrib, non-free) in a tree of its own;
#          builds `ponder` and the evaluator's and ranks' tests (no studio): linking needs no
#          GPU. `test` runs `ponder info` (the CUDA it was built with, no device, NCCL) and
#          those tests, whose CUDA case says there is no device. Debian's nvidia-cudnn fetches
#          cuDNN from NVIDIA, which these machines cannot reach, so the tree gets a stand-in
#          libcudnn.so.9 (make_cudnn_stand_in) that lets LibTorch load without a GPU.
#   --kit  the GPU kit's rehearsal: a tree with only a C++ compiler, CMake, ninja and Debian's
#          PyTorch (python3-torch, libtorch-dev and OpenBLAS stand in for the GPU machine's
#          PyTorch, whose wheels bring their own BLAS). `test` runs scripts/gpu_check.sh there
#          with gpu-kit/ (scripts/make_gpu_kit.sh, made first on this bookworm machine) as the
#          only other files. No build stage: gpu_check.sh builds.
# Needs root (debootstrap, chroot, bind mounts) and Debian's package mirrors.
#
# Test data: the suite reads real code from bookworm's /usr/lib/python3.11 and Go 1.19 sources;
# they are bind-mounted read-only from this machine, so both LibTorch builds read the same files.
# Catch2 stays at v2 (bookworm's package, pinned): trixie ships v3, whose headers differ.
set -euo pipefail
cd "$(dirname "$0")/.."
project=$(pwd)

variant=cpu
case "${1:-}" in --cuda) variant=cuda; shift ;; --kit) variant=kit; shift ;; esac
stage="${1:-all}"
[ $# -gt 0 ] && shift
case "$stage" in tree|build|test|all) ;; *)
  echo "error: unknown stage '$stage'; hint: use tree, build, test or all" >&2; exit 2 ;;
esac
if [ "$(id -u)" -ne 0 ]; then
  echo "error: debootstrap, chroot and bind mounts need root; hint: run it with sudo" >&2
  exit 1
fi

case $variant in
  cpu) tree="$project/build-libtorch2/root" ;;
  *) tree="$project/build-libtorch2/$variant-root" ;;
esac
mirror=http://deb.debian.org/debian
cudnn_dir=/opt/cudnn-stand-in  # the CUDA tree's stand-in for cuDNN (make_cudnn_stand_in)
log_dir="$project/build-libtorch2"
mkdir -p "$log_dir"

packages=(
  build-essential cmake ninja-build pkg-config git
  libopenblas0-openmp libsqlitecpp-dev libsqlite3-dev nlohmann-json3-dev
  libutf8proc-dev libsentencepiece-dev catch2/bookworm libseccomp-dev
  bubblewrap python3 util-linux sqlite3 nodejs npm
)
case $variant in
  cuda) packages+=(libtorch-cuda-dev libgloo-cuda-dev libnccl-dev nvidia-cuda-toolkit
                   libcairo2-dev) ;;
  cpu) packages+=(libtorch-dev libgloo-dev libimgui-dev libglfw3-dev libgl-dev libcairo2-dev
                  libstb-dev fonts-dejavu-core xvfb xauth libgl1-mesa-dri) ;;
  # PyTorch's wheels bring their BLAS (MKL); Debian's PyTorch takes the system's.
  kit) packages=(build-essential cmake ninja-build python3-torch libtorch-dev libopenblas0-openmp) ;;
esac

# GALLIUM_DRIVER: Mesa 25's llvmpipe crashes creating a GL context inside this chroot (in
# driCreateContextAttribs, before any of our code draws); softpipe draws the studio alike.
# XDG_RUNTIME_DIR as a login session has it (Mesa prints "error: XDG_RUNTIME_DIR is invalid"
# without it, which a test takes for the studio's own error line).
in_tree() { chroot "$tree" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin \
  LANG=C.UTF-8 OMP_WAIT_POLICY=PASSIVE DEBIAN_FRONTEND=noninteractive GALLIUM_DRIVER=softpipe \
  XDG_RUNTIME_DIR=/run/user/0 bash -c "mkdir -p -m 700 /run/user/0 && $1"; }

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
      >"$log_dir/apt-$(basename "$tree").log" 2>&1 && ! only_cudnn_unconfigured; then
    tail -20 "$log_dir/apt-$(basename "$tree").log" >&2
    exit 1
  fi
  unmount_all
  in_tree "apt-get clean"
  [ $variant = cuda ] && make_cudnn_stand_in
  touch "$tree/.ponder-tree-complete"
  echo "libtorch2: tree ready in $((SECONDS - start)) s ($(du -sh "$tree" | cut -f1))"
}

# Debian's nvidia-cudnn fetches cuDNN from NVIDIA in its postinst, which these machines cannot
# reach; it and the LibTorch packages that depend on it then stay unpacked but unconfigured.
# Their files are all there, so the CUDA tree goes on when those are the only ones left.
only_cudnn_unconfigured() {
  [ $variant = cuda ] || return 1
  local left
  left=$(in_tree "dpkg --audit" | awk '/^ [a-z0-9]/ {print $1}' | sed 's/:amd64$//' | sort -u)
  [ -n "$left" ] && [ -z "$(grep -vxE 'nvidia-cudnn|libtorch-cuda-2.6|libtorch-cuda-dev' \
    <<<"$left")" ] && echo "libtorch2: nvidia-cudnn could not download cuDNN; going on without it"
}

# A stand-in libcudnn.so.9 so that libtorch_cuda.so (linked with BIND_NOW) loads without
# cuDNN: every cuDNN function LibTorch imports, with its symbol version, each one stopping the
# process if called. Nothing calls them on a machine without a GPU; the GPU kit never uses it
# (PyTorch's wheels bring their own cuDNN). In the tree only, under /opt/cudnn-stand-in.
make_cudnn_stand_in() {
  in_tree 'set -e
    dir='$cudnn_dir' && mkdir -p $dir && cd $dir
    lib=/usr/lib/x86_64-linux-gnu/libtorch_cuda.so
    nm -D --undefined-only $lib | sed -n "s/^ *U \(cudnn[A-Za-z0-9_]*\)@libcudnn.so.9$/\1/p" \
      | sort -u >symbols.txt
    { echo "#include <stdio.h>"; echo "#include <stdlib.h>"
      while read -r s; do
        echo "void $s(void) { fputs(\"cuDNN stand-in: $s called\\n\", stderr); abort(); }"
      done <symbols.txt; } >stand_in.c
    { echo "libcudnn.so.9 { global:"; sed "s/$/;/" symbols.txt; echo "local: *; };"; } >stand_in.map
    gcc -shared -fPIC -o libcudnn.so.9 -Wl,-soname,libcudnn.so.9 \
      -Wl,--version-script,stand_in.map stand_in.c
    echo "libtorch2: cuDNN stand-in with $(wc -l <symbols.txt) functions in $dir"'
}

mount_work() {
  # The tree on itself, so that its / is a mount point: bubblewrap (the code sandbox) makes /
  # a slave mount and fails with EINVAL otherwise.
  mount --bind "$tree" "$tree" && mounted+=("$tree")
  mount_into /proc /proc
  mount_into /dev /dev
  mount_into /dev/pts /dev/pts
  mount_into /sys /sys
  mount_into "$project" /work/src
  # This machine's way to the npm registry (the tokenizer conformance test installs from it):
  # its host names, its npm settings and the certificates they trust.
  cp /etc/hosts /etc/resolv.conf "$tree/etc/"
  [ -f /etc/npmrc ] && cp /etc/npmrc "$tree/etc/npmrc"
  mount_into /etc/ssl/certs /etc/ssl/certs ro
  mkdir -p "$tree/tmp" && chmod 1777 "$tree/tmp"
  for data in /usr/lib/python3.11 /usr/share/go-1.19; do
    [ -d "$data" ] && mount_into "$data" "$data" ro
  done
}

build() {
  local start=$SECONDS
  if [ $variant = cuda ]; then
    in_tree "export LD_LIBRARY_PATH=$cudnn_dir && \
      cmake -S /work/src -B /work/build -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DPONDER_BUILD_STUDIO=OFF -DPONDER_IMGUI=OFF -DPONDER_NODE_CONFORMANCE=OFF -DPONDER_NCCL=ON \
      && cmake --build /work/build -j $(nproc) --target ponder test_evaluator test_dist -- -k 0"
  else
    in_tree "cmake -S /work/src -B /work/build -G Ninja -DCMAKE_BUILD_TYPE=Release \
      && cmake --build /work/build -j $(nproc) -- -k 0"
  fi
  echo "libtorch2: build $((SECONDS - start)) s"
}

run_tests() {
  local start=$SECONDS
  if [ $variant = kit ]; then
    [ -d gpu-kit ] || { echo "error: no gpu-kit/; hint: run scripts/make_gpu_kit.sh" >&2; exit 1; }
    in_tree "cd /work/src && bash scripts/gpu_check.sh build-cuda/rehearsal-figures.txt"
  elif [ $variant = cuda ]; then
    in_tree "export LD_LIBRARY_PATH=$cudnn_dir && /work/build/app/ponder info \
      && /work/build/tests/test_evaluator '[cuda]' && /work/build/tests/test_dist '[dist]'"
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
  if [ $variant != kit ] && { [ "$stage" = build ] || [ "$stage" = all ]; }; then build; fi
  if [ "$stage" = test ] || [ "$stage" = all ]; then run_tests "$@"; fi
fi
