/* "Did you mean": the closest command or option to a typo, by edit
 * distance (a swap of two neighbours counts once), or the one a prefix
 * names. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpuctl/commands.h"

#define SUGGEST_MAX_LEN 64

/* Optimal string alignment distance between a and b (both short). */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > SUGGEST_MAX_LEN || lb > SUGGEST_MAX_LEN)
		return SIZE_MAX;
	size_t d[SUGGEST_MAX_LEN + 1][SUGGEST_MAX_LEN + 1];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < v)
				v = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[la][lb];
}

const char *suggest_closest(const char *word, const char *const *cands, size_t n)
{
	const char *best = NULL, *prefixed = NULL;
	size_t best_d = SIZE_MAX, nprefixed = 0, wlen = strlen(word);
	for (size_t i = 0; i < n; i++) {
		size_t d = distance(word, cands[i]);
		if (d < best_d) {
			best_d = d;
			best = cands[i];
		}
		if (wlen >= 3 && strncmp(cands[i], word, wlen) == 0) {
			prefixed = cands[i];
			nprefixed++;
		}
	}
	/* Close enough to be a typo: 1 edit for short words, 2 for longer ones. */
	size_t allowed = wlen <= 4 ? 1 : 2;
	if (best && best_d <= allowed && best_d < wlen)
		return best;
	return nprefixed == 1 ? prefixed : NULL;
}

struct names {
	char words[64][64];
	const char *ptrs[64];
	size_t n;
};

static void add_name(void *arg, const char *word)
{
	struct names *w = arg;
	if (w->n == 64)
		return;
	snprintf(w->words[w->n], sizeof w->words[w->n], "%s", word);
	w->ptrs[w->n] = w->words[w->n];
	w->n++;
}

const char *suggest_command(int argc, char **argv)
{
	/* First words of visible commands, or a group's subcommands. */
	static struct names w;
	int used = 0;
	const struct ctl_cmd *group = ctl_find(argc, argv, &used);
	bool in_group = group && (group->flags & CMD_GROUP) && argc > used;
	w.n = 0;
	ctl_next_words(in_group ? group->name : NULL, add_name, &w);
	return suggest_closest(in_group ? argv[used] : argv[0], w.ptrs, w.n);
}
