#!/usr/bin/env bash
# Fresh-machine entry point (Debian bookworm): installs what the project needs (idempotent,
# fast when everything is present), builds, then runs the demo (`demo`) or the tests (`test`).
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-demo}"
build_dir="${PONDER_BUILD_DIR:-build}"

packages=(
  build-essential cmake ninja-build pkg-config
  libtorch-dev libopenblas0-openmp libsqlitecpp-dev libsqlite3-dev nlohmann-json3-dev
  libutf8proc-dev libsentencepiece-dev libgloo-dev catch2 zlib1g-dev
  libimgui-dev libglfw3-dev libgl-dev libcairo2-dev libstb-dev fonts-dejavu-core
  xvfb xauth libgl1-mesa-dri sqlite3 util-linux clang-format
  golang-1.19-src python3-distutils python3-lib2to3 python3.11-venv
  # `ponder bench-code`'s sandbox (with util-linux's setpriv above)
  bubblewrap libseccomp-dev python3
)
# scripts/fuzz.sh adds clang and libFuzzer this way (word-split on purpose).
# shellcheck disable=SC2206
packages+=(${PONDER_EXTRA_PACKAGES:-})
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
  [ "$status" = installed ] || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${#missing[@]} packages: ${missing[*]}"
  # apt's and dpkg's progress lines go to a log, shown only when something fails.
  apt_log=$(mktemp -t ponder-setup-apt.XXXXXX)
  if ! { $sudo apt-get update -qq &&
         DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
           "${missing[@]}"; } >"$apt_log" 2>&1; then
    tail -n 20 "$apt_log" >&2
    echo "setup: apt-get failed; the whole log is $apt_log" >&2
    exit 1
  fi
  rm -f "$apt_log"
  echo "setup: packages installed"
fi

[ "$mode" = packages ] && exit 0  # scripts/sanitize.sh and fuzz.sh configure their own builds

cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release
if [ "$mode" = demo ]; then
  # Only what the demo runs; `setup.sh test` builds the rest (tests, examples, tools).
  cmake --build "$build_dir" -j "$(nproc)" --target ponder ponder-studio
else
  cmake --build "$build_dir" -j "$(nproc)"
fi
ponder="$build_dir/app/ponder"

case "$mode" in
  demo)
    # The main job: the studio on the bundled default model and a real Python file, after
    # the same evaluation on the command line (stored, exported with figures).
    model=assets/default-model
    sample=/usr/lib/python3.11/_pydecimal.py  # held-out; chosen by scripts/choose_demo_file.sh
    "$ponder" info
    "$ponder" info --model "$model" --no-gemm
    "$ponder" eval --model "$model" "$sample" --calibration profile --json "$build_dir/demo-eval.json" \
      --db "$build_dir/demo-runs.sqlite" --label demo
    "$ponder" export --db "$build_dir/demo-runs.sqlite" --run latest --out "$build_dir/demo-export" \
      --figures png
    studio=("$build_dir/app/ponder-studio" "$model" "$sample" --rate 0.5)
    if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
      exec "${studio[@]}"
    fi
    echo "no display: rendering the studio under Xvfb into $build_dir/demo-studio.png"
    xvfb-run -a -s "-screen 0 1280x800x24" "${studio[@]}" --screenshot "$build_dir/demo-studio.png"
    ;;
  test)
    cd "$build_dir"
    ctest --output-on-failure -j 2
    ;;
  build) ;;
  *)
    echo "usage: scripts/setup.sh [demo|test|build|packages]" >&2
    exit 2
    ;;
esac
