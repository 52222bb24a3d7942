/*
 * output.c - tables, json/yaml printing, JSON path helpers and the
 * password prompt of the ferry CLI (see cli.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include "cli.h"
#include "core/yaml.h"
#include "util/buf.h"
#include "util/xalloc.h"

int fy_cli_check_output(const char *output, const char *allowed)
{
	if (!output || !*output)
		return 0;
	size_t n = strlen(output);
	for (const char *p = allowed; p && *p;) {
		size_t l = strcspn(p, "|");
		if (l == n && !strncmp(p, output, n))
			return 0;
		p += l;
		if (*p)
			p++;
	}
	fprintf(stderr, "error: unknown output format: %s (one of %s)\n", output, allowed);
	return FY_EINVALID;
}

int fy_cli_print_doc(FILE *f, const json_t *doc, const char *format)
{
	if (format && !strcmp(format, "yaml")) {
		struct fy_buf b;
		fy_buf_init(&b, 0);
		int rc = fy_yaml_dump(doc, &b);
		if (!rc)
			fwrite(b.buf, 1, b.len, f);
		fy_buf_release(&b);
		return rc;
	}
	char *s = json_dumps(doc, JSON_INDENT(2) | JSON_ENCODE_ANY);
	if (!s)
		return FY_EGENERIC;
	fprintf(f, "%s\n", s);
	free(s);
	return 0;
}

struct fy_cli_table {
	int ncols;
	size_t nrows, alloc;
	char **cells; /* nrows * ncols */
};

struct fy_cli_table *fy_cli_table_new(int ncols)
{
	struct fy_cli_table *t = fy_xcalloc(1, sizeof(*t));
	t->ncols = ncols;
	return t;
}

void fy_cli_table_add(struct fy_cli_table *t, const char *const *cells)
{
	if (t->nrows == t->alloc) {
		t->alloc = t->alloc ? t->alloc * 2 : 16;
		t->cells = fy_xrealloc(t->cells, t->alloc * (size_t)t->ncols * sizeof(char *));
	}
	for (int i = 0; i < t->ncols; i++) {
		const char *s = cells[i] ? cells[i] : "";
		/* one line per cell: newlines and tabs become spaces */
		char *c = fy_xstrdup(s);
		for (char *p = c; *p; p++)
			if (*p == '\n' || *p == '\t' || *p == '\r')
				*p = ' ';
		t->cells[t->nrows * (size_t)t->ncols + (size_t)i] = c;
	}
	t->nrows++;
}

void fy_cli_table_addv(struct fy_cli_table *t, ...)
{
	const char **row = fy_xcalloc((size_t)t->ncols, sizeof(char *));
	va_list ap;
	va_start(ap, t);
	for (int i = 0; i < t->ncols; i++)
		row[i] = va_arg(ap, const char *);
	va_end(ap);
	fy_cli_table_add(t, row);
	free(row);
}

/* display width: count UTF-8 code points, not bytes */
static size_t width(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			w++;
	return w;
}

void fy_cli_table_print(FILE *f, const struct fy_cli_table *t)
{
	size_t *w = fy_xcalloc((size_t)t->ncols, sizeof(size_t));
	for (size_t r = 0; r < t->nrows; r++)
		for (int c = 0; c < t->ncols; c++) {
			size_t l = width(t->cells[r * (size_t)t->ncols + (size_t)c]);
			if (l > w[c])
				w[c] = l;
		}
	for (size_t r = 0; r < t->nrows; r++) {
		for (int c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * (size_t)t->ncols + (size_t)c];
			fputs(s, f);
			if (c + 1 < t->ncols)
				fprintf(f, "%*s", (int)(w[c] - width(s) + 2), "");
		}
		fputc('\n', f);
	}
	free(w);
}

void fy_cli_table_free(struct fy_cli_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nrows * (size_t)t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

json_t *fy_cli_get(const json_t *o, const char *path)
{
	const json_t *cur = o;
	const char *p = path;
	while (cur && *p) {
		size_t l = strcspn(p, ".");
		char key[128];
		if (l >= sizeof(key))
			return NULL;
		memcpy(key, p, l);
		key[l] = 0;
		cur = json_is_object(cur) ? json_object_get(cur, key) : NULL;
		p += l;
		if (*p)
			p++;
	}
	return (json_t *)cur;
}

const char *fy_cli_str(const json_t *o, const char *path, const char *def)
{
	const json_t *v = fy_cli_get(o, path);
	return json_is_string(v) ? json_string_value(v) : def;
}

json_t *fy_cli_mkobj(json_t *o, const char *path)
{
	json_t *cur = o;
	const char *p = path;
	while (*p) {
		size_t l = strcspn(p, ".");
		char *key = fy_xstrndup(p, l);
		json_t *n = json_object_get(cur, key);
		if (!json_is_object(n)) {
			n = json_object();
			json_object_set_new(cur, key, n);
		}
		free(key);
		cur = n;
		p += l;
		if (*p)
			p++;
	}
	return cur;
}

char *fy_cli_prompt(const char *prompt, int echo)
{
	if (!isatty(STDIN_FILENO))
		return NULL;
	FILE *tty = fopen("/dev/tty", "r+");
	FILE *in = tty ? tty : stdin, *outf = tty ? tty : stderr;
	struct termios old, raw;
	int restore = 0;
	fputs(prompt, outf);
	fflush(outf);
	if (!echo && !tcgetattr(fileno(in), &old)) {
		raw = old;
		raw.c_lflag &= ~(tcflag_t)ECHO;
		raw.c_lflag |= ECHONL;
		restore = !tcsetattr(fileno(in), TCSAFLUSH, &raw);
	}
	char line[1024];
	char *r = fgets(line, sizeof(line), in);
	if (restore)
		tcsetattr(fileno(in), TCSAFLUSH, &old);
	if (tty)
		fclose(tty);
	if (!r)
		return NULL;
	line[strcspn(line, "\r\n")] = 0;
	return fy_xstrdup(line);
}

int fy_cli_confirm_delete(const char *name, const char *what)
{
	char *q = fy_xasprintf("Are you sure you want to delete '%s' and all its %s? [y/n] ", name, what);
	char *a = fy_cli_prompt(q, 1);
	int ok = a && (!strcmp(a, "y") || !strcmp(a, "Y") || !strcmp(a, "yes"));

	free(q);
	free(a);
	return ok;
}
