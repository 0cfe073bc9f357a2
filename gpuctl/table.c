/* Text tables sized to their content (table.h). */
#include "gpuctl/table.h"

#include <stdlib.h>
#include <string.h>

#define BLOCK_BYTES 65536

struct table_block {
	struct table_block *next;
	size_t used, size;
	char data[];
};

void table_init(struct table *t, int ncols, const char *const *heads)
{
	memset(t, 0, sizeof *t);
	t->ncols = ncols > TABLE_MAX_COLS ? TABLE_MAX_COLS : ncols;
	for (int i = 0; i < t->ncols; i++) {
		t->right[i] = heads[i][0] == '>';
		t->heads[i] = heads[i] + (t->right[i] ? 1 : 0);
	}
}

/* n bytes of the arena that never move; NULL when memory runs out. */
static char *arena_take(struct table *t, size_t n)
{
	struct table_block *b = t->arena;
	if (!b || b->size - b->used < n) {
		size_t size = n > BLOCK_BYTES ? n : BLOCK_BYTES;
		b = malloc(sizeof *b + size);
		if (!b)
			return NULL;
		b->next = t->arena;
		b->used = 0;
		b->size = size;
		t->arena = b;
	}
	char *p = b->data + b->used;
	b->used += n;
	return p;
}

/* What a byte adds when measuring: 1 marks a UTF-8 continuation byte (no
 * width of its own), 2 a control character (shown as an escape). */
#define SIXTEEN(x) x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x
static const uint8_t byte_class[256] = {
	SIXTEEN(2), SIXTEEN(2),                                     /* 0x00-0x1f */
	SIXTEEN(0), SIXTEEN(0), SIXTEEN(0), SIXTEEN(0), SIXTEEN(0), /* 0x20-0x6f */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,             /* 0x70-0x7f: DEL */
	SIXTEEN(1), SIXTEEN(1), SIXTEEN(1), SIXTEEN(1),             /* 0x80-0xbf */
	SIXTEEN(0), SIXTEEN(0), SIXTEEN(0), SIXTEEN(0),             /* 0xc0-0xff */
};

/* Width in characters of s, and whether it holds control characters. Runs
 * twice on every cell of a streamed table: a table lookup a byte, kept in
 * locals (through the pointers it was 17 instructions a byte). */
static uint32_t measure(const char *s, size_t *len, bool *control)
{
	uint32_t cont = 0, seen = 0;
	const unsigned char *p = (const unsigned char *)s;
	for (unsigned char c; (c = *p) != 0; p++) {
		uint32_t k = byte_class[c];
		cont += k & 1;
		seen |= k;
	}
	*len = (size_t)(p - (const unsigned char *)s);
	*control = (seen & 2) != 0;
	return (uint32_t)*len - cont;
}

/* measure, copying the len bytes of s to d (then a NUL) on the way. */
static uint32_t copy_measure(char *d, const char *s, size_t len, bool *control)
{
	uint32_t cont = 0, seen = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		d[i] = (char)c;
		cont += byte_class[c] & 1;
		seen |= byte_class[c];
	}
	d[len] = '\0';
	*control = (seen & 2) != 0;
	return (uint32_t)len - cont;
}

/* Writes s to d (room for 4 bytes a byte, and the NUL) with control
 * characters as escapes; the length written. */
static size_t escape_into(char *d, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	char *w = d;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p >= 0x20 && *p != 0x7f) {
			*w++ = (char)*p;
		} else if (*p == '\n' || *p == '\t') {
			*w++ = '\\';
			*w++ = *p == '\n' ? 'n' : 't';
		} else {
			memcpy(w, (char[]){'\\', 'x', hex[*p >> 4], hex[*p & 15]}, 4);
			w += 4;
		}
	}
	*w = '\0';
	return (size_t)(w - d);
}

/* s with control characters written as escapes (\n, \t, \x1b), in the arena. */
static const char *escaped(struct table *t, const char *s, size_t len, size_t *out_len)
{
	char *d = arena_take(t, len * 4 + 1);
	if (d)
		*out_len = escape_into(d, s);
	return d;
}

/* Appends a cell; copy: s may not outlive the call. */
static void add_cell(struct table *t, const char *s, bool copy)
{
	if (t->ncells == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 1024;
		struct table_cell *cells = realloc(t->cells, nc * sizeof *cells);
		if (!cells) {
			t->failed = true;
			return;
		}
		t->cells = cells;
		t->cap = nc;
	}
	size_t len;
	bool control;
	if (!s || !*s)
		s = "-", copy = false;
	uint32_t w;
	if (copy) {
		/* Copied and measured in one pass; escaped afterwards if needed. */
		len = strlen(s);
		char *d = arena_take(t, len + 1);
		if (!d) {
			t->failed = true;
			return;
		}
		w = copy_measure(d, s, len, &control);
		s = d;
	} else {
		w = measure(s, &len, &control);
	}
	if (control) {
		s = escaped(t, s, len, &len);
		w = s ? measure(s, &len, &control) : 0;
	}
	if (!s) {
		t->failed = true;
		return;
	}
	t->cells[t->ncells++] = (struct table_cell){s, (uint32_t)len, w, COLOUR_NONE};
}

void table_add(struct table *t, const char *s)
{
	add_cell(t, s, true);
}

void table_add_ref(struct table *t, const char *s)
{
	add_cell(t, s, false);
}

void table_add_int(struct table *t, int64_t v)
{
	char b[24], *p = b + sizeof b - 1;
	*p = '\0';
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	add_cell(t, p, true);
}

void table_add_opt(struct table *t, bool has, int64_t v)
{
	if (has)
		table_add_int(t, v);
	else
		add_cell(t, NULL, false);
}

void table_add_hours(struct table *t, int64_t secs)
{
	char b[64];
	add_cell(t, fmt_gpu_hours(secs, b, sizeof b), true);
}

void table_colour(struct table *t, enum colour k)
{
	if (t->ncells > 0)
		t->cells[t->ncells - 1].colour = (uint8_t)k;
}

size_t table_rows(const struct table *t)
{
	return t->ncols ? t->ncells / (size_t)t->ncols : 0;
}

/* n spaces at w. Cells are narrow: a loop beats a memset call here. */
static char *pad(char *w, size_t n)
{
	while (n--)
		*w++ = ' ';
	return w;
}

/* Writes one cell padded to width at *w; the last column gets no trailing
 * spaces. */
static char *put_cell(char *w, const struct table_cell *c, size_t width, bool right, bool last, bool colour)
{
	const char *col = colour && c->colour ? fmt_colour_start((enum colour)c->colour) : "";
	if (right)
		w = pad(w, width - c->width);
	if (*col)
		w = stpcpy(w, col);
	const char *s = c->s;
	for (uint32_t i = 0, n = c->len; i < n; i++)
		w[i] = s[i];
	w += c->len;
	if (*col)
		w = stpcpy(w, "\033[0m");
	if (!right && !last)
		w = pad(w, width - c->width);
	return w;
}

/* Output in chunks of CHUNK_BYTES: a 10,000-row table never sits whole in
 * memory (every fresh page costs a fault: on these machines about 2.5 µs,
 * a quarter of a 10,000-row list when it was one buffer). */
#define CHUNK_BYTES 65536
#define COLOUR_BYTES 16 /* an escape before a cell and its reset after */

struct chunk {
	FILE *out;
	char *buf;
	size_t used;
	char *big; /* a line longer than a chunk */
};

static void chunk_flush(struct chunk *o)
{
	if (o->used)
		fwrite(o->buf, 1, o->used, o->out);
	o->used = 0;
}

/* Room for a line of at most need bytes, or NULL when memory runs out. */
static char *chunk_line(struct chunk *o, size_t need)
{
	if (need > CHUNK_BYTES) {
		chunk_flush(o);
		o->big = malloc(need);
		return o->big;
	}
	if (CHUNK_BYTES - o->used < need)
		chunk_flush(o);
	return o->buf + o->used;
}

static void chunk_line_done(struct chunk *o, char *end)
{
	if (o->big) {
		fwrite(o->big, 1, (size_t)(end - o->big), o->out);
		free(o->big);
		o->big = NULL;
		return;
	}
	o->used = (size_t)(end - o->buf);
}

/* Writes one row of ncols cells: -1 when memory ran out. */
static int write_row(struct chunk *o, const struct table *t, const struct table_cell *row, const size_t *width,
	bool colour)
{
	size_t need = 1;
	for (int i = 0; i < t->ncols; i++)
		need += width[i] + 2 + (row[i].len - row[i].width) + (colour && row[i].colour ? COLOUR_BYTES : 0);
	char *w = chunk_line(o, need);
	if (!w)
		return -1;
	for (int i = 0; i < t->ncols; i++) {
		if (i > 0)
			w = pad(w, 2);
		w = put_cell(w, &row[i], width[i], t->right[i], i == t->ncols - 1, colour && row[i].colour);
	}
	*w++ = '\n';
	chunk_line_done(o, w);
	return 0;
}

/* The header cells, and the column widths they need. */
static void head_cells(const struct table *t, struct table_cell *head, size_t *width)
{
	for (int i = 0; i < t->ncols; i++) {
		bool control;
		size_t len;
		head[i] = (struct table_cell){t->heads[i], 0, 0, COLOUR_NONE};
		head[i].width = measure(t->heads[i], &len, &control);
		head[i].len = (uint32_t)len;
		width[i] = head[i].width;
	}
}

int table_print(struct table *t, FILE *out, bool colour)
{
	size_t rows = table_rows(t), width[TABLE_MAX_COLS] = {0};
	if (t->failed)
		return -1;
	struct table_cell head[TABLE_MAX_COLS] = {0};
	head_cells(t, head, width);
	for (size_t k = 0; k < rows * (size_t)t->ncols; k++) {
		const struct table_cell *c = &t->cells[k];
		if (c->width > width[k % (size_t)t->ncols])
			width[k % (size_t)t->ncols] = c->width;
	}
	struct chunk o = {out, malloc(CHUNK_BYTES), 0, NULL};
	int rc = o.buf ? write_row(&o, t, head, width, false) : -1;
	for (size_t r = 0; r < rows && rc == 0; r++)
		rc = write_row(&o, t, &t->cells[r * (size_t)t->ncols], width, colour);
	if (o.buf)
		chunk_flush(&o);
	free(o.buf);
	return rc;
}

/* Width of s as escape_into writes it (\n and \t take two characters,
 * other control characters four: \x1b), and its length in *len. */
static uint32_t escaped_width(const char *s, size_t *len)
{
	uint32_t w = 0;
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned k = byte_class[*p], wide = k != 2 ? 1 : *p == '\n' || *p == '\t' ? 2 : 4;
		n += wide;
		w += k == 1 ? 0 : wide;
	}
	*len = n;
	return w;
}

/* Rendered rows (table_render_rows): each cell is a flags byte (its
 * colour, and WIDTH_APART when its width in characters is not its length
 * in bytes), its length and, when apart, its width as varints, then its
 * text, escaped. About 55 bytes a row of gpuctl list: what a row of
 * struct table_cell took four times over. */
#define WIDTH_APART 0x80
#define COPY_SLACK 16
#define VARINT_MAX 10
#define ROW_NONE ((size_t)-1)

static char *put_varint(char *o, size_t v)
{
	for (; v >= 0x80; v >>= 7)
		*o++ = (char)(0x80 | (v & 0x7f));
	*o++ = (char)v;
	return o;
}

static const char *get_varint(const char *p, size_t *v)
{
	size_t r = 0;
	unsigned char c;
	int shift = 0;
	do {
		c = (unsigned char)*p++;
		r |= (size_t)(c & 0x7f) << shift;
		shift += 7;
	} while (c & 0x80);
	*v = r;
	return p;
}

/* Room for n more rendered bytes, and a slot in row_at for row r; NULL
 * when memory runs out. */
static char *render_room(struct table *t, size_t r, size_t n)
{
	if (r >= t->nslots) {
		size_t ns = t->nslots ? t->nslots : 1024;
		while (ns <= r)
			ns *= 2;
		size_t *at = realloc(t->row_at, ns * sizeof *at);
		if (!at)
			return NULL;
		for (size_t i = t->nslots; i < ns; i++)
			at[i] = ROW_NONE;
		t->row_at = at;
		t->nslots = ns;
	}
	if (t->rcap - t->rlen < n) {
		size_t cap = t->rcap ? t->rcap : 65536;
		while (cap - t->rlen < n)
			cap *= 2;
		char *d = realloc(t->rendered, cap);
		if (!d)
			return NULL;
		t->rendered = d;
		t->rcap = cap;
	}
	return t->rendered + t->rlen;
}

struct table_text table_text_measured(const char *s, enum colour colour)
{
	size_t len;
	bool control;
	uint32_t width = measure(s ? s : "", &len, &control);
	if (control || len >= TABLE_UNMEASURED)
		return (struct table_text){s, TABLE_UNMEASURED, 0, colour};
	return (struct table_text){s, (uint32_t)len, width, colour};
}

/* Renders row r at the end of t->rendered: -1 when memory ran out. */
static int render_row(struct table *t, size_t r, table_row_fn fill, void *arg)
{
	struct table_text cells[TABLE_MAX_COLS];
	size_t room = 0, extra = 0;
	bool control[TABLE_MAX_COLS];
	fill(arg, r, cells);
	for (int i = 0; i < t->ncols; i++) {
		struct table_text *c = &cells[i];
		control[i] = false;
		if (!c->s || !*c->s) {
			*c = (struct table_text){"-", 1, 1, c->colour};
		} else if (c->len == TABLE_UNMEASURED) {
			size_t len;
			c->width = measure(c->s, &len, &control[i]);
			if (control[i])
				c->width = escaped_width(c->s, &len);
			c->len = (uint32_t)len;
		}
		room += 1 + 2 * VARINT_MAX + c->len + 1;
	}
	/* COPY_SLACK more: the writer copies short cells 16 bytes at a time. */
	char *o = render_room(t, r, room + COPY_SLACK);
	if (!o)
		return -1;
	t->row_at[r] = t->rlen;
	for (int i = 0; i < t->ncols; i++) {
		const struct table_text *c = &cells[i];
		bool apart = c->width != c->len;
		*o++ = (char)((uint8_t)c->colour | (apart ? WIDTH_APART : 0));
		o = put_varint(o, c->len);
		if (apart)
			o = put_varint(o, c->width);
		if (control[i])
			escape_into(o, c->s);
		else
			memcpy(o, c->s, c->len);
		o += c->len;
		if (c->width > t->width[i])
			t->width[i] = c->width;
		extra += c->len - c->width;
	}
	t->rlen = (size_t)(o - t->rendered);
	if (extra > t->extra)
		t->extra = extra;
	return 0;
}

int table_render_rows(struct table *t, size_t from, size_t to, table_row_fn fill, void *arg)
{
	for (size_t r = from; r < to; r++)
		if (render_row(t, r, fill, arg) < 0)
			return -1;
	return 0;
}

/* n spaces at w, n at most 16 through one fixed-size copy: the caller
 * leaves PAD_SLACK bytes of room past the line. */
#define PAD_SLACK COPY_SLACK
static char *pad_short(char *w, size_t n)
{
	if (n > PAD_SLACK)
		return pad(w, n);
	memcpy(w, "                ", PAD_SLACK);
	return w + n;
}

/* Writes rendered row r (see render_row) at w; returns the end. */
static char *put_rendered_row(char *w, const struct table *t, const char *p, const size_t *width, bool colour)
{
	for (int i = 0; i < t->ncols; i++) {
		size_t len, cw;
		unsigned flags = (unsigned char)*p++;
		p = get_varint(p, &len);
		cw = len;
		if (flags & WIDTH_APART)
			p = get_varint(p, &cw);
		size_t gap = width[i] > cw ? width[i] - cw : 0;
		const char *col = colour && (flags & 0x7f) ? fmt_colour_start((enum colour)(flags & 0x7f)) : "";
		if (i > 0)
			w = pad_short(w, 2);
		if (t->right[i])
			w = pad_short(w, gap);
		if (*col)
			w = stpcpy(w, col);
		/* A short cell in one fixed-size copy (two moves, not a call):
		 * both buffers have COPY_SLACK bytes of room past the end. */
		if (len <= COPY_SLACK)
			memcpy(w, p, COPY_SLACK);
		else
			memcpy(w, p, len);
		w += len;
		p += len;
		if (*col)
			w = stpcpy(w, "\033[0m");
		if (!t->right[i] && i < t->ncols - 1)
			w = pad_short(w, gap);
	}
	*w++ = '\n';
	return w;
}

int table_write_rendered(struct table *t, size_t rows, bool reverse, FILE *out, bool colour)
{
	size_t width[TABLE_MAX_COLS] = {0}, need = 1 + PAD_SLACK + t->extra;
	struct table_cell head[TABLE_MAX_COLS] = {0};
	head_cells(t, head, width);
	for (int i = 0; i < t->ncols; i++) {
		if (t->width[i] > width[i])
			width[i] = t->width[i];
		need += width[i] + 2 + COLOUR_BYTES;
	}
	struct chunk o = {out, malloc(CHUNK_BYTES), 0, NULL};
	int rc = o.buf ? write_row(&o, t, head, width, false) : -1;
	for (size_t k = 0; k < rows && rc == 0; k++) {
		size_t r = reverse ? rows - 1 - k : k;
		char *w = r < t->nslots && t->row_at[r] != ROW_NONE ? chunk_line(&o, need) : NULL;
		if (!w)
			rc = -1;
		else
			chunk_line_done(&o, put_rendered_row(w, t, t->rendered + t->row_at[r], width, colour));
	}
	if (o.buf)
		chunk_flush(&o);
	free(o.buf);
	return rc;
}

void table_free(struct table *t)
{
	free(t->rendered);
	free(t->row_at);
	while (t->arena) {
		struct table_block *next = t->arena->next;
		free(t->arena);
		t->arena = next;
	}
	free(t->cells);
	memset(t, 0, sizeof *t);
}
