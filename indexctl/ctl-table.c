/*
 * ctl-table.c: text tables for people (jobs, status, token list) whose
 * columns are as wide as their widest cell, so long target, project or
 * token names do not push the rest of a row out of line. Rows are kept
 * until printed; --json output does not come here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "indexctl.h"

struct ctl_table {
	size_t	  ncols;
	char	  align[CTL_TABLE_MAXCOLS];	/* 'l' or 'r' */
	char	**cells;			/* row-major, ncols a row */
	size_t	  nrows, cap;
	int	  oom;
};

struct ctl_table *
ctl_table_new(size_t ncols, const char *align)
{
	struct ctl_table *t;
	size_t i;

	if (ncols == 0 || ncols > CTL_TABLE_MAXCOLS ||
	    (t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->ncols = ncols;
	for (i = 0; i < ncols; i++) {
		t->align[i] = align != NULL && *align == 'r' ? 'r' : 'l';
		if (align != NULL && *align != '\0')
			align++;
	}
	return t;
}

int
ctl_table_row(struct ctl_table *t, const char *const *cells)
{
	char **nc;
	size_t i, ncap;

	if (t == NULL || t->oom)
		return -1;
	if (t->nrows == t->cap) {
		ncap = t->cap ? t->cap * 2 : 32;
		if ((nc = reallocarray(t->cells, ncap * t->ncols,
		    sizeof(*nc))) == NULL) {
			t->oom = 1;
			return -1;
		}
		t->cells = nc;
		t->cap = ncap;
	}
	nc = t->cells + t->nrows * t->ncols;
	for (i = 0; i < t->ncols; i++) {
		if ((nc[i] = strdup(cells[i] ? cells[i] : "")) == NULL) {
			while (i-- > 0)
				free(nc[i]);
			t->oom = 1;
			return -1;
		}
	}
	t->nrows++;
	return 0;
}

/* Columns on a terminal: UTF-8 continuation bytes take none. */
static size_t
width(const char *s)
{
	size_t w = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

int
ctl_table_print(const struct ctl_table *t, const char *indent)
{
	size_t w[CTL_TABLE_MAXCOLS] = { 0 }, r, i, last, n;
	char **row;

	if (t == NULL || t->oom)
		return -1;
	for (r = 0; r < t->nrows; r++)
		for (i = 0; i < t->ncols; i++)
			if ((n = width(t->cells[r * t->ncols + i])) > w[i])
				w[i] = n;
	for (r = 0; r < t->nrows; r++) {
		row = t->cells + r * t->ncols;
		/* no padding after the last cell with text */
		for (last = t->ncols; last > 1 && row[last - 1][0] == '\0';
		    last--)
			;
		fputs(indent != NULL ? indent : "", stdout);
		for (i = 0; i < last; i++) {
			n = w[i] - width(row[i]);
			if (t->align[i] == 'r')
				printf("%*s%s", (int)n, "", row[i]);
			else if (i + 1 < last)
				printf("%s%*s", row[i], (int)n, "");
			else
				fputs(row[i], stdout);
			if (i + 1 < last)
				fputs("  ", stdout);
		}
		putchar('\n');
	}
	return 0;
}

void
ctl_table_free(struct ctl_table *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}
