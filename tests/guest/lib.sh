# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# Shared helpers for the scripts that build test guests from Debian packages:
# tests/guest/build.sh (the test guest) and tools/kvmbox (its L1 box) source
# this file. Nothing here runs on its own.
#
# - ensure_pkgs PKG...      installs the Debian packages that dpkg does not
#                           list as installed (quietly; apt-get update only
#                           when the first install attempt fails).
# - guest_module_order DIR NAME...
#                           prints, in load order, the module files (paths
#                           relative to DIR = lib/modules/<ver>) needed for
#                           the named modules: dependencies first, resolved
#                           from modules.dep. Built-in modules are skipped;
#                           names that are neither are reported on stderr.
# - guest_stage_modules DIR DEST NAME...
#                           copies those modules into DEST as plain NAME.ko
#                           (decompressing .ko.xz/.ko.zst/.ko.gz, which
#                           busybox insmod cannot read) and writes
#                           DEST/order, one module name a line.
# - guest_stage_busybox DEST
#                           puts the host's static busybox into DEST/bin with
#                           a symlink for every applet.
# - guest_stage_dynamic DEST BIN...
#                           copies dynamically linked host programs into DEST
#                           at their own paths, with every library ldd lists
#                           for them and the loader (contents, not links),
#                           and writes DEST's ld.so.conf and ld.so.cache.
#                           guest_dynamic_sig BIN... prints a signature of
#                           all that (paths, sizes, times) for cache keys.
# - guest_pack_cpio DIR OUT writes DIR as a gzip'd newc initramfs, atomically.

# Installs missing Debian packages; quiet unless something goes wrong.
ensure_pkgs() {
	local p missing=()
	for p in "$@"; do
		if [[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null)" != "ii " ]]; then
			missing+=("$p")
		fi
	done
	((${#missing[@]} == 0)) && return 0
	if ((EUID != 0)); then
		echo "missing packages (need root to install): ${missing[*]}" >&2
		return 1
	fi
	echo "installing Debian packages: ${missing[*]}" >&2
	local log
	log=$(mktemp)
	local apt=(env DEBIAN_FRONTEND=noninteractive apt-get -y -qq --no-install-recommends)
	if ! "${apt[@]}" install "${missing[@]}" >"$log" 2>&1; then
		if ! { apt-get update -qq && "${apt[@]}" install "${missing[@]}"; } >"$log" 2>&1; then
			tail -n 20 "$log" >&2
			rm -f "$log"
			echo "could not install: ${missing[*]}" >&2
			return 1
		fi
	fi
	rm -f "$log"
}

# Prints the module files for NAME... in dependency order.
guest_module_order() {
	local dir=$1
	shift
	[[ -f "$dir/modules.dep" ]] || {
		echo "no modules.dep in $dir" >&2
		return 1
	}
	awk -v want="$*" '
	function norm(p,   n) {
		n = p; sub(/.*\//, "", n); sub(/\.ko(\.(xz|zst|gz))?$/, "", n)
		gsub(/-/, "_", n); return n
	}
	FILENAME ~ /modules\.builtin$/ { builtin[norm($1)] = 1; next }
	{
		key = $1; sub(/:$/, "", key); n = norm(key)
		path[n] = key; deps[n] = ""
		for (i = 2; i <= NF; i++) deps[n] = deps[n] " " norm($i)
	}
	function visit(n,   a, k, i) {
		if (n in seen) return
		seen[n] = 1
		if (!(n in path)) {
			if (!(n in builtin)) print "module not found: " n > "/dev/stderr"
			return
		}
		k = split(deps[n], a, " ")
		# modules.dep lists the deepest dependency last; load it first.
		for (i = k; i >= 1; i--) visit(a[i])
		print path[n]
	}
	END {
		k = split(want, w, " ")
		for (i = 1; i <= k; i++) { x = w[i]; gsub(/-/, "_", x); visit(x) }
	}' "$dir/modules.builtin" "$dir/modules.dep"
}

# Copies the modules for NAME... into DEST, uncompressed, plus DEST/order.
guest_stage_modules() {
	local dir=$1 dest=$2 f name
	shift 2
	mkdir -p "$dest"
	: >"$dest/order"
	local files
	files=$(guest_module_order "$dir" "$@") || return 1
	while IFS= read -r f; do
		[[ -n "$f" ]] || continue
		name=${f##*/}
		name=${name%%.ko*}
		case "$f" in
		*.ko.xz) xz -dc "$dir/$f" >"$dest/$name.ko" ;;
		*.ko.zst) zstd -qdc "$dir/$f" >"$dest/$name.ko" ;;
		*.ko.gz) gzip -dc "$dir/$f" >"$dest/$name.ko" ;;
		*) cp "$dir/$f" "$dest/$name.ko" ;;
		esac
		echo "$name" >>"$dest/order"
	done <<<"$files"
}

# Installs the host's static busybox (package busybox-static) into DEST.
guest_stage_busybox() {
	local dest=$1 a
	mkdir -p "$dest/bin" "$dest/sbin" "$dest/usr/bin" "$dest/usr/sbin"
	cp /bin/busybox "$dest/bin/busybox"
	while IFS= read -r a; do
		[[ -n "$a" && "$a" != bin/busybox ]] || continue
		[[ -e "$dest/$a" ]] || ln -s /bin/busybox "$dest/$a"
	done < <("$dest/bin/busybox" --list-full)
}

# Packs DIR into a gzip'd newc cpio at OUT (written to a temp file, then
# renamed, so a concurrent reader never sees half a file).
# The libraries (and loader) ldd lists for BIN..., one path a line.
guest_dynamic_libs() {
	local f
	for f in "$@"; do
		ldd "$(readlink -f "$f")" || return 1
	done | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u
}

# A signature of BIN... and their libraries (paths, sizes, times).
guest_dynamic_sig() {
	local libs=()
	mapfile -t libs < <(guest_dynamic_libs "$@")
	stat -L -c '%n %s %Y' "$@" "${libs[@]}" | sha256sum | cut -d' ' -f1
}

guest_stage_dynamic() {
	local dest=$1 f l
	shift
	local bins=() libs=()
	for f in "$@"; do
		bins+=("$(readlink -f "$f")")
	done
	mapfile -t libs < <(guest_dynamic_libs "${bins[@]}")
	((${#libs[@]} > 0)) || {
		echo "guest_stage_dynamic: ldd lists nothing for ${bins[*]}" >&2
		return 1
	}
	for l in "${libs[@]}" "${bins[@]}"; do
		[[ -e "$l" ]] || {
			echo "guest_stage_dynamic: $l does not exist" >&2
			return 1
		}
		mkdir -p "$dest$(dirname "$l")"
		cp -L "$l" "$dest$l"
	done
	mkdir -p "$dest/etc"
	printf '%s\n' "${libs[@]}" | xargs -n1 dirname | sort -u >"$dest/etc/ld.so.conf"
	ldconfig -r "$dest" || {
		echo "guest_stage_dynamic: ldconfig -r $dest failed" >&2
		return 1
	}
}

guest_pack_cpio() {
	local dir=$1 out=$2
	(cd "$dir" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc --owner=0:0 --quiet) | gzip -6 -n >"$out.tmp.$$"
	mv -f "$out.tmp.$$" "$out"
}
