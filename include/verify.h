/*
 * verify.h: streaming verification of wheels and sdists with libarchive.
 * Nothing is extracted to disk. Each rejection has its own error code so
 * callers and tests can tell them apart; err->msg names the member and the
 * reason. The whole-file SHA-256 and size are computed in the same pass.
 */
#ifndef WW_VERIFY_H
#define WW_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "elf_inspect.h"
#include "hash.h"
#include "wwerr.h"

struct limits {
	uint64_t max_file_size;		/* archive size on disk */
	uint64_t max_member_size;	/* one member, uncompressed */
	uint64_t max_total_size;	/* all members, uncompressed */
	uint64_t max_members;		/* number of entries */
	uint64_t max_ratio;		/* uncompressed/compressed, whole file */
	uint64_t max_metadata_size;	/* METADATA/PKG-INFO/WHEEL/RECORD */
	uint64_t max_elf_size;		/* .so members inspected in memory */
	/* Not a limit: threads for a zip's data pass, 0 = automatic (one
	 * for small archives, up to 4 by CPUs), 1 = sequential. */
	uint64_t threads;
	/* Not a limit either: zip members whose compressed and unpacked
	 * sizes are both at most this are decoded whole in memory
	 * (libdeflate, fast); larger ones stream through libarchive. Each
	 * data thread may hold about twice this. 0 = always stream. */
	uint64_t whole_member_max;
};

void	 limits_default(struct limits *l);

enum verify_err {
	VERIFY_OK = 0,
	VERIFY_E_IO,			/* cannot open/read */
	VERIFY_E_FILENAME,		/* filename does not parse */
	VERIFY_E_FORMAT,		/* not a zip / tar.gz */
	VERIFY_E_TRUNCATED,		/* archive ends early / corrupt */
	VERIFY_E_ABSOLUTE_PATH,
	VERIFY_E_TRAVERSAL,		/* ".." component */
	VERIFY_E_LINK,			/* symlink or hardlink member */
	VERIFY_E_DUPLICATE,		/* same member twice */
	VERIFY_E_ENCRYPTED,
	VERIFY_E_LAYOUT,		/* member outside declared layout */
	VERIFY_E_FILE_TOO_BIG,		/* archive over max_file_size */
	VERIFY_E_MEMBER_TOO_BIG,	/* member or total over the limit */
	VERIFY_E_TOO_MANY_MEMBERS,
	VERIFY_E_RATIO,			/* compression ratio (zip bomb) */
	VERIFY_E_DISTINFO_MISSING,
	VERIFY_E_DISTINFO_MULTIPLE,
	VERIFY_E_DISTINFO_NAME,		/* does not match the filename */
	VERIFY_E_WHEEL_FILE,		/* WHEEL missing or malformed */
	VERIFY_E_WHEEL_VERSION,		/* Wheel-Version not 1.x */
	VERIFY_E_TAGS,			/* WHEEL Tag lines != filename tags */
	VERIFY_E_METADATA,		/* METADATA/PKG-INFO missing/malformed */
	VERIFY_E_METADATA_MISMATCH,	/* Name/Version differ from filename */
	VERIFY_E_RECORD_MISSING,
	VERIFY_E_RECORD_SYNTAX,
	VERIFY_E_RECORD_HASH_ALGO,	/* md5/sha1/unknown */
	VERIFY_E_RECORD_HASH,		/* digest mismatch */
	VERIFY_E_RECORD_SIZE,		/* size mismatch */
	VERIFY_E_RECORD_UNLISTED,	/* member not in RECORD */
	VERIFY_E_RECORD_EXTRA,		/* RECORD lists a missing member */
	VERIFY_E_RECORD_DUPLICATE,	/* RECORD lists a path twice */
	VERIFY_E_ELF,			/* unreadable ELF / wrong machine */
	VERIFY_E_NOMEM,
	VERIFY_E__COUNT
};

/* Short stable identifier for an error code ("record-hash"), for JSON. */
const char *verify_err_name(int code);

enum dist_kind { DIST_WHEEL = 'w', DIST_SDIST = 's' };

struct verify_result {
	enum dist_kind	 kind;
	char		 filename[256];
	char		 name[201];	/* from METADATA (display form) */
	char		 normalized[201];
	char		 version[257];	/* normalized */
	char		 sha256[HASH_SHA256_HEXLEN];
	uint64_t	 size;
	/* Wheels: compressed tag triple from the filename. */
	char		 python_tag[64], abi_tag[64], platform_tag[128];
	char		 build_tag[64];
	int		 root_is_purelib;
	/* Core metadata: exact bytes of METADATA (wheel) or PKG-INFO. */
	char		*metadata;
	size_t		 metadata_len;
	char		 metadata_sha256[HASH_SHA256_HEXLEN];
	char		*requires_python;	/* NULL if absent */
	char		**requires_dist;
	size_t		 nrequires_dist;
	/* Wheels: one report per ELF member. */
	struct elf_report **elfs;
	size_t		 nelfs;
	uint64_t	 members;		/* entries seen */
	uint64_t	 uncompressed;		/* total uncompressed bytes */
};

/*
 * Verify the file at path; its basename is the filename checked (unless
 * filename != NULL, for uploads stored under a temp name). On success
 * *out is set. On failure -1, err->code is an enum verify_err.
 */
int	 verify_file(const char *path, const char *filename,
	    const struct limits *lim, struct verify_result **out,
	    struct wwerr *err);
/*
 * The same for a file held in memory (uploads, the fuzzer); data is not
 * copied and must stay valid during the call.
 */
int	 verify_mem(const void *data, size_t len, const char *filename,
	    const struct limits *lim, struct verify_result **out,
	    struct wwerr *err);
void	 verify_result_free(struct verify_result *r);

/*
 * The member path rules on their own (absolute, "..", backslash forms,
 * empty or "." components, control characters): for code that adds
 * members, such as retag and repair. err->code is an enum verify_err.
 */
int	 verify_check_path(const char *path, struct wwerr *err);

#endif
