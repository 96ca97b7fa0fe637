#!/usr/bin/env bash
# Installs the pgvector extension into the machine's Debian PostgreSQL (the tests' server,
# and a developer's), built from Debian's own source package: pgvector 0.8.0 from trixie,
# since bookworm ships none. Run as root; does nothing when pgvector is already installed.
#
# The build is portable: pgvector's Makefile defaults to -march=native, which would tie the
# library to the building CPU; OPTFLAGS="" leaves the choice to its own run-time dispatch.
set -euo pipefail
PG_CONFIG=${PG_CONFIG:-pg_config}
VERSION=0.8.0
major="$(ls /usr/lib/postgresql | sort -n | tail -1)"
if [ -z "$major" ]; then
  echo "no Debian PostgreSQL under /usr/lib/postgresql: apt-get install postgresql first" >&2
  exit 1
fi
if [ -f "/usr/share/postgresql/$major/extension/vector.control" ]; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq "postgresql-server-dev-$major" make gcc >/dev/null
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat > "$work/trixie.sources" <<SOURCES
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
apt_src=(-o "Dir::Etc::SourceList=$work/trixie.sources" -o "Dir::Etc::SourceParts=-"
  -o "APT::Get::List-Cleanup=0")
apt-get update -qq "${apt_src[@]}"
(cd "$work" && apt-get source -qq --download-only "${apt_src[@]}" "pgvector=$VERSION-1" 2>/dev/null)
tar -xzf "$work/pgvector_$VERSION.orig.tar.gz" -C "$work"
make -s -C "$work/pgvector-$VERSION" PG_CONFIG="/usr/lib/postgresql/$major/bin/pg_config" OPTFLAGS="" >/dev/null
make -s -C "$work/pgvector-$VERSION" PG_CONFIG="/usr/lib/postgresql/$major/bin/pg_config" install >/dev/null
echo "pgvector $VERSION installed into PostgreSQL $major" >&2
