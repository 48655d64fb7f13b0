#!/usr/bin/env bash
# `ponder corpus` end to end on a small tree made here: outputs, a byte-identical rebuild, token
# counts that agree with `ponder tokenize`, and one "error:" + one "hint:" line for bad input.
#   corpus_cli.sh PONDER WORKDIR RECIPE_DIR
set -uo pipefail
ponder="$1"
work="$2"
recipes="$3"
rm -rf "$work"; mkdir -p "$work"
cd "$work" || exit 1
failures=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1"; failures=$((failures + 1)); }

# expect NAME STATUS COMMAND...: exit status and, for errors, the two-line stderr shape.
expect() {
  local name="$1" want="$2"; shift 2
  "$@" >out.txt 2>err.txt
  local got=$?
  if [ "$got" != "$want" ]; then
    fail "$name: exit $got, expected $want; stderr: $(head -c 300 err.txt)"; return
  fi
  if [ "$want" != 0 ] && { [ "$(grep -c '^error: ' err.txt)" != 1 ] ||
      [ "$(grep -c '^hint: ' err.txt)" != 1 ] || [ "$(wc -l <err.txt)" != 2 ]; }; then
    fail "$name: stderr is not one error line and one hint line: $(head -c 300 err.txt)"; return
  fi
  pass "$name"
}

code() {  # code NAME: a distinct Python file of a few hundred bytes
  printf 'def %s(x):\n' "$1"
  for i in 1 2 3 4 5 6 7 8; do printf '    x = x + %d  # step %d of %s\n' "$i" "$i" "$1"; done
  printf '    return x\n'
}
mkdir -p tree/pkg tree/test
code alpha >tree/a.py
code alpha >tree/b.py            # duplicate of a.py
code gamma >tree/pkg/c.py
code delta >tree/test/test_d.py  # excluded folder
printf 'x\0y\n%.0s' {1..40} >tree/blob.py  # binary
cat >recipe.json <<'JSON'
{"name": "tiny", "language": "Python", "extensions": [".py"], "exclude": ["test"],
 "min_bytes": 100, "sources": [{"root": "tree", "prefix": "p"}],
 "split": {"method": "single", "name": "ood"}}
JSON

expect "corpus build" 0 "$ponder" corpus build recipe.json --out corpus --manifest-out m/tiny.tsv
grep -q "ood: 2 files" out.txt && pass "summary line per split" || fail "summary: $(cat out.txt)"
grep -q "1 excluded by pattern" out.txt && grep -q "1 binary" out.txt && grep -q "1 duplicates" out.txt &&
  pass "skip counts" || fail "skip counts: $(cat out.txt)"
[ -f corpus/ood/p/a.py ] && [ -f corpus/ood/p/pkg/c.py ] && [ ! -e corpus/ood/p/b.py ] &&
  pass "copies under DIR/<split>/<path>" || fail "copies: $(find corpus | head)"
cmp -s corpus/manifest.tsv m/tiny.tsv && pass "--manifest-out equals DIR/manifest.tsv" ||
  fail "--manifest-out differs"
[ "$(cut -f1,4 corpus/manifest.tsv | tail -n +2 | tr '\t\n' ' ')" = "p/a.py ood p/pkg/c.py ood " ] &&
  pass "manifest paths and splits" || fail "manifest: $(cat corpus/manifest.tsv)"
grep -q "^p/b.py	duplicate	p/a.py$" corpus/skipped.tsv && pass "skipped.tsv names the kept copy" ||
  fail "skipped.tsv: $(cat corpus/skipped.tsv)"

cp corpus/manifest.tsv first.tsv
expect "rebuild with one thread" 0 "$ponder" corpus build recipe.json --out corpus --threads 1
cmp -s corpus/manifest.tsv first.tsv && pass "rebuild is byte-identical" || fail "rebuild differs"

expect "train a tokenizer" 0 "$ponder" train-tokenizer tree --out tok --vocab 300 --min-count 1
expect "build with --tokenizer" 0 "$ponder" corpus build recipe.json --manifest-out tok.tsv --tokenizer tok
expect "tokenize --count" 0 "$ponder" tokenize --model tok --count tree/a.py
[ "$(awk -F'\t' '$1 == "p/a.py" {print $6}' tok.tsv)" = "$(cat out.txt)" ] &&
  pass "tokens column equals ponder tokenize --count" || fail "tokens: $(cat tok.tsv)"

expect "corpus list" 0 "$ponder" corpus list "$recipes"
for name in python-stdlib go-std js-three-lodash java-react-native; do
  grep -q "^$name " out.txt && pass "list shows $name" || fail "list lacks $name"
done

expect "corpus without a subcommand" 2 "$ponder" corpus
expect "unknown subcommand" 2 "$ponder" corpus frob
expect "build without a recipe" 2 "$ponder" corpus build --out x
expect "build without --out" 2 "$ponder" corpus build recipe.json
printf '{"name": "bad",' >bad.json
expect "malformed recipe" 1 "$ponder" corpus build bad.json --out x
grep -q "not valid JSON" err.txt && pass "malformed recipe is named" || fail "$(cat err.txt)"
sed 's/"root": "tree"/"root": "no-such-dir"/' recipe.json >missing.json
expect "missing root" 1 "$ponder" corpus build missing.json --out x
mkdir -p foreign && echo keep >foreign/mine.txt
expect "refuses a foreign --out folder" 1 "$ponder" corpus build recipe.json --out foreign
[ "$(cat foreign/mine.txt)" = keep ] && pass "foreign folder untouched" || fail "foreign folder changed"

echo "$failures failure(s)"
[ "$failures" = 0 ]
