/*
 * test_reqfile.c: unit tests for pip-style requirements files on real
 * files: comments, continuations, line endings, -r/-c includes (relative
 * paths, cycles, depth), options kept, ignored and refused, --hash and
 * --require-hashes, encoding and size bounds, "file:line: reason" errors,
 * and that config/requirements.txt loads and matches the top-1000 table it
 * was made from.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "requirement.h"
#include "util.h"

static char tmpdir[4096];

static int
setup(void **state)
{
	const char *t = getenv("WW_TEST_TMP");

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_reqfile.XXXXXX",
	    t ? t : "/tmp");
	if (t != NULL)
		util_mkdirs(t, 0755);
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[4200];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Write tmpdir/rel (creating directories); returns the full path. */
static const char *
put(const char *rel, const char *content, size_t len)
{
	static char path[8192];
	char dir[8192], *slash;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) != NULL) {
		*slash = '\0';
		assert_int_equal(util_mkdirs(dir, 0755), 0);
	}
	if (len == (size_t)-1)
		len = strlen(content);
	assert_int_equal(util_write_atomic(path, content, len), 0);
	return path;
}

static struct reqfile *
load_ok(const char *path)
{
	struct reqfile *rf = NULL;
	struct wwerr err;

	wwerr_clear(&err);
	if (reqfile_load(path, &rf, &err) != 0)
		fail_msg("%s: unexpected error: %s", path, err.msg);
	return rf;
}

/* Fails with code and a message that ends with (or contains) want. */
static void
load_bad(const char *path, int code, const char *want)
{
	struct reqfile *rf = (struct reqfile *)0x1;
	struct wwerr err;

	wwerr_clear(&err);
	if (reqfile_load(path, &rf, &err) != -1)
		fail_msg("%s: accepted", path);
	assert_null(rf);
	if (err.code != code)
		fail_msg("%s: code %d, want %d (%s)", path, err.code, code,
		    err.msg);
	if (strstr(err.msg, want) == NULL)
		fail_msg("%s: message \"%s\" lacks \"%s\"", path, err.msg, want);
}

/* tmpdir-relative "rel:line: " prefix as errors print it. */
static const char *
at(const char *rel, unsigned line)
{
	static char buf[8192];

	snprintf(buf, sizeof(buf), "%s/%s:%u: ", tmpdir, rel, line);
	return buf;
}

static void
entry_is(const struct reqfile *rf, size_t i, const char *canonical,
    const char *rel, unsigned line, int constraint)
{
	char want[8192];

	if (i >= rf->nentries)
		fail_msg("entry %zu missing (have %zu)", i, rf->nentries);
	if (strcmp(requirement_str(rf->entries[i].req), canonical) != 0)
		fail_msg("entry %zu: %s, want %s", i,
		    requirement_str(rf->entries[i].req), canonical);
	snprintf(want, sizeof(want), "%s/%s", tmpdir, rel);
	assert_string_equal(rf->entries[i].file, want);
	if (rf->entries[i].line != line)
		fail_msg("entry %zu (%s): line %u, want %u", i, canonical,
		    rf->entries[i].line, line);
	assert_int_equal(rf->entries[i].constraint, constraint);
}

static void
test_lines(void **state)
{
	struct reqfile *rf;
	const char *p;

	(void)state;
	p = put("lines.txt",
	    "\xef\xbb\xbf# a comment\n"			/* 1 BOM */
	    "\n"					/* 2 */
	    "foo==1.0  # trailing comment\n"		/* 3 */
	    "   \t\n"					/* 4 */
	    "bar[x] >= 2 ; \\\n"			/* 5 */
	    "   python_version < '3.10'\r\n"		/* 6 CRLF */
	    "baz @ https://h/baz.whl#sha256=00\r"	/* 7 CR, # kept */
	    "  # indented comment \\\n"			/* 8 no continuation */
	    "qux\\\n"					/* 9 */
	    "# joined comment ends the line\n"		/* 10 */
	    "zap\\\n"					/* 11 */
	    "\\\n"					/* 12 */
	    ">=1\n"					/* 13 */
	    "last \\", (size_t)-1);			/* 14, at EOF */
	rf = load_ok(p);
	assert_int_equal(rf->nentries, 6);
	entry_is(rf, 0, "foo==1.0", "lines.txt", 3, 0);
	entry_is(rf, 1, "bar[x]>=2; python_version < \"3.10\"", "lines.txt", 5,
	    0);
	entry_is(rf, 2, "baz @ https://h/baz.whl#sha256=00", "lines.txt", 7, 0);
	entry_is(rf, 3, "qux", "lines.txt", 9, 0);
	entry_is(rf, 4, "zap>=1", "lines.txt", 11, 0);
	entry_is(rf, 5, "last", "lines.txt", 14, 0);
	assert_string_equal(rf->entries[0].req->text, "foo==1.0");
	assert_int_equal(rf->entries[0].nhashes, 0);
	assert_null(rf->entries[0].hashes);
	assert_int_equal(rf->pre, 0);
	assert_int_equal(rf->require_hashes, 0);
	reqfile_free(rf);

	/* an empty file and a file of comments are empty lists */
	rf = load_ok(put("empty.txt", "", 0));
	assert_int_equal(rf->nentries, 0);
	reqfile_free(rf);
	rf = load_ok(put("comments.txt", "# x\n#\n\n", (size_t)-1));
	assert_int_equal(rf->nentries, 0);
	reqfile_free(rf);
}

static void
test_includes(void **state)
{
	struct reqfile *rf;
	const char *p;

	(void)state;
	put("inc/sub/reqs.txt", "a==1\n-r ../more.txt\n", (size_t)-1);
	put("inc/more.txt", "b\n", (size_t)-1);
	put("inc/sub/cons.txt", "a<2\n-c deeper/c2.txt\n-r req-in-cons.txt\n",
	    (size_t)-1);
	put("inc/sub/deeper/c2.txt", "b!=3\n", (size_t)-1);
	put("inc/sub/req-in-cons.txt", "d\n", (size_t)-1);
	p = put("inc/top.txt",
	    "-r sub/reqs.txt\n"			/* 1 */
	    "top1\n"				/* 2 */
	    "--constraint=sub/cons.txt\n"	/* 3 */
	    "-rsub/reqs.txt\n"			/* 4: twice is allowed */
	    "--requirement more.txt\n",		/* 5 */
	    (size_t)-1);
	rf = load_ok(p);
	assert_int_equal(rf->nentries, 9);
	entry_is(rf, 0, "a==1", "inc/sub/reqs.txt", 1, 0);
	entry_is(rf, 1, "b", "inc/sub/../more.txt", 1, 0);
	entry_is(rf, 2, "top1", "inc/top.txt", 2, 0);
	entry_is(rf, 3, "a<2", "inc/sub/cons.txt", 1, 1);
	entry_is(rf, 4, "b!=3", "inc/sub/deeper/c2.txt", 1, 1);
	/* as in pip, -r inside a constraints file includes requirements */
	entry_is(rf, 5, "d", "inc/sub/req-in-cons.txt", 1, 0);
	entry_is(rf, 6, "a==1", "inc/sub/reqs.txt", 1, 0);
	entry_is(rf, 8, "b", "inc/more.txt", 1, 0);
	reqfile_free(rf);
}

static void
test_include_errors(void **state)
{
	char want[8192], name[4200], body[128];
	const char *p;
	int i;

	(void)state;
	p = put("ie/missing.txt", "a\n\n-r nope.txt\n", (size_t)-1);
	snprintf(want, sizeof(want), "%s-r nope.txt: cannot open %s/ie/nope.txt:"
	    " No such file or directory", at("ie/missing.txt", 3), tmpdir);
	load_bad(p, REQ_ERR_IO, want);

	p = put("ie/self.txt", "a\n-r self.txt\n", (size_t)-1);
	load_bad(p, REQ_ERR_INCLUDE, "-r self.txt: include cycle: ");
	put("ie/cyc-b.txt", "b\n-c ../ie/cyc-a.txt\n", (size_t)-1);
	p = put("ie/cyc-a.txt", "-r cyc-b.txt\n", (size_t)-1);
	load_bad(p, REQ_ERR_INCLUDE, "include cycle: ");
	snprintf(want, sizeof(want), "(included from %s/ie/cyc-a.txt:1)",
	    tmpdir);
	load_bad(p, REQ_ERR_INCLUDE, want);

	p = put("ie/remote.txt", "-r https://example.com/r.txt\n", (size_t)-1);
	load_bad(p, REQ_ERR_INCLUDE, "remote requirements files are not "
	    "supported");
	p = put("ie/noname.txt", "-r\n", (size_t)-1);
	load_bad(p, REQ_ERR_OPTION, "-r needs a value");

	/* a chain of REQ_MAX_INCLUDE_DEPTH includes is fine, one more not */
	for (i = 0; i <= REQ_MAX_INCLUDE_DEPTH + 1; i++) {
		snprintf(name, sizeof(name), "deep/d%d.txt", i);
		snprintf(body, sizeof(body), "p%d\n-r d%d.txt\n", i, i + 1);
		put(name, body, (size_t)-1);
	}
	snprintf(name, sizeof(name), "deep/d%d.txt", REQ_MAX_INCLUDE_DEPTH);
	put(name, "end\n", (size_t)-1);
	snprintf(name, sizeof(name), "%s/deep/d0.txt", tmpdir);
	reqfile_free(load_ok(name));
	snprintf(name, sizeof(name), "deep/d%d.txt", REQ_MAX_INCLUDE_DEPTH);
	snprintf(body, sizeof(body), "-r d%d.txt\n", REQ_MAX_INCLUDE_DEPTH + 1);
	put(name, body, (size_t)-1);
	snprintf(name, sizeof(name), "%s/deep/d0.txt", tmpdir);
	load_bad(name, REQ_ERR_INCLUDE, "includes nested more than 16 deep");

	/* an error in an included file names it and where it came in */
	put("ie/inner.txt", "ok\nfoo >= 1 <2\n", (size_t)-1);
	p = put("ie/outer.txt", "x\n\n-r inner.txt\n", (size_t)-1);
	snprintf(want, sizeof(want), "%srequirement \"foo >= 1 <2\": at "
	    "column 10 (\"<2\"): expected end or semicolon (after version "
	    "specifier) (included from %s/ie/outer.txt:3)",
	    at("ie/inner.txt", 2), tmpdir);
	load_bad(p, REQ_ERR_SYNTAX, want);

	load_bad("/nonexistent/reqs.txt", REQ_ERR_IO,
	    "/nonexistent/reqs.txt: cannot read: No such file or directory");

	/* a FIFO would block for ever; directories are no files either */
	snprintf(name, sizeof(name), "%s/ie/fifo", tmpdir);
	assert_int_equal(mkfifo(name, 0600), 0);
	p = put("ie/fifo-inc.txt", "a\n-r fifo\n", (size_t)-1);
	load_bad(p, REQ_ERR_IO, "-r fifo: ");
	load_bad(p, REQ_ERR_IO, "/ie/fifo is not a regular file");
	load_bad(name, REQ_ERR_IO, "/ie/fifo: not a regular file");
	p = put("ie/dir-inc.txt", "-c .\n", (size_t)-1);
	load_bad(p, REQ_ERR_IO, "Is a directory");
}

static void
test_options(void **state)
{
	static const char *refused[][2] = {
		{ "-i https://pypi.org/simple", "-i is not supported" },
		{ "--index-url https://x/simple", "--index-url is not supported" },
		{ "--index-url=https://x/simple", "--index-url is not supported" },
		{ "--extra-index-url https://x/simple", "--extra-index-url is not" },
		{ "--no-index", "--no-index is not supported" },
		{ "-f ./wheels", "-f is not supported" },
		{ "--find-links=./wheels", "--find-links is not supported" },
		{ "--trusted-host h", "--trusted-host is not supported" },
		{ "-e ./src", "-e: editable requirements cannot be built" },
		{ "--editable=git+https://h/r", "--editable: editable" },
		{ "foo --global-option=--x", "--global-option: per-package build" },
		{ "foo --config-settings k=v", "--config-settings: per-package" },
		{ "--frobnicate", "unknown option --frobnicate" },
		{ "-x", "unknown option -x" },
		{ "--pre=1", "--pre takes no value" },
		{ "--hash=sha256:00", "--hash must follow a requirement" },
		{ "foo -r other.txt", "-r cannot follow a requirement" },
		{ "foo --pre", "--pre cannot follow a requirement" },
		{ "--pre extra-word", "unexpected \"extra-word\" among options" },
		{ "-r 'unterminated", "cannot split options" },
	};
	struct reqfile *rf;
	const char *p;
	char body[256], want[8192];
	size_t i;

	(void)state;
	p = put("opt/ok.txt", "--prefer-binary\n--only-binary :all:\n"
	    "--no-binary=foo\n--use-feature truststore\nfoo\n--pre\n",
	    (size_t)-1);
	rf = load_ok(p);
	assert_int_equal(rf->nentries, 1);
	assert_int_equal(rf->pre, 1);
	reqfile_free(rf);

	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		snprintf(body, sizeof(body), "ok\n%s\n", refused[i][0]);
		p = put("opt/bad.txt", body, (size_t)-1);
		snprintf(want, sizeof(want), "%s%s", at("opt/bad.txt", 2),
		    refused[i][1]);
		load_bad(p, strstr(refused[i][1], "--hash") ? REQ_ERR_HASH :
		    REQ_ERR_OPTION, want);
	}

	/* quoted option values, as a shell splits them */
	put("opt/my reqs.txt", "spaced\n", (size_t)-1);
	rf = load_ok(put("opt/quoted.txt", "-r 'my reqs.txt'\n"
	    "-r \"my reqs.txt\"\n-r my\\ reqs.txt\n", (size_t)-1));
	assert_int_equal(rf->nentries, 3);
	reqfile_free(rf);
}

#define H1 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define H32 "0123456789abcdef0123456789abcdef"
#define H2 "FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210"

static void
test_hashes(void **state)
{
	struct reqfile *rf;
	const char *p;
	char want[8192];

	(void)state;
	p = put("h/ok.txt",
	    "foo==1.0 --hash=sha256:" H1 " \\\n"
	    "    --hash sha256:" H2 "\n"
	    "bar==2.0 --hash=sha512:" H1 H1 "\n"
	    "baz  --hash=sha384:" H1 H32 "\n",
	    (size_t)-1);
	rf = load_ok(p);
	assert_int_equal(rf->nentries, 3);
	assert_string_equal(requirement_str(rf->entries[0].req), "foo==1.0");
	assert_int_equal(rf->entries[0].nhashes, 2);
	assert_string_equal(rf->entries[0].hashes[0], "sha256:" H1);
	/* hex is lowercased, as pip's hexdigest() comparison needs */
	assert_string_equal(rf->entries[0].hashes[1],
	    "sha256:fedcba9876543210fedcba9876543210fedcba9876543210"
	    "fedcba9876543210");
	assert_int_equal(rf->entries[1].nhashes, 1);
	assert_string_equal(requirement_str(rf->entries[2].req), "baz");
	assert_int_equal(rf->entries[2].nhashes, 1);
	reqfile_free(rf);

	p = put("h/md5.txt", "foo --hash=md5:0123456789abcdef0123456789abcdef\n",
	    (size_t)-1);
	snprintf(want, sizeof(want), "%s--hash=md5:", at("h/md5.txt", 1));
	load_bad(p, REQ_ERR_HASH, want);
	load_bad(p, REQ_ERR_HASH, "md5 and sha1 are too weak");
	p = put("h/sha1.txt", "foo --hash=sha1:" H1 "\n", (size_t)-1);
	load_bad(p, REQ_ERR_HASH, "only sha256, sha384 and sha512");
	p = put("h/short.txt", "foo --hash=sha256:abcd\n", (size_t)-1);
	load_bad(p, REQ_ERR_HASH, "wrong length");
	p = put("h/nonhex.txt", "foo --hash=sha256:" "g123456789abcdef0123456789"
	    "abcdef0123456789abcdef0123456789abcdef\n", (size_t)-1);
	load_bad(p, REQ_ERR_HASH, "not hexadecimal");
	p = put("h/nocolon.txt", "foo --hash=" H1 "\n", (size_t)-1);
	load_bad(p, REQ_ERR_HASH, "must be ALGORITHM:HEX");
}

static void
test_require_hashes(void **state)
{
	struct reqfile *rf;
	const char *p;
	char want[8192];

	(void)state;
	put("rh/rh-cons.txt", "anything>1\n", (size_t)-1);
	p = put("rh/ok.txt",
	    "--require-hashes\n"
	    "foo==1.0 --hash=sha256:" H1 "\n"
	    "bar===2.0 --hash=sha256:" H1 "\n"
	    "baz @ https://h/baz.whl --hash=sha256:" H1 "\n"
	    "-c rh-cons.txt\n", (size_t)-1);
	rf = load_ok(p);
	assert_int_equal(rf->require_hashes, 1);
	assert_int_equal(rf->nentries, 4);
	reqfile_free(rf);

	p = put("rh/nohash.txt", "foo==1.0 --hash=sha256:" H1 "\nbar==1\n"
	    "--require-hashes\n", (size_t)-1);
	snprintf(want, sizeof(want), "%sbar has no --hash, but "
	    "--require-hashes is set (%s/rh/nohash.txt:3)",
	    at("rh/nohash.txt", 2), tmpdir);
	load_bad(p, REQ_ERR_HASH, want);
	p = put("rh/unpinned.txt", "--require-hashes\nfoo>=1.0 --hash=sha256:"
	    H1 "\n", (size_t)-1);
	load_bad(p, REQ_ERR_HASH, "foo>=1.0 is not pinned with ==");
	p = put("rh/wild.txt", "--require-hashes\nfoo==1.* --hash=sha256:"
	    H1 "\n", (size_t)-1);
	load_bad(p, REQ_ERR_HASH, "is not pinned with ==");
	p = put("rh/two.txt", "--require-hashes\nfoo==1.0,!=1.1 "
	    "--hash=sha256:" H1 "\n", (size_t)-1);
	load_bad(p, REQ_ERR_HASH, "is not pinned with ==");
}

static void
test_bad_lines(void **state)
{
	const char *p;
	char want[8192];

	(void)state;
	p = put("bad/syntax.txt", "good\n\nfoo[a b]\n", (size_t)-1);
	snprintf(want, sizeof(want), "%srequirement \"foo[a b]\": at column 7",
	    at("bad/syntax.txt", 3));
	load_bad(p, REQ_ERR_SYNTAX, want);
	p = put("bad/url.txt", "https://example.com/foo-1.0.tar.gz\n",
	    (size_t)-1);
	load_bad(p, REQ_ERR_SYNTAX, "is not a PEP 508 requirement (bare paths "
	    "and URLs are not supported: write \"name @ URL\")");
	p = put("bad/path.txt", "./local/pkg\n", (size_t)-1);
	load_bad(p, REQ_ERR_SYNTAX, "\"./local/pkg\" is not a PEP 508");
	put("bad/c.txt", "ok<2\nfoo[x]==1\n", (size_t)-1);
	p = put("bad/cons.txt", "-c c.txt\n", (size_t)-1);
	snprintf(want, sizeof(want), "%sconstraint \"foo[x]==1\": constraints "
	    "cannot have extras", at("bad/c.txt", 2));
	load_bad(p, REQ_ERR_CONSTRAINT, want);
	p = put("bad/nul.txt", "ok\nfo\0o\n", 8);
	snprintf(want, sizeof(want), "%sNUL byte at column 3",
	    at("bad/nul.txt", 2));
	load_bad(p, REQ_ERR_ENCODING, want);
	p = put("bad/utf8.txt", "ok\n\nfoo; os_name == '\xc3('\n", (size_t)-1);
	snprintf(want, sizeof(want), "%sinvalid UTF-8 at column 18",
	    at("bad/utf8.txt", 3));
	load_bad(p, REQ_ERR_ENCODING, want);
	p = put("bad/surrogate.txt", "foo; os_name == '\xed\xa0\x80'\n",
	    (size_t)-1);
	load_bad(p, REQ_ERR_ENCODING, "invalid UTF-8");
	reqfile_free(load_ok(put("bad/utf8ok.txt", "foo; os_name == "
	    "'\xc3\xa9\xf0\x9f\x98\x80'\n", (size_t)-1)));
}

static void
test_bounds(void **state)
{
	char *big, want[8192];
	const char *p;
	struct reqfile *rf = (struct reqfile *)0x1;
	struct wwerr err;
	size_t n, i;

	(void)state;
	/* a logical line over the bound, made of continued short lines */
	n = REQ_MAX_LINE / 100 + 2;		/* lines of 100 bytes */
	big = malloc(n * 102 + 16);
	assert_non_null(big);
	memcpy(big, "ok\n", 3);
	for (i = 0; i < n; i++) {
		memset(big + 3 + i * 102, 'a', 100);
		memcpy(big + 3 + i * 102 + 100, "\\\n", 2);
	}
	memcpy(big + 3 + i * 102, "a\n", 3);
	p = put("bounds/long.txt", big, (size_t)-1);
	snprintf(want, sizeof(want), "%sline longer than %d bytes",
	    at("bounds/long.txt", 2), REQ_MAX_LINE);
	load_bad(p, REQ_ERR_TOO_LONG, want);
	free(big);

	/* a file over REQ_MAX_FILE, from disk and from memory */
	n = (size_t)REQ_MAX_FILE + 1;
	big = malloc(n);
	assert_non_null(big);
	memset(big, '\n', n);
	p = put("bounds/big.txt", big, n);
	load_bad(p, REQ_ERR_TOO_LARGE, "larger than");
	wwerr_clear(&err);
	assert_int_equal(reqfile_parse("mem.txt", big, n, &rf, &err), -1);
	assert_null(rf);
	assert_int_equal(err.code, REQ_ERR_TOO_LARGE);
	assert_string_equal(err.msg, "mem.txt: larger than 16777216 bytes");

	/* included files add up: REQ_MAX_TOTAL bounds them together */
	n = (size_t)REQ_MAX_FILE - 64;
	memset(big, '#', n);
	for (i = 99; i < n; i += 100)
		big[i] = '\n';
	p = put("bounds/part.txt", big, n);
	for (i = 0; i < 6; i++)
		memcpy(big + i * 14, "-r part.txt  \n", 14);
	p = put("bounds/sum.txt", big, 6 * 14);
	load_bad(p, REQ_ERR_TOO_LARGE, "add up to more than");
	free(big);
}

static void
test_parse_memory(void **state)
{
	struct reqfile *rf;
	struct wwerr err;
	char name[8192];
	const char *text = "x==1\n-r sub/mem-inc.txt\n";

	(void)state;
	put("mem/sub/mem-inc.txt", "y\n", (size_t)-1);
	snprintf(name, sizeof(name), "%s/mem/virtual.txt", tmpdir);
	wwerr_clear(&err);
	assert_int_equal(reqfile_parse(name, text, strlen(text), &rf, &err), 0);
	assert_int_equal(rf->nentries, 2);
	entry_is(rf, 0, "x==1", "mem/virtual.txt", 1, 0);
	entry_is(rf, 1, "y", "mem/sub/mem-inc.txt", 1, 0);
	reqfile_free(rf);
	/* data need not be NUL-terminated */
	assert_int_equal(reqfile_parse("n.txt", "abc==1xyz", 6, &rf, &err), 0);
	assert_int_equal(rf->nentries, 1);
	assert_string_equal(requirement_str(rf->entries[0].req), "abc==1");
	reqfile_free(rf);
}

/* config/requirements.txt loads and is exactly tests/data/pypi-top1000.tsv */
static void
test_config_top1000(void **state)
{
	const char *src = getenv("WW_SOURCE_DIR");
	char path[4096], *tsv, *line, *save = NULL, *f[4], *p;
	struct reqfile *rf;
	struct wwerr err;
	size_t len, n = 0, pinned = 0, k;
	unsigned prev = 0;

	(void)state;
	assert_non_null(src);
	snprintf(path, sizeof(path), "%s/config/requirements.txt", src);
	wwerr_clear(&err);
	if (reqfile_load(path, &rf, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(rf->nentries, 1000);
	snprintf(path, sizeof(path), "%s/tests/data/pypi-top1000.tsv", src);
	assert_int_equal(util_read_file(path, 1 << 20, &tsv, &len), 0);
	line = strtok_r(tsv, "\n", &save);
	assert_string_equal(line, "name\tversion\tmonth\t"
	    "rank_among_15000_most_downloaded");
	while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
		const struct requirement *r;
		char spec[300];

		for (k = 0, p = line; k < 4; k++) {
			f[k] = p;
			if ((p = strchr(p, '\t')) != NULL)
				*p++ = '\0';
			else
				p = f[k] + strlen(f[k]);
		}
		assert_true(n < rf->nentries);
		r = rf->entries[n].req;
		assert_string_equal(r->name, f[0]);
		snprintf(spec, sizeof(spec), "%s%s", *f[1] ? "==" : "", f[1]);
		if (strcmp(specset_str(r->spec), spec) != 0)
			fail_msg("%s: %s, want %s", f[0], specset_str(r->spec),
			    spec);
		pinned += *f[1] != '\0';
		assert_int_equal(r->nextras, 0);
		assert_null(r->marker);
		assert_null(r->url);
		assert_int_equal(rf->entries[n].constraint, 0);
		assert_true(rf->entries[n].line > prev);
		prev = rf->entries[n].line;
		n++;
	}
	assert_int_equal(n, 1000);
	assert_int_equal(pinned, 995);
	free(tsv);
	reqfile_free(rf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_includes),
		cmocka_unit_test(test_include_errors),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_hashes),
		cmocka_unit_test(test_require_hashes),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_parse_memory),
		cmocka_unit_test(test_config_top1000),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
