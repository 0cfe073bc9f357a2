/* gpuctl's view code: a rendered table (rows rendered page by page, then
 * written, either way round) prints exactly what the stored table prints
 * for the same cells, with UTF-8, control characters, empty cells, right
 * alignment and colour; a row rendered again replaces itself and widens
 * its column; the brief list reply parses, and
 * its cursor is read from the tail alike; states get their colours. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpuctl/brief.h"
#include "gpuctl/fmt.h"
#include "gpuctl/table.h"

#define NCOLS 5
#define NROWS 300

static const char *const heads[NCOLS] = {"ID", "NAME", ">COUNT", "STATUS", "NOTE"};

/* Cell texts drawn from these, UTF-8 and control characters among them. */
static const char *const pool[] = {
	"", "x", "wrap", "grüße ☃", "tab\there", "line\nbreak", "esc\x1b[31m", "del\x7f", "a much longer cell than others",
	"12345", "7", "日本語", NULL,
};
#define POOL ((int)(sizeof pool / sizeof pool[0]))

struct rows {
	const char *text[NROWS][NCOLS];
	enum colour colour[NROWS][NCOLS];
};

static void make_rows(struct rows *r, unsigned seed)
{
	srand(seed);
	for (int i = 0; i < NROWS; i++) {
		for (int c = 0; c < NCOLS; c++) {
			r->text[i][c] = pool[rand() % POOL];
			r->colour[i][c] = c == 3 ? (enum colour)(rand() % 4) : COLOUR_NONE;
		}
	}
}

static void fill(void *arg, size_t k, struct table_text *cells)
{
	struct rows *r = arg;
	for (int c = 0; c < NCOLS; c++)
		cells[c] = (struct table_text){r->text[k][c], TABLE_UNMEASURED, 0, r->colour[k][c]};
}

/* The same cells, some measured by the fill (as gpuctl list does with what
 * it counted while parsing), the others left to the table. */
static void fill_measured(void *arg, size_t k, struct table_text *cells)
{
	fill(arg, k, cells);
	for (int c = 0; c < NCOLS; c++)
		if ((k + (size_t)c) % 2 == 0 && cells[c].s)
			cells[c] = table_text_measured(cells[c].s, cells[c].colour);
}

/* The stored table's output for the same rows (reverse: last first). */
static char *stored(struct rows *r, bool colour, bool reverse)
{
	struct table t;
	table_init(&t, NCOLS, heads);
	for (int k = 0; k < NROWS; k++) {
		int i = reverse ? NROWS - 1 - k : k;
		for (int c = 0; c < NCOLS; c++) {
			table_add(&t, r->text[i][c]);
			table_colour(&t, r->colour[i][c]);
		}
	}
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	assert_non_null(f);
	assert_int_equal(table_print(&t, f, colour), 0);
	fclose(f);
	table_free(&t);
	return out;
}

/* The rendered table's output, rendered in pages of page rows. */
static char *rendered(struct rows *r, bool colour, size_t page, bool reverse, table_row_fn how)
{
	struct table t;
	table_init(&t, NCOLS, heads);
	for (size_t k = 0; k < NROWS; k += page)
		assert_int_equal(table_render_rows(&t, k, k + page < NROWS ? k + page : NROWS, how, r), 0);
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	assert_non_null(f);
	assert_int_equal(table_write_rendered(&t, NROWS, reverse, f, colour), 0);
	fclose(f);
	table_free(&t);
	return out;
}

static void test_rendered_matches_stored(void **state)
{
	(void)state;
	static struct rows r;
	for (unsigned seed = 1; seed <= 20; seed++) {
		make_rows(&r, seed);
		for (int variant = 0; variant < 4; variant++) {
			bool colour = variant & 1, reverse = variant & 2;
			char *want = stored(&r, colour, reverse);
			const size_t pages[] = {NROWS, 1, 7, 128};
			for (size_t p = 0; p < sizeof pages / sizeof pages[0]; p++) {
				char *got = rendered(&r, colour, pages[p], reverse, p % 2 ? fill_measured : fill);
				assert_string_equal(got, want);
				free(got);
			}
			free(want);
		}
	}
}

static void test_rendered_again_row_replaces_and_widens(void **state)
{
	(void)state;
	static struct rows r;
	for (int i = 0; i < NROWS; i++)
		for (int c = 0; c < NCOLS; c++)
			r.text[i][c] = "x", r.colour[i][c] = COLOUR_NONE;
	struct table t;
	table_init(&t, NCOLS, heads);
	assert_int_equal(table_render_rows(&t, 0, NROWS, fill, &r), 0);
	r.text[5][2] = "123456789"; /* as ELAPSED once the start times are in */
	assert_int_equal(table_render_rows(&t, 5, 6, fill, &r), 0);
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	assert_int_equal(table_write_rendered(&t, 7, false, f, false), 0);
	fclose(f);
	/* COUNT is right-aligned to the new width on every line; row 5 has the new text. */
	assert_string_equal(out, "ID  NAME      COUNT  STATUS  NOTE\n"
				 "x   x             x  x       x\n"
				 "x   x             x  x       x\n"
				 "x   x             x  x       x\n"
				 "x   x             x  x       x\n"
				 "x   x             x  x       x\n"
				 "x   x     123456789  x       x\n"
				 "x   x             x  x       x\n");
	free(out);
	/* A row never rendered is an error, not garbage. */
	f = open_memstream(&out, &len);
	assert_int_equal(table_write_rendered(&t, NROWS + 1, false, f, false), -1);
	fclose(f);
	free(out);
	table_free(&t);
}

static void test_brief_reply_and_its_tail(void **state)
{
	(void)state;
	char text[] = "{\"jobs\":[[12,\"say \\\"hi\\\"\",\"alice\",\"T4\",2,3600,\"RUNNING\",1700000000],"
		      "[9,\"gr\\u00fc\\u00dfe\",\"bob\",\"A100\",1,60,\"PENDING\",1700000001]],\"next_before_id\":9}";
	assert_int_equal(brief_tail_cursor(text, strlen(text)), 9);
	struct brief_row *rows = NULL;
	size_t n = 0, cap = 0;
	int64_t next = -1;
	assert_int_equal(brief_parse(text, &rows, &n, &cap, &next), 0);
	assert_int_equal(n, 2);
	assert_int_equal(next, 9);
	assert_int_equal(rows[0].id, 12);
	assert_string_equal(rows[0].name, "say \"hi\"");
	assert_string_equal(rows[1].name, "grüße");
	assert_string_equal(rows[1].type, "A100");
	assert_int_equal(rows[1].created_at, 1700000001);
	/* Bytes and characters counted while decoding; escapes other than
	 * \" \\ \/ are left for the table to measure. */
	assert_int_equal(rows[0].lens[BRIEF_NAME], 8);
	assert_int_equal(rows[0].widths[BRIEF_NAME], 8);
	assert_int_equal(rows[0].lens[BRIEF_STATUS], 7);
	assert_int_equal(rows[1].lens[BRIEF_NAME], BRIEF_UNMEASURED);
	free(rows);
	char utf8[] = "{\"jobs\":[[3,\"gr\xc3\xbc\xc3\x9f" "e \\/x\",\"bob\",\"T4\",1,60,\"PENDING\",1],"
		      "[2,\"a\\nb\",\"bob\",\"T4\",1,60,\"PENDING\",1],[1,\"del\x7f\",\"bob\",\"T4\",1,60,\"PENDING\",1]],"
		      "\"next_before_id\":null}";
	rows = NULL;
	n = cap = 0;
	assert_int_equal(brief_parse(utf8, &rows, &n, &cap, &next), 0);
	assert_int_equal(n, 3);
	assert_string_equal(rows[0].name, "grüße /x");
	assert_int_equal(rows[0].lens[BRIEF_NAME], 10);
	assert_int_equal(rows[0].widths[BRIEF_NAME], 8);
	assert_int_equal(rows[1].lens[BRIEF_NAME], BRIEF_UNMEASURED); /* a newline */
	assert_int_equal(rows[2].lens[BRIEF_NAME], BRIEF_UNMEASURED); /* DEL */
	free(rows);

	const char *null_tail = "{\"jobs\":[],\"next_before_id\":null}";
	assert_int_equal(brief_tail_cursor(null_tail, strlen(null_tail)), 0);
	/* Anything else is not a cursor: the caller reads the page first. */
	const char *bad[] = {
		"", "}", "{\"jobs\":[]}", "{\"jobs\":[],\"next_before_id\":}", "{\"jobs\":[],\"next_before_id\":nul}",
		"{\"jobs\":[],\"next_before_id\":12", "{\"jobs\":[],\"other_key_here\":12}",
		"{\"jobs\":[],\"next_before_id\":99999999999999999999}", "null}", "\"next_before_id\":1x}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(brief_tail_cursor(bad[i], strlen(bad[i])), -1);
}

static void test_status_colours(void **state)
{
	(void)state;
	assert_int_equal(fmt_status_colour("RUNNING"), COLOUR_GREEN);
	assert_int_equal(fmt_status_colour("COMPLETED"), COLOUR_GREEN);
	assert_int_equal(fmt_status_colour("PENDING"), COLOUR_YELLOW);
	assert_int_equal(fmt_status_colour("APPROVED"), COLOUR_YELLOW);
	assert_int_equal(fmt_status_colour("FAILED"), COLOUR_RED);
	assert_int_equal(fmt_status_colour("REJECTED"), COLOUR_RED);
	assert_int_equal(fmt_status_colour("CANCELLED"), COLOUR_DIM);
	assert_int_equal(fmt_status_colour("EXPIRED"), COLOUR_DIM);
	const char *none[] = {"", "R", "RUN", "RUNNINGX", "CANCELLING", "pending", "C"};
	for (size_t i = 0; i < sizeof none / sizeof none[0]; i++)
		assert_int_equal(fmt_status_colour(none[i]), COLOUR_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rendered_matches_stored),
		cmocka_unit_test(test_rendered_again_row_replaces_and_widens),
		cmocka_unit_test(test_brief_reply_and_its_tail),
		cmocka_unit_test(test_status_colours),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
