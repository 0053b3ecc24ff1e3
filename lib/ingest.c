/*
 * ingest.c: the one path into the index (see ingest.h): verify, refuse
 * what an index must not serve, store atomically, then record in the
 * catalog. The order is what keeps an interrupted ingest harmless.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "catalog.h"
#include "ingest.h"
#include "store.h"
#include "util.h"
#include "verify.h"

const char *
ingest_err_name(int code)
{
	switch (code) {
	case INGEST_E_DIGEST:
		return "digest-mismatch";
	case INGEST_E_PLATFORM:
		return "linux-platform-tag";
	case INGEST_E_PROJECT:
		return "wrong-project";
	case INGEST_E_CONFLICT:
		return "conflict";
	case INGEST_E_DB:
		return "catalog";
	case INGEST_E_STORE:
		return "store";
	}
	return verify_err_name(code);
}

/* Does a compressed platform tag set ("linux_x86_64.manylinux1_x86_64")
 * contain a plain linux_<arch> tag? pip never installs those from an
 * index, so serving one only misleads. */
static const char *
linux_tag(const char *platforms)
{
	const char *p = platforms;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, "linux_", 6) == 0)
			return p;
		if ((p = strchr(p, '.')) != NULL)
			p++;
	}
	return NULL;
}

/* Remove a store file this ingest created, unless a catalog row refers to
 * it (another ingest of the same bytes may have recorded it meanwhile).
 * Without the write lock nothing is removed: a stray file is harmless, a
 * row without its file is not. */
static void
undo_store(struct store *s, struct catalog *c, const char *filename)
{
	struct catalog_file f;
	int rc;

	if (catalog_begin(c, NULL) == -1)
		return;
	rc = catalog_get_file(c, filename, &f, NULL);
	if (rc == 1)
		store_remove(s, filename);
	else if (rc == 0)
		catalog_file_free(&f);
	catalog_rollback(c);
}

static int
map_store_err(struct wwerr *err)
{
	switch (err->code) {
	case STORE_E_EXISTS:
		err->code = INGEST_E_CONFLICT;
		wwerr_prefix(err, "not recorded in the catalog, but");
		break;
	case STORE_E_NAME:
		err->code = VERIFY_E_FILENAME;
		break;
	default:
		err->code = INGEST_E_STORE;
		break;
	}
	return -1;
}

int
ingest_file(struct store *s, struct catalog *c, const char *path,
    const struct ingest_opts *opts, const struct limits *lim,
    struct verify_result **result, struct wwerr *err)
{
	static const struct ingest_opts noopts;
	struct verify_result *r = NULL;
	struct wwerr scratch;
	struct catalog_file have, f;
	struct limits deflim;
	char spath[PATH_MAX];
	const char *filename, *tag;
	struct stat st;
	int rc, created;

	if (err == NULL)
		err = &scratch;	/* codes are remapped below */
	if (result != NULL)
		*result = NULL;
	if (opts == NULL)
		opts = &noopts;
	if (lim == NULL) {
		limits_default(&deflim);
		lim = &deflim;
	}
	filename = opts->filename ? opts->filename : util_base_name(path);
	if (!store_name_ok(filename))
		return wwerr_set(err, VERIFY_E_FILENAME, "\"%s\" is not a safe "
		    "file name", filename);

	if (verify_file(path, filename, lim, &r, err) == -1)
		return -1;
	if (r->kind == DIST_WHEEL && !opts->allow_linux_tag &&
	    (tag = linux_tag(r->platform_tag)) != NULL) {
		wwerr_set(err, INGEST_E_PLATFORM, "%s: platform tag %.*s is not "
		    "installable from an index; retag it to manylinux or "
		    "musllinux (indexctl inspect shows the tag its content "
		    "allows)", filename, (int)strcspn(tag, "."), tag);
		goto fail;
	}
	if (opts->project != NULL && strcmp(opts->project, r->normalized)) {
		wwerr_set(err, INGEST_E_PROJECT, "%s belongs to project %s, "
		    "not %s", filename, r->normalized, opts->project);
		goto fail;
	}
	if (opts->expect_sha256 != NULL &&
	    strcasecmp(opts->expect_sha256, r->sha256) != 0) {
		wwerr_set(err, INGEST_E_DIGEST, "%s: sha256 is %s, but %s was "
		    "expected", filename, r->sha256, opts->expect_sha256);
		goto fail;
	}

	rc = catalog_get_file(c, filename, &have, err);
	if (rc == -1) {
		err->code = INGEST_E_DB;
		goto fail;
	}
	if (rc == 0) {
		if (strcmp(have.sha256, r->sha256) != 0) {
			wwerr_set(err, INGEST_E_CONFLICT, "%s already exists with "
			    "different contents (sha256 %s, not %s)", filename,
			    have.sha256, r->sha256);
			catalog_file_free(&have);
			goto fail;
		}
		catalog_file_free(&have);
		/* Same bytes: a no-op, unless the stored copy went missing. */
		if (store_path(s, filename, spath, sizeof(spath)) == 0 &&
		    stat(spath, &st) == -1 && errno == ENOENT &&
		    store_put(s, path, filename, r->sha256, r->kind ==
		    DIST_WHEEL ? r->metadata : NULL, r->metadata_len,
		    err) == -1) {
			map_store_err(err);
			goto fail;
		}
		if (result != NULL)
			*result = r;
		else
			verify_result_free(r);
		return INGEST_EXISTS;
	}

	rc = store_put(s, path, filename, r->sha256, r->kind == DIST_WHEEL ?
	    r->metadata : NULL, r->metadata_len, err);
	if (rc == -1) {
		map_store_err(err);
		goto fail;
	}
	created = rc == 0;

	memset(&f, 0, sizeof(f));
	f.project = r->normalized;
	f.project_display = r->name;
	f.version = r->version;
	f.filename = (char *)filename;
	f.kind = r->kind == DIST_WHEEL ? 'w' : 's';
	if (r->kind == DIST_WHEEL) {
		f.python_tag = r->python_tag;
		f.abi_tag = r->abi_tag;
		f.platform_tag = r->platform_tag;
		f.build_tag = r->build_tag[0] ? r->build_tag : NULL;
	}
	memcpy(f.sha256, r->sha256, sizeof(f.sha256));
	f.size = r->size;
	f.requires_python = r->requires_python;
	f.has_metadata = r->kind == DIST_WHEEL && r->metadata != NULL;
	if (f.has_metadata)
		memcpy(f.metadata_sha256, r->metadata_sha256,
		    sizeof(f.metadata_sha256));
	f.upload_time_us = util_now_us();
	f.origin = (char *)(opts->origin ? opts->origin : "");

	rc = catalog_add_file(c, &f, err);
	if (rc == -1) {
		err->code = err->code == CATALOG_E_CONFLICT ?
		    INGEST_E_CONFLICT : INGEST_E_DB;
		if (created)
			undo_store(s, c, filename);
		goto fail;
	}
	if (result != NULL)
		*result = r;
	else
		verify_result_free(r);
	return rc == 1 ? INGEST_EXISTS : INGEST_ADDED;
fail:
	verify_result_free(r);
	return -1;
}
