#!/usr/bin/env bash
# Installs, on first run, what the local stack and the tests need, all under
# .local/: a Python venv with moto (SQS), SAM CLI, cfn-lint and the AWS CLI;
# AWS's DynamoDB Local from Maven Central; staticcheck; and, system-wide,
# Debian's chromium for the dashboard tests. Later runs are no-ops
# unless one of the pinned inputs changed (each part keeps a stamp of them).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
dir="$root/.local"
mkdir -p "$dir/bin"

need() {
  command -v "$1" >/dev/null 2>&1 || { echo "install.sh: '$1' is missing: $2 (.ci/run installs it on CI)" >&2; exit 1; }
}
stamp_of() { cat "$@" | sha256sum | cut -c1-16; }
fresh() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }

# Two make targets may install at once (make dev beside make test): take turns.
exec 9>"$dir/install.lock"
flock 9

started=$(date +%s)

need python3 "Python 3.9+ with the venv module"
stamp=$(stamp_of infra/local/requirements.txt infra/local/constraints.txt)
if ! fresh "$dir/venv/.stamp" "$stamp"; then
  echo "install: Python tools (moto, SAM CLI, cfn-lint, AWS CLI) into .local/venv"
  rm -rf "$dir/venv"
  python3 -m venv "$dir/venv"
  "$dir/venv/bin/pip" install -q --disable-pip-version-check --upgrade pip
  "$dir/venv/bin/pip" install -q --disable-pip-version-check \
    -r infra/local/requirements.txt -c infra/local/constraints.txt
  echo "$stamp" > "$dir/venv/.stamp"
fi

need java "a Java 17+ runtime for DynamoDB Local"
need mvn "Maven, to fetch DynamoDB Local from Maven Central"
stamp=$(stamp_of infra/local/dynamodb/pom.xml)
if ! fresh "$dir/dynamodb/.stamp" "$stamp"; then
  echo "install: DynamoDB Local into .local/dynamodb"
  rm -rf "$dir/dynamodb"
  mvn -q -B -f infra/local/dynamodb/pom.xml dependency:copy-dependencies \
    -DoutputDirectory="$dir/dynamodb/lib" -Dmaven.repo.local="$dir/m2"
  echo "$stamp" > "$dir/dynamodb/.stamp"
fi

need go "the Go toolchain"
staticcheck_version=v0.8.2
if ! fresh "$dir/bin/.staticcheck" "$staticcheck_version"; then
  echo "install: staticcheck $staticcheck_version into .local/bin"
  GOBIN="$dir/bin" go install "honnef.co/go/tools/cmd/staticcheck@$staticcheck_version"
  echo "$staticcheck_version" > "$dir/bin/.staticcheck"
fi

# Headless Chromium for the dashboard tests: Debian's package, only when missing.
if ! command -v chromium >/dev/null 2>&1; then
  command -v apt-get >/dev/null 2>&1 || { echo "install.sh: 'chromium' is missing: install Debian's chromium package" >&2; exit 1; }
  echo "install: chromium (apt-get)"
  as_root=""
  [ "$(id -u)" -eq 0 ] || as_root=sudo
  $as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq chromium >/dev/null
fi

took=$(( $(date +%s) - started ))
[ "$took" -gt 2 ] && echo "install: done in ${took}s"
exit 0
