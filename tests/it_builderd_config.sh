#!/bin/bash
# it_builderd_config.sh: builderd -n on the shipped configs (the
# production example config/builderd.conf and the demo's template), and
# its refusals of bad ones, each naming the file:line or the section and
# the reason. A foreign target without its QEMU binfmt_misc handler must
# be reported by name.
set -u
src=${WW_SOURCE_DIR:?}
bd=${WW_BUILD_DIR:?}/builder/builderd
tmp=$(mktemp -d "${WW_TEST_TMP:-/tmp}/it_builderd_config.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

# expect RC PATTERN CONFIG: builderd -n exits RC and says PATTERN.
expect() {
	local rc=$1 pat=$2 conf=$3 out got
	out=$("$bd" -n -c "$conf" 2>&1)
	got=$?
	if [ "$got" -eq "$rc" ] && printf '%s' "$out" | grep -qE -- "$pat"; then
		ok "$(basename "$conf"): exit $rc, says /$pat/"
	else
		bad "$(basename "$conf"): wanted exit $rc and /$pat/, got $got: $out"
	fi
}

# The production example (its aarch64 target needs qemu-aarch64).
if [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] &&
    head -n 1 /proc/sys/fs/binfmt_misc/qemu-aarch64 | grep -qx enabled; then
	expect 0 "configuration OK" "$src/config/builderd.conf"
else
	expect 1 "qemu-aarch64.*docker/binfmt.sh" "$src/config/builderd.conf"
fi

# The demo template, filled in as .ci/demo does.
sed -e "s|@DATADIR@|$tmp/data|g" -e "s|@DEMODIR@|$tmp|g" -e "s|@PORT@|8421|g" \
    -e "s|@SRCDIR@|$src|g" -e "s|@ENGINE_URL@|unix://$tmp/e.sock|g" \
    "$src/config/demo/wheelwright.conf.in" > "$tmp/demo.conf"
expect 0 "configuration OK" "$tmp/demo.conf"
# With its musllinux target, as .ci/demo adds it when the musl image exists.
sed -e "s|@MUSL_IMAGE@|localhost/wheelwright-musl-libyaml:test|g" \
    "$src/config/demo/musllinux.conf.in" >> "$tmp/demo.conf"
expect 0 "configuration OK" "$tmp/demo.conf"

base() {
	cat <<EOT
[global]
datadir = $tmp/data
[engine e1]
url = unix://$tmp/e.sock
EOT
}
{ base; printf '[target t]\nimage = i\narch = vax\n'; } > "$tmp/arch.conf"
expect 1 'target t.*arch "vax"' "$tmp/arch.conf"
{ base; printf '[target t]\nimage = i\nengines = e9\n'; } > "$tmp/eng.conf"
expect 1 'engine "e9" is not defined' "$tmp/eng.conf"
{ base; printf '[target t]\nimage = i\nrepair = perhaps\n'; } > "$tmp/rep.conf"
expect 1 'rep.conf:[0-9]+: repair: "perhaps" is not yes/no' "$tmp/rep.conf"
{ base; printf '[builderd]\nlabels = wheelwright.job=3\n'; } > "$tmp/lab.conf"
expect 1 'lab.conf:[0-9]+: labels' "$tmp/lab.conf"
{ base; printf '[builderd]\nrequirements = nope.txt\n[target t]\nimage = i\n'; } \
    > "$tmp/req.conf"
expect 1 "nope.txt" "$tmp/req.conf"
printf 'wwdemo-cext\n' > "$tmp/reqs.txt"
{ base; printf '[builderd]\nrequirements = reqs.txt\n[target t]\nimage = i\n'; } \
    > "$tmp/relreq.conf"
pushd / >/dev/null
expect 0 "configuration OK" "$tmp/relreq.conf"
popd >/dev/null
{ printf '[global]\ndatadir = %s\n' "$tmp"; } > "$tmp/empty.conf"
expect 1 "no \\[engine NAME\\] section" "$tmp/empty.conf"

[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all passed"
