#!/usr/bin/env bash
# `ponder tokenize` on a SentencePiece model equals libsentencepiece's own encode (a helper that
# links nothing else) on real files: Python from Debian, this repository's C++ and Markdown.
set -uo pipefail
ponder="$1"
dump="$2"
work="$3"
rm -rf "$work"; mkdir -p "$work"
source "$(dirname "$0")/expect.sh"

src="$(dirname "$0")/../.."
expect "a Gemma 3 test model (SentencePiece trained on this repository's text)" 0 \
  "$ponder" make-test-model "$work/model" --arch gemma3 --layers 1 --embd 16 --heads 2 \
  --vocab 800 --corpus "$src/core" --corpus "$src/README.md"
files=("$src/core/eval/evaluator.cpp" "$src/docs/algorithm.md")
for f in /usr/lib/python3.11/json/decoder.py /usr/lib/python3.11/textwrap.py; do
  [ -f "$f" ] && files+=("$f")
done
for file in "${files[@]}"; do
  expect "ponder tokenize $(basename "$file")" 0 "$ponder" tokenize --model "$work/model" "$file"
  ours="$(cat "$work/out")"
  theirs="$("$dump" "$work/model/tokenizer.model" "$file")"
  [ -n "$ours" ] && [ "$ours" = "$theirs" ] && pass "ids equal the library's on $(basename "$file")" \
    || fail "ids differ on $file (ours $(echo "$ours" | wc -w), library $(echo "$theirs" | wc -w))"
done
echo "$checks checks, $failures failures"
[ "$failures" = 0 ]
