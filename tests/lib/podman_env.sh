#!/bin/bash
# podman_env.sh: a private podman API service (Docker Engine API) for tests,
# on a unix socket in a test directory, configured by the project's own
# docker/containers.conf (CONTAINERS_CONF) so /etc/containers is never read
# or written. Images live in podman's normal store, so the builder images
# that docker/build-image.sh imports are visible to every such service.
#
# Two ways to use it:
#   source tests/lib/podman_env.sh
#   podman_env_start DIR     # sets WW_ENGINE_URL, WW_ENGINE_SOCK, WW_TESTENV
#   ...                      # label containers wheelwright.testenv=$WW_TESTENV
#   podman_env_stop DIR      # removes those containers, stops the service
# or, from any language:
#   tests/lib/podman_env.sh start DIR   # prints the engine URL, then the id
#   tests/lib/podman_env.sh stop DIR
# DIR must be short: a unix socket path has at most 107 bytes.

_podman_env_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

podman_env_conf() {
	echo "$_podman_env_here/../../docker/containers.conf"
}

podman_env_start() {
	local dir=$1 sock pid i conf
	mkdir -p "$dir" || return 1
	dir=$(cd "$dir" && pwd)
	sock=$dir/engine.sock
	if [ ${#sock} -gt 107 ]; then
		echo "podman_env: socket path $sock is too long" >&2
		return 1
	fi
	conf=$(cd "$(dirname "$(podman_env_conf)")" && pwd)/containers.conf
	export CONTAINERS_CONF=$conf
	if ! command -v podman >/dev/null; then
		echo "podman_env: podman missing (run .ci/install-deps)" >&2
		return 1
	fi
	if [ -f "$dir/podman.pid" ] && kill -0 "$(cat "$dir/podman.pid")" \
	    2>/dev/null; then
		echo "podman_env: a service already runs for $dir" >&2
		return 1
	fi
	rm -f "$sock"
	# Its own session, so a test's Ctrl-C does not take it down mid-cleanup.
	# Run from DIR: conmon 2.1.6 (podman 4.3) writes an empty "oom" file
	# into its working directory when a container is OOM-killed.
	(cd "$dir" && exec setsid podman system service --time=0 \
	    "unix://$sock" >"$dir/podman.log" 2>&1 </dev/null) &
	pid=$!
	echo "$pid" > "$dir/podman.pid"
	for i in $(seq 1 100); do
		if curl -sf --max-time 2 --unix-socket "$sock" \
		    http://localhost/_ping 2>/dev/null | grep -q OK; then
			break
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "podman_env: podman system service died:" >&2
			tail -n 20 "$dir/podman.log" >&2
			return 1
		fi
		sleep 0.2
	done
	if [ "$i" -eq 100 ]; then
		echo "podman_env: no answer on $sock after 20 s" >&2
		podman_env_stop "$dir"
		return 1
	fi
	export WW_ENGINE_SOCK=$sock
	export WW_ENGINE_URL=unix://$sock
	if [ ! -f "$dir/testenv" ]; then
		echo "ww$$-$(date +%s%N)" > "$dir/testenv"
	fi
	WW_TESTENV=$(cat "$dir/testenv")
	export WW_TESTENV
}

podman_env_stop() {
	local dir=$1 pid i ids env
	[ -d "$dir" ] || return 0
	dir=$(cd "$dir" && pwd)
	export CONTAINERS_CONF=${CONTAINERS_CONF:-$(podman_env_conf)}
	if [ -f "$dir/testenv" ]; then
		env=$(cat "$dir/testenv")
		ids=$(podman ps -a -q --filter "label=wheelwright.testenv=$env" \
		    2>/dev/null || true)
		if [ -n "$ids" ]; then
			# shellcheck disable=SC2086
			podman rm -f $ids >/dev/null 2>&1 || true
		fi
	fi
	if [ -f "$dir/podman.pid" ]; then
		pid=$(cat "$dir/podman.pid")
		if kill -0 "$pid" 2>/dev/null; then
			kill -TERM "$pid" 2>/dev/null || true
			for i in $(seq 1 50); do
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.2
			done
			kill -KILL "$pid" 2>/dev/null || true
		fi
		rm -f "$dir/podman.pid"
	fi
	rm -f "$dir/engine.sock"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -eu
	case "${1:-}" in
	start)
		[ $# -eq 2 ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }
		podman_env_start "$2"
		echo "$WW_ENGINE_URL"
		echo "$WW_TESTENV"
		;;
	stop)
		[ $# -eq 2 ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }
		podman_env_stop "$2"
		;;
	*)
		echo "usage: $0 start|stop DIR" >&2
		exit 2
		;;
	esac
fi
