#!/usr/bin/env bash
# Builds a thread-safe (ZTS) PHP with the embed SAPI, which FrankenPHP links
# against, from Debian's php8.2 source package, and prints its prefix.
#
# The build lands in a cache outside the repository, keyed by PHP version and
# configure flags, and is reused when present (a fresh build takes 5 to 10
# minutes on two cores). The prefix holds:
#   bin/php, bin/php-config       CLI and build flags of this very build
#   lib/libphp.so                 the embed SAPI
#   lib/php/build/gen_stub.php    PHP's stub generator, with the PHP-Parser it
#                                 needs beside it so that it runs offline
#                                 (FrankenPHP's extension generator needs it)
#
# Environment:
#   POGO_CACHE       cache root (default: ${XDG_CACHE_HOME:-$HOME/.cache}/pogo-websocket)
#   PHP_DEB_VERSION  preferred source version; any other 8.2 one that downloads
#                    is tried when it does not (default below)
#   JOBS             parallel make jobs (default: number of cores)
#
# Needs root, or sudo, only when it builds: for apt (deb-src, build tools).
set -euo pipefail

PHP_SERIES=8.2
PHP_DEB_VERSION=${PHP_DEB_VERSION:-8.2.32-1~deb12u1}
CACHE=${POGO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pogo-websocket}
JOBS=${JOBS:-$(nproc)}

# FrankenPHP's four mandatory flags come first; the rest is what Laravel's
# documented server requirements list (ctype, curl, DOM, fileinfo, filter,
# hash, mbstring, openssl, PCRE, PDO, session, tokenizer, XML; hash and PCRE
# are always built), plus pdo_sqlite for the Laravel tests. Every extension
# costs build time, so nothing else.
CONFIGURE_FLAGS=(
	--enable-zts
	--enable-embed
	--disable-zend-signals
	--enable-zend-max-execution-timers
	--disable-all
	--disable-cgi
	--disable-phpdbg
	--enable-ctype
	--with-curl
	--enable-dom
	--enable-fileinfo
	--enable-filter
	--enable-mbstring
	--with-openssl
	--enable-pdo
	--with-pdo-sqlite
	--enable-session
	--enable-tokenizer
	--enable-xml
	--enable-simplexml
	--enable-xmlwriter
	--with-libxml
)
# Debian packages the extensions above build against.
BUILD_DEPS=(libcurl4-openssl-dev libxml2-dev libonig-dev libssl-dev libsqlite3-dev)
# Debian's PHP libraries (php-laravel-framework & co.) live here.
INCLUDE_PATH=".:/usr/share/php"
# No debug info: a third faster to build, and a smaller libphp.
BUILD_CFLAGS="-O2"
# Changing this script's build steps without changing the flags? Bump it.
BUILD_REVISION=1

key=$(printf '%s\n' "$BUILD_REVISION" "$BUILD_CFLAGS" "${CONFIGURE_FLAGS[@]}" "$INCLUDE_PATH" | sha256sum | cut -c1-10)
ROOT=$CACHE/php-zts
LOG=$ROOT/build.log

log() { printf 'build-libphp: %s\n' "$*" >&2; }

# find_prefix prints the newest complete build for this key, if any.
find_prefix() {
	local dir best=
	for dir in "$ROOT/$PHP_SERIES".*-"$key"; do
		[[ -f $dir/.complete ]] && best=$dir
	done
	[[ -n $best ]] && printf '%s\n' "$best"
}

# add_php_parser puts PHP-Parser where gen_stub.php looks for it before it
# tries to download it. Debian packages it: unpack the package (installing it
# would pull in Debian's own PHP). Needs no root.
add_php_parser() {
	local build_dir=$1/lib/php/build version tmp
	version=$(sed -n 's/^ *\$version = "\(4\.[0-9.]*\)";/\1/p' "$build_dir/gen_stub.php" | head -n 1)
	[[ -n $version ]] || return 0
	[[ -d $build_dir/PHP-Parser-$version ]] && return 0
	tmp=$(mktemp -d)
	(
		cd "$tmp" &&
			apt-get download php-parser >/dev/null 2>&1 &&
			dpkg-deb -x php-parser_*.deb root &&
			mkdir -p "$tmp/PHP-Parser-$version/lib" &&
			cp -r root/usr/share/php/PhpParser "$tmp/PHP-Parser-$version/lib/" &&
			mv "$tmp/PHP-Parser-$version" "$build_dir/"
	)
	local rc=$?
	rm -rf "$tmp"
	return $rc
}

if prefix=$(find_prefix); then
	add_php_parser "$prefix" || true
	printf '%s\n' "$prefix"
	exit 0
fi

mkdir -p "$ROOT"
exec 9>"$ROOT/.lock"
flock 9
if prefix=$(find_prefix); then # another build finished while we waited
	printf '%s\n' "$prefix"
	exit 0
fi

SUDO=
if [[ $(id -u) != 0 ]]; then
	command -v sudo >/dev/null || { log "building libphp needs root or sudo (apt-get)"; exit 1; }
	SUDO=sudo
fi

: >"$LOG"
fail() {
	log "$1; last lines of $LOG:"
	tail -n 40 "$LOG" >&2
	exit 1
}
run() { "$@" >>"$LOG" 2>&1; }

# Source indexes: derive a deb-src entry from the machine's own Debian entries,
# so that no mirror is named here.
enable_deb_src() {
	local src=/etc/apt/sources.list.d/pogo-websocket-src.sources list=/etc/apt/sources.list.d/pogo-websocket-src.list
	local f
	if [[ ! -e $src && -f /etc/apt/sources.list.d/debian.sources ]]; then
		sed -e 's/^Types:.*/Types: deb-src/' /etc/apt/sources.list.d/debian.sources | $SUDO tee "$src" >/dev/null
	fi
	if [[ ! -e $list ]]; then
		for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
			[[ -f $f ]] || continue
			sed -n -e 's/^deb \(.*debian.*\)$/deb-src \1/p' "$f"
		done | $SUDO tee "$list.tmp" >/dev/null
		if [[ -s $list.tmp ]]; then $SUDO mv "$list.tmp" "$list"; else $SUDO rm -f "$list.tmp"; fi
	fi
}

log "no cached ZTS libphp for key $key; building (5 to 10 minutes on 2 cores, log: $LOG)"
if ! apt-cache showsrc "php$PHP_SERIES" 2>/dev/null | grep -q '^Version:'; then
	enable_deb_src
	run $SUDO apt-get update || fail "apt-get update failed"
fi
run $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	build-essential pkg-config xz-utils "${BUILD_DEPS[@]}" ||
	fail "installing build tools failed"

work=$ROOT/work
rm -rf "$work"
mkdir -p "$work"
chmod 777 "$work" # apt downloads as _apt where it can
cd "$work"

# The security suite lists newer versions than it serves; try the pinned one
# first, then whatever else is listed, newest first.
mapfile -t versions < <(
	printf '%s\n' "$PHP_DEB_VERSION"
	apt-cache showsrc "php$PHP_SERIES" | sed -n 's/^Version: //p' | sort -rV
)
deb_version=
for v in "${versions[@]}"; do
	if run apt-get source --download-only "php$PHP_SERIES=$v"; then
		deb_version=$v
		break
	fi
done
[[ -n $deb_version ]] || fail "no php$PHP_SERIES source package could be downloaded"
upstream=${deb_version%%-*}
upstream=${upstream#*:}
log "building PHP $upstream (Debian source $deb_version)"

# The upstream tarball ships a generated configure; Debian's patches are not
# needed for an embed build.
run tar xJf "php${PHP_SERIES}_${upstream}.orig.tar.xz" || fail "extracting the PHP source failed"
cd "php-$upstream"

prefix=$ROOT/$upstream-$key
rm -rf "$prefix"
run ./configure --prefix="$prefix" CFLAGS="$BUILD_CFLAGS" "${CONFIGURE_FLAGS[@]}" || fail "configure failed"
run nice make -j"$JOBS" || fail "make failed"
run make install || fail "make install failed"

# The embed SAPI and the CLI read php.ini from lib/ (PHP_CONFIG_FILE_PATH).
printf 'include_path = "%s"\n' "$INCLUDE_PATH" >"$prefix/lib/php.ini"

install -m 644 build/gen_stub.php "$prefix/lib/php/build/gen_stub.php"
add_php_parser "$prefix" || log "warning: PHP-Parser unavailable; gen_stub.php will try to download it"

"$prefix/bin/php" -r 'exit(PHP_ZTS ? 0 : 1);' || fail "the PHP just built is not thread-safe"
printf '%s\n' "$deb_version" >"$prefix/.debian-version"
touch "$prefix/.complete"
cd "$ROOT"
rm -rf "$work"
log "done: $prefix"
printf '%s\n' "$prefix"
