/* What is printed from the command table: the command list (gpuctl help),
 * one command's help (gpuctl help CMD, CMD --help) and the COMMANDS section
 * of gpuctl(1), so that the three never disagree. Everything fits 80
 * columns. */
#include <stdio.h>
#include <string.h>

#include "gpuctl/commands.h"

#define HELP_WIDTH 79 /* columns, at most */
#define OPT_COL 24    /* where option help starts */

/* Writes text word-wrapped: the first line after `first` columns already
 * used, the others after indent spaces, none past HELP_WIDTH. A word
 * starting with '-' never starts a line (scdoc would read a list). */
static void wrap(FILE *out, const char *text, size_t first, size_t indent)
{
	size_t col = first;
	bool line_start = true;
	for (const char *p = text; *p;) {
		size_t len = strcspn(p, " ");
		const char *next = p + len + strspn(p + len, " ");
		size_t nlen = strcspn(next, " ");
		bool next_dash_breaks = *next == '-' && *p != '-' && col + 1 + len + 1 + nlen > HELP_WIDTH;
		if (!line_start && (col + 1 + len > HELP_WIDTH || next_dash_breaks)) {
			fprintf(out, "\n%*s", (int)indent, "");
			col = indent;
			line_start = true;
		}
		if (!line_start) {
			fputc(' ', out);
			col++;
		}
		fwrite(p, 1, len, out);
		col += len;
		line_start = false;
		p += len;
		while (*p == ' ')
			p++;
	}
	fputc('\n', out);
}

/* "  -g, --gpu TYPE        help..." for each option. */
static void print_opts(FILE *out, const struct ctl_opt *opts)
{
	for (const struct ctl_opt *o = opts; o && o->lng; o++) {
		char head[64];
		int n = o->shrt ? snprintf(head, sizeof head, "  -%c, --%s%s%s", o->shrt, o->lng, o->arg ? " " : "",
					     o->arg ? o->arg : "")
				: snprintf(head, sizeof head, "      --%s%s%s", o->lng, o->arg ? " " : "",
					     o->arg ? o->arg : "");
		fputs(head, out);
		if (n + 2 > OPT_COL) {
			fprintf(out, "\n%*s", OPT_COL, "");
		} else {
			fprintf(out, "%*s", OPT_COL - n, "");
		}
		wrap(out, o->help, OPT_COL, OPT_COL);
	}
}

void ctl_print_help(const struct ctl_cmd *cmd, FILE *out)
{
	/* The options come before the blank line, the description after it:
	 * the description is the man page's text, word for word. */
	fprintf(out, "Usage: gpuctl %s\n", cmd->usage);
	print_opts(out, cmd->opts);
	fprintf(out, "  (and the global options: -s PATH, -j, -o FORMAT; see gpuctl help)\n\n");
	wrap(out, cmd->help, 0, 0);
	if (!(cmd->flags & CMD_GROUP))
		return;
	size_t len = strlen(cmd->name);
	fprintf(out, "\nCommands:\n");
	for (const struct ctl_cmd *c = ctl_commands; c->name; c++)
		if (strncmp(c->name, cmd->name, len) == 0 && c->name[len] == ' ' && ctl_cmd_listed(c))
			fprintf(out, "  %s\n", c->usage);
}

void ctl_print_usage(FILE *out)
{
	fprintf(out, "Usage: gpuctl [GLOBAL OPTIONS] COMMAND [ARGS...]\n"
		     "       gpuctl help [COMMAND]    gpuctl COMMAND --help    gpuctl version\n\n"
		     "GPU-as-a-Service client: ask for GPU time, wait for approval, run, get charged.\n\n"
		     "Commands:\n");
	for (const struct ctl_cmd *c = ctl_commands; c->name; c++)
		if (ctl_cmd_listed(c))
			fprintf(out, "  %s\n", c->usage);
	fprintf(out, "\nGlobal options, before or after the command:\n");
	print_opts(out, ctl_global_opts);
	fprintf(out, "\n");
	wrap(out, "Durations: 90s, 15m, 1h30m, 1.5h, 1d, or Slurm's MM:SS, HH:MM:SS, D-HH[:MM[:SS]]; a bare number "
		  "is refused (write 90s or 90m).", 0, 0);
	fprintf(out, "\n");
	wrap(out, "Exit codes: 0 ok, 1 failed, 2 usage, 3 not authenticated, 4 forbidden, 5 not found, 6 quota "
		  "exceeded, 7 daemon unreachable, 8 timed out, 9 try again later, 130 interrupted (shell). See "
		  "gpuctl(1).", 0, 0);
}

/* Writes s escaped for scdoc (which gives '*', '_' and '\\' meaning). */
static void scd_escaped(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '*' || *s == '_' || *s == '\\')
			fputc('\\', out);
		fputc(*s, out);
	}
}

/* The options of one command as an scdoc list: "\t*-g*, *--gpu* _TYPE_\n\t\thelp". */
static void man_opts(FILE *out, const struct ctl_opt *opts)
{
	for (const struct ctl_opt *o = opts; o && o->lng; o++) {
		fputc('\t', out);
		if (o->shrt)
			fprintf(out, "*-%c*, ", o->shrt);
		fputs("*--", out);
		scd_escaped(out, o->lng);
		fputc('*', out);
		if (o->arg) {
			fputs(" _", out);
			scd_escaped(out, o->arg);
			fputc('_', out);
		}
		fputs("\n\t\t", out);
		scd_escaped(out, o->help);
		fputs("\n\n", out);
	}
}

void ctl_print_man(FILE *out)
{
	/* The same entries and words as the help, so the two never disagree.
	 * The description is wrapped exactly as `gpuctl help CMD` prints it. */
	for (const struct ctl_cmd *c = ctl_commands; c->name; c++) {
		if (!ctl_cmd_listed(c))
			continue;
		char text[2048];
		FILE *mem = fmemopen(text, sizeof text, "w");
		if (!mem)
			continue;
		wrap(mem, c->help, 0, 0);
		fputc('\0', mem);
		fclose(mem);
		fputc('*', out);
		scd_escaped(out, c->usage);
		fprintf(out, "*\n\n");
		scd_escaped(out, text);
		fputc('\n', out);
		man_opts(out, c->opts);
	}
}
