/* Text tables whose columns size to their content: no value is ever cut.
 * A cell is a string kept by reference (table_add_ref, for text that
 * outlives the table) or copied into the table's arena; control
 * characters are written as escapes such as \n so that a row stays one
 * line; widths are counted in characters, once, when a cell is added. The
 * table is written in 64 KiB chunks. table_print_rows streams a table from a
 * row source instead, storing no cells (gpuctl list at 10,000 rows). */
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
	size_t width[TABLE_MAX_COLS]; /* streamed rows: widths measured so far */
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
/* Fills the cells of row r for table_print_rows: ncols texts (valid until
 * the next call; NULL or "" is shown as "-") and their colours. */
typedef void (*table_row_fn)(void *arg, size_t r, const char **texts, enum colour *colours);
/* Writes the header and rows rows of a table that stores nothing: fill is
 * called twice per row, once to size the columns and once to write. For
 * long lists, where a cell array and its copies would be megabytes. t only
 * gives the heads and alignment. 0, or -1 when an allocation failed. */
int table_print_rows(struct table *t, size_t rows, table_row_fn fill, void *arg, FILE *out, bool colour);
/* table_print_rows in two halves, for rows that arrive in pages: widen the
 * columns to fit rows [from, to) (again for a row that changed: widths only
 * grow), then write rows [0, rows) at those widths. 0, or -1 when an
 * allocation failed. */
int table_measure_rows(struct table *t, size_t from, size_t to, table_row_fn fill, void *arg);
int table_write_rows(struct table *t, size_t rows, table_row_fn fill, void *arg, FILE *out, bool colour);
/* Frees the table. */
void table_free(struct table *t);

#endif
