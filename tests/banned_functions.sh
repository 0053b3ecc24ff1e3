#!/bin/sh
# Fails if project C sources call functions the project bans (curl style):
# unbounded copies and unchecked number parsing.
set -eu
top=${1:-.}
hits=$(grep -nE '(^|[^_a-zA-Z0-9])(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|atoll)[[:space:]]*\(' \
	"$top"/lib/*.c "$top"/indexd/*.c "$top"/builder/*.c "$top"/indexctl/*.c \
	"$top"/include/*.h 2>/dev/null | grep -v 'banned:ok' || true)
if [ -n "$hits" ]; then
	echo "banned functions used (use snprintf/util_strlcpy/util_parse_*):"
	echo "$hits"
	exit 1
fi
echo "no banned functions"
