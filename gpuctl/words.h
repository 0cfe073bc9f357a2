/* The shell's command lines split into words: '...' and "..." quoting
 * and \ escapes, as a POSIX shell reads them (no expansions). */
#ifndef GPUAAS_GPUCTL_WORDS_H
#define GPUAAS_GPUCTL_WORDS_H

/* Splits line into words (malloc'd array of malloc'd words, NULL-ended, in
 * *out). Returns the word count, or -1 on an unterminated quote or when
 * memory runs out. */
int words_split(const char *line, char ***out);
/* Frees what words_split returned. */
void words_free(char **words, int n);

#endif
