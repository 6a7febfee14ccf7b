#!/usr/bin/env bash
# Every C++ file is clang-formatted (Google base, 100 columns: .clang-format).
set -euo pipefail
cd "$(dirname "$0")/.."
files=$(git ls-files --cached --others --exclude-standard '*.h' '*.cc')
[[ -z $files ]] && { echo "check_format: no files"; exit 0; }
# shellcheck disable=SC2086
if ! clang-format --dry-run --Werror $files >/dev/null 2>&1; then
  echo "check_format: these files need clang-format -i:"
  for f in $files; do clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || echo "  $f"; done
  exit 1
fi
echo "check_format: ok"
