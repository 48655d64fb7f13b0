#!/usr/bin/env bash
# Every section of docs/algorithm.md, docs/design.md and docs/gates.md that the code cites must
# exist.
#
# usage: check_doc_refs.sh REPO_ROOT
#
# Scans the text files under core/ app/ viz/ tests/ scripts/ for citations of the two
# documents: the document's file name followed, on the same line, by one or more section
# numbers written with a section sign (single numbers, lists separated by commas or "and",
# ranges with a hyphen or an en dash, "item N" of a section, trailing punctuation), or by the
# word "section" and a number. A citation belongs to the document named last before it on
# that line. Each cited number must be a heading of that document: a Markdown heading that
# starts with the number ("## 5. Gating", "### 2.3 Forward", "### 9.13 Random draws"), or
# a line that starts with the number in bold ("**9.13** ..."). "Section 9, item 2" is
# looked up as 9.2.
#
# Also fails when a file under core/ app/ viz/ tests/ scripts/ docs/ or README.md points
# into the team's private shared folder.
#
# Exit status 0 with a count when everything resolves, 1 with one line per problem
# ("file:line: ..."), 2 for bad usage.
set -euo pipefail

if [ $# -ne 1 ] || [ ! -d "$1" ]; then
    echo "usage: $0 REPO_ROOT" >&2
    exit 2
fi

exec python3 - "$1" "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")" <<'PY'
import os
import re
import sys

root = os.path.abspath(sys.argv[1])
self_path = os.path.realpath(sys.argv[2])

SCANNED = ["core", "app", "viz", "tests", "scripts"]
DOCS = {"algorithm": os.path.join("docs", "algorithm.md"),
        "design": os.path.join("docs", "design.md"),
        "gates": os.path.join("docs", "gates.md")}
# Built from pieces so that this script does not match its own patterns.
FORBIDDEN = ["../" + "shared", "shared" + "/docs"]

NUM = r"\d+(?:\.\d+)*"
# Any document name: where the text belonging to one citation ends.
ANY_DOC = re.compile(r"[\w./-]+\.md\b")
OUR_DOC = re.compile(r"\b(algorithm|design|gates)\.md\b")
SIGN_REF = re.compile(
    r"§\s*(?P<a>" + NUM + r")"
    r"(?:[-\u2013]\s*§?\s*(?P<b>" + NUM + r"))?"
    r"(?:,?\s+items?\s+(?P<item>\d+))?")
WORD_REF = re.compile(r"^\s*,?\s*sections?\s+(?P<a>" + NUM + r")(?:,?\s+items?\s+(?P<item>\d+))?",
                      re.IGNORECASE)
HEADING = re.compile(r"^#{1,6}\s+(?:§\s*)?(" + NUM + r")\.?(?:\s|$)")
BOLD_LABEL = re.compile(r"^\s*(?:[-*]\s+)?\*\*(?:§\s*)?(" + NUM + r")\.?(?:\*\*|\s)")


def read_text(path):
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    if b"\0" in data[:8192]:
        return None  # binary (fuzz corpora, images)
    return data.decode("utf-8", errors="replace")


def walk(top):
    for base, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = os.path.join(base, name)
            if os.path.realpath(path) == self_path or os.path.islink(path):
                continue
            yield path


def expand(a, b):
    """Section numbers of a range a..b (same depth, last component varies); [a] without b."""
    if not b:
        return [a]
    pa, pb = a.split("."), b.split(".")
    if len(pb) == 1 and len(pa) > 1:  # "2.3-5" means 2.3..2.5
        pb = pa[:-1] + pb
    if len(pa) != len(pb) or pa[:-1] != pb[:-1] or int(pb[-1]) < int(pa[-1]):
        return [a, b]  # not a simple range: check both ends
    prefix = pa[:-1]
    return [".".join(prefix + [str(i)]) for i in range(int(pa[-1]), int(pb[-1]) + 1)]


def citations(line):
    """(document, section) pairs cited on one line."""
    found = []
    for match in OUR_DOC.finditer(line):
        doc = match.group(1)
        rest = line[match.end():]
        following = ANY_DOC.search(rest)
        segment = rest[:following.start()] if following else rest
        word = WORD_REF.match(segment)
        refs = [word] if word else []
        refs += list(SIGN_REF.finditer(segment))
        for ref in refs:
            numbers = expand(ref.group("a"), ref.groupdict().get("b"))
            if ref.group("item"):
                numbers = [n + "." + ref.group("item") for n in numbers]
            found += [(doc, n) for n in numbers]
    return found


problems = []
sections = {}
for doc, rel in DOCS.items():
    text = read_text(os.path.join(root, rel))
    if text is None:
        problems.append(f"{rel}: missing or unreadable")
        sections[doc] = set()
        continue
    numbers = set()
    fence = False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fence = not fence
            continue
        if fence:
            continue
        for pattern in (HEADING, BOLD_LABEL):
            match = pattern.match(line)
            if match:
                numbers.add(match.group(1))
    sections[doc] = numbers

count = {doc: 0 for doc in DOCS}
files_citing = set()
for top in SCANNED:
    top_path = os.path.join(root, top)
    if not os.path.isdir(top_path):
        continue
    for path in walk(top_path):
        text = read_text(path)
        if text is None:
            continue
        rel = os.path.relpath(path, root)
        for number, line in enumerate(text.splitlines(), 1):
            for doc, section in citations(line):
                count[doc] += 1
                files_citing.add(rel)
                if section not in sections[doc]:
                    problems.append(f"{rel}:{number}: cites {doc}.md §{section}, "
                                    f"which {DOCS[doc]} does not have")

forbidden_roots = [os.path.join(root, d) for d in SCANNED + ["docs"]]
forbidden_files = [os.path.join(root, "README.md")]
for path in [p for top in forbidden_roots if os.path.isdir(top) for p in walk(top)] + \
        [f for f in forbidden_files if os.path.isfile(f)]:
    text = read_text(path)
    if text is None:
        continue
    rel = os.path.relpath(path, root)
    for number, line in enumerate(text.splitlines(), 1):
        for pattern in FORBIDDEN:
            if pattern in line:
                problems.append(f"{rel}:{number}: refers to '{pattern}', which is not part of "
                                f"the repository; cite docs/ instead")

if problems:
    for problem in problems:
        print(problem)
    print(f"{len(problems)} problem(s)")
    sys.exit(1)
total = sum(count.values())
each = ", ".join(f"{n} of {doc}.md" for doc, n in count.items())
print(f"ok: {total} citations ({each}) in {len(files_citing)} files all resolve to headings in "
      f"docs/; "
      f"no file points outside the repository")
PY
