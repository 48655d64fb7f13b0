#!/usr/bin/env bash
# Conformance test: our BpeTokenizer must give the same ids as npm gpt-3-encoder@1.1.4 (GPT-2's
# encoder in JavaScript) on real Python, Go and JavaScript sources.
#   run_conformance.sh DUMP_BIN WORKDIR
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 DUMP_BIN WORKDIR" >&2
    exit 2
fi
dump_bin=$(realpath "$1")
mkdir -p "$2"
workdir=$(realpath "$2")
script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
npm_prefix="$workdir/npm"
encoder_dir="$npm_prefix/node_modules/gpt-3-encoder"

for tool in node npm; do
    if ! command -v "$tool" >/dev/null; then
        echo "error: $tool not found; hint: install Node.js 20 and npm" >&2
        exit 1
    fi
done

installed_version() {  # prints the version of an installed npm package, or nothing
    node -e 'try { console.log(require(process.argv[1]).version) } catch (e) {}' \
        "$npm_prefix/node_modules/$1/package.json"
}
if [[ "$(installed_version gpt-3-encoder)" != "1.1.4" ||
      "$(installed_version lodash)" != "4.17.21" ]]; then
    echo "installing gpt-3-encoder@1.1.4 and lodash@4.17.21 into $npm_prefix"
    npm install --prefix "$npm_prefix" --no-audit --no-fund --silent \
        gpt-3-encoder@1.1.4 lodash@4.17.21 ||
        { echo "error: npm install failed; hint: the first run needs npm's registry" >&2; exit 1; }
fi

# every_kth N: keeps about N lines of stdin, evenly spread over the sorted list.
every_kth() {
    local lines
    lines=$(cat)
    local total
    total=$(printf '%s\n' "$lines" | grep -c . || true)
    local step=$(( total > $1 ? total / $1 : 1 ))
    printf '%s\n' "$lines" | awk -v step="$step" 'NF && (NR - 1) % step == 0'
}

candidates="$workdir/candidates.txt"
{
    find /usr/lib/python3.11 -name '*.py' -type f \
        -not -path '*/test/*' -not -path '*/tests/*' -not -path '*/idle_test/*' \
        -not -path '*/site-packages/*' -not -path '*/dist-packages/*' |
        LC_ALL=C sort | every_kth 190
    if [[ -d /usr/share/go-1.19/src ]]; then
        find /usr/share/go-1.19/src -name '*.go' -type f -not -name '*_test.go' \
            -not -path '*/testdata/*' | LC_ALL=C sort | every_kth 60
    fi
    find "$npm_prefix/node_modules/gpt-3-encoder" -maxdepth 1 -name '*.js' -type f | LC_ALL=C sort
    find "$npm_prefix/node_modules/lodash" -name '*.js' -type f | LC_ALL=C sort | every_kth 30
    for dir in /usr/share/nodejs /usr/lib/node_modules; do
        if [[ -d "$dir" ]]; then
            find "$dir" -name '*.js' -type f | LC_ALL=C sort | every_kth 30
        fi
    done
} > "$candidates"

kept="$workdir/files.txt"
reference="$workdir/reference.tsv"
ours="$workdir/ours.tsv"
echo "encoding $(wc -l < "$candidates") candidate files with gpt-3-encoder"
node "$script_dir/gpt3_encode.js" encode "$npm_prefix" "$candidates" "$kept" "$reference"
echo "encoding $(wc -l < "$kept") valid UTF-8 files (<= 200 KB) with $(basename "$dump_bin")"
"$dump_bin" "$encoder_dir" "$kept" > "$ours"
node "$script_dir/gpt3_encode.js" compare "$npm_prefix" "$reference" "$ours"
