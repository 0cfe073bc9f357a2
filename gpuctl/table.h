/* Text tables whose columns size to their content: no value is ever cut.
 * A cell is a string kept by reference (table_add_ref, for text that
 * outlives the table) or copied into the table's arena; control
 * characters are written as escapes such as \n so that a row stays one
 * line; widths are counted in characters, once, when a cell is added. The
 * table is written in 64 KiB chunks. table_render_rows keeps rows from a
 * row source compactly instead (gpuctl list at 10,000 rows). */
#ifndef GPUAAS_GPUCTL_TABLE_H
#define GPUAAS_GPUCTL_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "gpuctl/fmt.h"

#define TABLE_MAX_COLS 16

struct table_cell {
	const char *s;   /* into the arena, or borrowed */
	uint32_t len;    /* bytes */
	uint32_t width;  /* characters */
	uint8_t colour;  /* enum colour */
};

struct table_block; /* the arena: blocks that never move */

struct table {
	int ncols;
	const char *heads[TABLE_MAX_COLS];
	bool right[TABLE_MAX_COLS]; /* aligned right (numbers) */
	struct table_cell *cells;   /* row-major; owned */
	size_t ncells, cap;
	struct table_block *arena;  /* owned */
	bool failed;                /* an allocation failed: nothing is printed */
	/* Rendered rows (table_render_rows): */
	size_t width[TABLE_MAX_COLS]; /* the widest cell of each column so far */
	char *rendered;               /* the rows' cells, compact; owned */
	size_t rlen, rcap;
	size_t *row_at;               /* row r starts at rendered + row_at[r]; owned */
	size_t nslots;
	size_t extra;                 /* most bytes past the widths in one row (UTF-8) */
};

/* Starts a table; heads: "ID", ">COUNT" (a leading '>' aligns right). */
void table_init(struct table *t, int ncols, const char *const *heads);
/* Appends the next cell (row by row), copied. NULL or "" is shown as "-". */
void table_add(struct table *t, const char *s);
/* Appends a cell that stays valid as long as the table: not copied unless
 * it holds control characters. */
void table_add_ref(struct table *t, const char *s);
/* Appends an integer cell. */
void table_add_int(struct table *t, int64_t v);
/* Appends v as an integer cell when has, else an empty one ("-"). */
void table_add_opt(struct table *t, bool has, int64_t v);
/* Appends GPU-seconds as a GPU-hours cell ("10.0 GPU-h"). */
void table_add_hours(struct table *t, int64_t secs);
/* Sets the colour of the last cell added. */
void table_colour(struct table *t, enum colour k);
/* Rows added so far. */
size_t table_rows(const struct table *t);
/* Writes the header and rows to out (colour: wrap coloured cells in
 * escapes). 0, or -1 when an allocation failed. */
int table_print(struct table *t, FILE *out, bool colour);
/* A cell of a rendered row as its fill gives it: the text (NULL or "" is
 * shown as "-"), valid until the next call, and its colour. A fill that
 * knows the text's length in bytes and width in characters (it often
 * does, for nothing) gives them, and saves the table a pass over the
 * bytes; such a text must hold no control characters. len
 * TABLE_UNMEASURED: the table measures it. */
#define TABLE_UNMEASURED UINT32_MAX
struct table_text {
	const char *s;
	uint32_t len, width;
	enum colour colour;
};
/* s as a cell, measured now: for a text that many rows share. */
struct table_text table_text_measured(const char *s, enum colour colour);
/* Fills the ncols cells of row r for table_render_rows, every one. */
typedef void (*table_row_fn)(void *arg, size_t r, struct table_text *cells);
/* For long lists that arrive in pages (gpuctl list at 10,000 rows), where
 * a table of cells would be megabytes: renders rows [from, to) from fill
 * into a compact form, widening the columns. A row rendered again (one
 * that changed) replaces its earlier rendering. t gives the heads and the
 * alignment; table_add and table_render_rows do not mix. 0, or -1 when an
 * allocation failed. */
int table_render_rows(struct table *t, size_t from, size_t to, table_row_fn fill, void *arg);
/* Writes the header and rendered rows [0, rows) (reverse: last first) at
 * the widths of every row rendered. 0, or -1 when an allocation failed or
 * a row was never rendered. */
int table_write_rendered(struct table *t, size_t rows, bool reverse, FILE *out, bool colour);
/* Frees the table. */
void table_free(struct table *t);

#endif
