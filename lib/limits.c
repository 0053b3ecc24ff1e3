/* limits.c: default archive limits (see verify.h); config can override. */
#include "verify.h"

void
limits_default(struct limits *l)
{
	l->max_file_size = 2048ULL * 1024 * 1024;	/* 2 GiB archives */
	l->max_member_size = 1024ULL * 1024 * 1024;	/* 1 GiB one member */
	l->max_total_size = 4096ULL * 1024 * 1024;	/* 4 GiB unpacked */
	l->max_members = 100000;
	l->max_ratio = 200;				/* whole archive */
	l->max_metadata_size = 16ULL * 1024 * 1024;
	l->max_elf_size = 512ULL * 1024 * 1024;
	l->threads = 0;					/* automatic */
	l->whole_member_max = 32ULL * 1024 * 1024;
}
