// Reference side of the tokenizer conformance test: encodes files with npm gpt-3-encoder and
// compares its ids with tokenizer_dump's, explaining the first few mismatches.
//   node gpt3_encode.js encode NPM_PREFIX CANDIDATES KEPT_LIST OUT
//   node gpt3_encode.js compare NPM_PREFIX REFERENCE OURS
'use strict';
const fs = require('fs');
const path = require('path');

const kMaxBytes = 200 * 1024;
const kMaxReportedFiles = 5;

function loadEncoder(prefix) {
    return require(path.join(path.resolve(prefix), 'node_modules', 'gpt-3-encoder'));
}

// Keeps files that are valid UTF-8 and small enough, then encodes them in list order.
function encodeFiles(prefix, candidatesPath, keptPath, outPath) {
    const { encode } = loadEncoder(prefix);
    const strict = new TextDecoder('utf-8', { fatal: true });
    const candidates = fs.readFileSync(candidatesPath, 'utf-8').split('\n').filter((p) => p);
    const kept = [];
    const lines = [];
    for (const file of candidates) {
        const bytes = fs.readFileSync(file);
        if (bytes.length === 0 || bytes.length > kMaxBytes) continue;
        try {
            strict.decode(bytes);
        } catch (e) {
            continue;
        }
        // Buffer's decoder keeps a leading BOM (TextDecoder would drop it), so the text
        // matches the bytes that tokenizer_dump reads.
        const ids = encode(bytes.toString('utf-8'));
        if (ids.some((id) => id === undefined))
            throw new Error(`${file}: the reference produced an unknown token`);
        kept.push(file);
        lines.push(`${file}\t${ids.join(' ')}`);
    }
    fs.writeFileSync(keptPath, kept.join('\n') + '\n');
    fs.writeFileSync(outPath, lines.join('\n') + '\n');
}

function readDump(file) {
    const rows = new Map();
    for (const line of fs.readFileSync(file, 'utf-8').split('\n')) {
        if (!line) continue;
        const tab = line.indexOf('\t');
        const ids = line.slice(tab + 1).trim();
        rows.set(line.slice(0, tab), ids ? ids.split(' ').map(Number) : []);
    }
    return rows;
}

function compareDumps(prefix, referencePath, oursPath) {
    const { decode } = loadEncoder(prefix);
    const reference = readDump(referencePath);
    const ours = readDump(oursPath);
    let files = 0;
    let tokens = 0;
    let mismatches = 0;
    for (const [file, want] of reference) {
        files += 1;
        tokens += want.length;
        const got = ours.get(file);
        if (got === undefined) {
            if (++mismatches <= kMaxReportedFiles) console.log(`MISSING ${file}: not in our dump`);
            continue;
        }
        let at = 0;
        while (at < want.length && at < got.length && want[at] === got[at]) at += 1;
        if (at === want.length && at === got.length) continue;
        if (++mismatches > kMaxReportedFiles) continue;
        const from = Math.max(0, at - 3);
        const window = (ids) => ids.slice(from, at + 5);
        console.log(`MISMATCH ${file}: ${want.length} reference tokens, ${got.length} ours, ` +
                    `first difference at token ${at}`);
        console.log(`  reference ids[${from}..]: ${window(want).join(' ')}`);
        console.log(`  our ids[${from}..]:       ${window(got).join(' ')}`);
        console.log(`  reference text there: ${JSON.stringify(decode(window(want)))}`);
        const pieces = (ids) => JSON.stringify(window(ids).map((id) => decode([id])));
        console.log(`  reference tokens: ${pieces(want)}`);
        console.log(`  our tokens:       ${pieces(got)}`);
    }
    if (mismatches > kMaxReportedFiles)
        console.log(`... and ${mismatches - kMaxReportedFiles} more mismatching files`);
    if (ours.size !== reference.size)
        console.log(`note: our dump has ${ours.size} files, the reference ${reference.size}`);
    if (mismatches > 0) {
        console.log(`conformance: FAILED, ${mismatches} of ${files} files differ`);
        return 1;
    }
    if (files < 200) {
        console.log(`conformance: FAILED, only ${files} files compared (need at least 200)`);
        return 1;
    }
    console.log(`conformance: ${files} files, ${tokens} tokens, all identical`);
    return 0;
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'encode' && args.length === 4) {
    encodeFiles(...args);
} else if (mode === 'compare' && args.length === 3) {
    process.exitCode = compareDumps(...args);
} else {
    console.error('usage: node gpt3_encode.js encode NPM_PREFIX CANDIDATES KEPT_LIST OUT\n' +
                  '       node gpt3_encode.js compare NPM_PREFIX REFERENCE OURS');
    process.exitCode = 2;
}
