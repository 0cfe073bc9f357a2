/* Command lines split into words (words.h). */
#include "gpuctl/words.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Copies the word starting at *p into buf (unquoted) and moves *p past it.
 * false on an unterminated quote. */
static bool one_word(const char **p, char *buf)
{
	size_t len = 0;
	char quote = 0;
	const char *s = *p;
	for (; *s && (quote || (*s != ' ' && *s != '\t')); s++) {
		if (quote) {
			if (*s == quote)
				quote = 0;
			else if (*s == '\\' && quote == '"' && s[1])
				buf[len++] = *++s;
			else
				buf[len++] = *s;
		} else if (*s == '\'' || *s == '"') {
			quote = *s;
		} else if (*s == '\\' && s[1]) {
			buf[len++] = *++s;
		} else {
			buf[len++] = *s;
		}
	}
	buf[len] = '\0';
	*p = s;
	return quote == 0;
}

int words_split(const char *line, char ***out)
{
	size_t cap = 8, n = 0;
	char **words = calloc(cap, sizeof *words);
	char *buf = malloc(strlen(line) + 1);
	bool ok = words && buf;
	for (const char *p = line; ok;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		ok = one_word(&p, buf);
		if (ok && n + 1 >= cap) {
			char **nw = realloc(words, cap * 2 * sizeof *nw);
			ok = nw != NULL;
			if (ok) {
				words = nw;
				cap *= 2;
			}
		}
		if (ok && (words[n] = strdup(buf)) != NULL)
			n++;
		else
			ok = false;
	}
	free(buf);
	if (!ok) {
		words_free(words, (int)n);
		return -1;
	}
	words[n] = NULL;
	*out = words;
	return (int)n;
}

void words_free(char **words, int n)
{
	for (int i = 0; words && i < n; i++)
		free(words[i]);
	free(words);
}
