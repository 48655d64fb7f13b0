#!/usr/bin/env bash
# The hostile-input suite (issue "Hardening"): damaged weights and configs, lying checkpoints,
# missing tokenizer files, inputs that are not code, unwritable outputs and damaged, locked or
# newer run databases. Each case must end with the documented exit status and one "error:" +
# one "hint:" line on stderr, never a crash or a hang, and no stored run may be lost.
#   hostile_inputs.sh PONDER WORKDIR [files|outputs|all]
# `files`: damaged model, tokenizer and input files; `outputs`: unwritable outputs and run
# databases. ctest runs the two halves as two tests, side by side (all: both, one after the other).
set -uo pipefail
ponder="$1"
work="$2"
part="${3:-all}"
rm -rf "$work"; mkdir -p "$work"; chmod 755 "$work"
here="$(dirname "$0")"
source "$here/../cli/expect.sh"
export OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=1
garble() { python3 "$here/garble_safetensors.py" "$@"; }
# Prefix: as an unprivileged user, so permissions mean something when the suite runs as root.
as_nobody=()
[ "$(id -u)" = 0 ] && as_nobody=(setpriv --reuid=nobody --regid=nogroup --clear-groups)

model="$work/model"
"$ponder" make-test-model "$model" --layers 2 --embd 32 --heads 2 --seed 3 --ttt >/dev/null \
  || { echo "FAIL cannot make the test model"; exit 1; }
code=/usr/lib/python3.11/json/decoder.py
fresh() { rm -rf "$work/$1"; cp -r "$model" "$work/$1"; echo "$work/$1"; }

if [ "$part" != outputs ]; then
echo "# backbone weights: every safetensors header field, then the data"
for case in length-past-end length-zero header-not-json header-array header-bad-utf8 \
            dtype-missing dtype-unknown dtype-int shape-negative shape-not-list shape-huge \
            offsets-missing offsets-reversed offsets-past-end offsets-wrong-size offsets-overlap \
            metadata-not-strings duplicate-name nan inf; do
  dir=$(fresh "w-$case")
  garble "$model/model.safetensors" "$dir/model.safetensors" "$case"
  expect "model.safetensors: $case" 1 "$ponder" info --model "$dir" --no-gemm
done
dir=$(fresh w-truncated); truncate -s 100 "$dir/model.safetensors"
expect "model.safetensors truncated inside its header" 1 "$ponder" info --model "$dir" --no-gemm
dir=$(fresh w-empty); : >"$dir/model.safetensors"
expect "model.safetensors of 0 bytes" 1 "$ponder" info --model "$dir" --no-gemm
dir=$(fresh w-dir); rm "$dir/model.safetensors"; mkdir "$dir/model.safetensors"
expect "model.safetensors is a directory" 1 "$ponder" info --model "$dir" --no-gemm
dir=$(fresh w-missing); rm "$dir/model.safetensors"
expect "model.safetensors missing" 1 "$ponder" eval --model "$dir" "$code"

echo "# config.json lies"
config_case() {  # NAME PYTHON-EXPRESSION-ON-c
  local dir; dir=$(fresh "c-$1")
  python3 -c "import json,sys; c=json.load(open(sys.argv[1])); $2; json.dump(c, open(sys.argv[1],'w'))" "$dir/config.json"
  expect "config.json: $1" 1 "$ponder" info --model "$dir" --no-gemm
}
config_case "n_embd not divisible by n_head" "c['n_head']=3"
config_case "negative n_layer" "c['n_layer']=-2"
config_case "n_layer as a string" "c['n_layer']='two'"
config_case "vocab smaller than the tokenizer" "c['vocab_size']=100"
config_case "fewer layers than the weights hold" "c['n_layer']=1"
config_case "not an object" "c=[1]"

echo "# TTT checkpoint lies"
ttt_case() {  # NAME PYTHON-EXPRESSION-ON-t
  local dir; dir=$(fresh "t-$1")
  python3 -c "import json,sys; t=json.load(open(sys.argv[1])); $2; json.dump(t, open(sys.argv[1],'w'))" "$dir/ttt.json"
  expect "ttt.json: $1" 1 "$ponder" eval --model "$dir" "$code" --quiet
}
ttt_case "a required field missing" "del t['mini_batch']"
ttt_case "a field of the wrong type" "t['heads']='one'"
ttt_case "hidden differs from the backbone" "t['hidden']=64"
ttt_case "unknown eta_form" "t['eta_form']='adam'"
ttt_case "mini_batch 0" "t['mini_batch']=0"
ttt_case "odd head_dim" "t['head_dim']=63"
ttt_case "heads that do not fit the tensors" "t['heads']=2; t['head_dim']=32"
ttt_case "unknown format" "t['format']='ponderttt-ttt/9'"
dir=$(fresh t-notjson); echo '{"format": ' >"$dir/ttt.json"
expect "ttt.json not JSON" 1 "$ponder" eval --model "$dir" "$code" --quiet
for case in offsets-past-end dtype-int inf; do
  dir=$(fresh "t-w-$case")
  garble "$model/ttt.safetensors" "$dir/ttt.safetensors" "$case"
  expect "ttt.safetensors: $case" 1 "$ponder" eval --model "$dir" "$code" --quiet
done
dir=$(fresh t-trunc); truncate -s 2000 "$dir/ttt.safetensors"
expect "ttt.safetensors truncated" 1 "$ponder" eval --model "$dir" "$code" --quiet

echo "# tokenizer files"
dir=$(fresh k-novocab); rm "$dir/vocab.json"
expect "vocab.json missing" 1 "$ponder" tokenize --model "$dir" "$code"
dir=$(fresh k-nomerges); rm "$dir/merges.txt"
expect "merges.txt missing" 1 "$ponder" tokenize --model "$dir" "$code"
dir=$(fresh k-vocabjunk); printf '\x00\x01junk' >"$dir/vocab.json"
expect "vocab.json not JSON" 1 "$ponder" tokenize --model "$dir" "$code"
dir=$(fresh k-vocabneg); python3 -c "import json,sys; v=json.load(open(sys.argv[1])); v['!']=-5; json.dump(v, open(sys.argv[1],'w'))" "$dir/vocab.json"
expect "vocab.json with a negative id" 1 "$ponder" tokenize --model "$dir" "$code"
dir=$(fresh k-vocabdup); python3 -c "import json,sys; v=json.load(open(sys.argv[1])); v['!']=v['\"']; json.dump(v, open(sys.argv[1],'w'))" "$dir/vocab.json"
expect "vocab.json with a repeated id" 1 "$ponder" tokenize --model "$dir" "$code"
dir=$(fresh k-mergejunk); printf '#version: 0.2\nonlyonetoken\n' >"$dir/merges.txt"
expect "merges.txt line without a pair" 1 "$ponder" tokenize --model "$dir" "$code"
dir=$(fresh k-mergeunknown); printf '#version: 0.2\nzz qq\n' >"$dir/merges.txt"
expect "merges.txt pair whose result is not in vocab.json" 1 "$ponder" tokenize --model "$dir" "$code"

echo "# inputs that are not usable code"
printf 'abc\000def' >"$work/binary.py"
expect "binary file" 1 "$ponder" eval --model "$model" "$work/binary.py"
printf '\xff\xfed\x00e\x00f\x00' >"$work/utf16.py"
expect "UTF-16 file" 1 "$ponder" eval --model "$model" "$work/utf16.py"
printf 'x = "caf\xe9"\n' >"$work/latin1.py"
expect "invalid UTF-8" 1 "$ponder" eval --model "$model" "$work/latin1.py"
expect_message "the UTF-8 error names the byte offset" "offset 8"
printf 'x = "\xed\xa0\x80"\n' >"$work/surrogate.py"
expect "UTF-8-encoded surrogate" 1 "$ponder" tokenize --model "$model" "$work/surrogate.py"
: >"$work/empty.py"
expect "0-byte file" 1 "$ponder" eval --model "$model" "$work/empty.py"
printf 'x = 1\n' >"$work/short.py"
expect "file shorter than one chunk" 1 "$ponder" eval --model "$model" "$work/short.py"
head -c 200000000 /dev/zero | tr '\0' 'x' >"$work/huge.py"
expect "200 MB file" 1 "$ponder" eval --model "$model" "$work/huge.py"
expect_message "the size error gives the size" "190 MiB"
rm -f "$work/huge.py"
expect "a directory where a file is expected" 1 "$ponder" tokenize --model "$model" "$work"
expect "a path that does not exist" 1 "$ponder" eval --model "$model" "$work/nope.py"
mkdir -p "$work/nocode"; printf 'abc\000' >"$work/nocode/a.py"
expect "a folder with no usable code" 1 "$ponder" eval --model "$model" "$work/nocode"
cp "$code" "$work/secret.py"; chmod 000 "$work/secret.py"
expect "an unreadable file" 1 "${as_nobody[@]}" "$ponder" eval --model "$model" "$work/secret.py"
expect "a model directory given as a file" 1 "$ponder" eval --model "$code" "$code"

fi

if [ "$part" != files ]; then
echo "# outputs that cannot be written"
db="$work/runs.sqlite"
expect "a first run stored" 0 "$ponder" eval --model "$model" "$code" --chunk 128 --db "$db" --label keep --quiet
sha_before=$(sha256sum "$db" | cut -d' ' -f1)
mkdir -p "$work/locked-out"; chmod 755 "$work/locked-out"; chmod 644 "$db"
expect "export into a folder without write permission" 1 "${as_nobody[@]}" "$ponder" export --db "$db" --out "$work/locked-out/export"
: >"$work/plain-file"
expect "export under a path whose parent is a regular file" 1 "$ponder" export --db "$db" --out "$work/plain-file/sub"
expect "--json into a folder without write permission" 1 "${as_nobody[@]}" "$ponder" eval --model "$model" "$code" --quiet --json "$work/locked-out/e.json"
expect "--db in a folder without write permission" 1 "${as_nobody[@]}" "$ponder" eval --model "$model" "$code" --quiet --db "$work/locked-out/r.sqlite"
expect "--figures into an unwritable folder" 1 "${as_nobody[@]}" "$ponder" export --db "$db" --out "$work/locked-out/f" --figures png

echo "# run databases: locked, corrupted, truncated, newer, not a database"
python3 - "$db" <<'PY' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN EXCLUSIVE")
time.sleep(12)
PY
holder=$!
sleep 1
expect "eval --db while another process holds the write lock" 1 "$ponder" eval --model "$model" "$code" --chunk 128 --db "$db" --quiet
expect_message "the lock error says locked" "locked"
wait "$holder"
cp "$db" "$work/corrupt.sqlite"
size=$(stat -c %s "$work/corrupt.sqlite")
dd if=/dev/urandom of="$work/corrupt.sqlite" bs=1 seek=$((size / 2)) count=4096 conv=notrunc status=none
corrupt_sha=$(sha256sum "$work/corrupt.sqlite" | cut -d' ' -f1)
expect "export from a corrupted database" 1 "$ponder" export --db "$work/corrupt.sqlite" --out "$work/x1"
expect "eval --db into a corrupted database" 1 "$ponder" eval --model "$model" "$code" --chunk 128 --db "$work/corrupt.sqlite" --quiet
[ "$(sha256sum "$work/corrupt.sqlite" | cut -d' ' -f1)" = "$corrupt_sha" ] \
  && pass "the corrupted database was left untouched" || fail "the corrupted database was modified"
cp "$db" "$work/truncated.sqlite"; truncate -s 3000 "$work/truncated.sqlite"
expect "runs on a truncated database" 1 "$ponder" runs --db "$work/truncated.sqlite"
cp "$db" "$work/newer.sqlite"
python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('INSERT INTO schema_version VALUES (99, \"2099-01-01\", \"future\")'); c.commit()" "$work/newer.sqlite"
expect "a database from a newer ponder" 1 "$ponder" eval --model "$model" "$code" --chunk 128 --db "$work/newer.sqlite" --quiet
expect_message "the newer-schema error says newer" "newer"
cp "$code" "$work/code-as.sqlite"
expect "eval --db onto a file that is not a database" 1 "$ponder" eval --model "$model" "$code" --chunk 128 --db "$work/code-as.sqlite" --quiet
cmp -s "$code" "$work/code-as.sqlite" && pass "the foreign file was left untouched" || fail "the foreign file was modified"
expect "a database path that is a directory" 1 "$ponder" runs --db "$work"
dir=$(fresh cal); echo '{"format": "ponderttt-calibration/1", "levels": [0, 1]' >"$dir/calibration.json"
expect "a damaged calibration.json" 1 "$ponder" eval --model "$dir" "$code" --calibration profile --quiet

echo "# nothing stored was lost"
expect "runs after every failure above" 0 "$ponder" runs --db "$db"
[ "$(wc -l <"$work/out")" = 1 ] && grep -q keep "$work/out" && grep -q complete "$work/out" \
  && pass "the first run is still there, complete" || fail "runs: $(cat "$work/out")"
expect "the first run still exports" 0 "$ponder" export --db "$db" --out "$work/export-after"
[ "$(sqlite3 "$db" 'PRAGMA integrity_check')" = ok ] && pass "integrity_check ok" || fail "integrity_check"
fi

echo
echo "hostile inputs ($part): $checks checks, $failures failed"
[ "$failures" -eq 0 ]
