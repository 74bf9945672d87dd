/* pragma.c - `# dfix ignore=...`, `# dfix off` and hadolint's own pragmas. */
#include <string.h>

#include "internal.h"

/* Does the comma/space list [p, p+n) contain `id`? */
static int list_has(const char *p, size_t n, const char *id)
{
	size_t il = strlen(id), i = 0;

	while (i < n) {
		size_t s;

		while (i < n && (p[i] == ',' || p[i] == ' ' || p[i] == '\t'))
			i++;
		s = i;
		while (i < n && p[i] != ',' && p[i] != ' ' && p[i] != '\t')
			i++;
		if (i > s && ((i - s == il && memcmp(p + s, id, il) == 0) ||
			      (i - s == 3 && memcmp(p + s, "all", 3) == 0)))
			return 1;
	}
	return 0;
}

/* Does the list contain any code of the pass's comma-separated codes? */
static int list_has_code(const char *p, size_t n, const char *codes)
{
	char code[32];

	while (codes && *codes) {
		size_t k = strcspn(codes, ",");

		if (k && k < sizeof(code)) {
			memcpy(code, codes, k);
			code[k] = '\0';
			if (list_has(p, n, code))
				return 1;
		}
		codes += k;
		if (*codes == ',')
			codes++;
	}
	return 0;
}

/* If the comment text [p, n) (starting at '#') is `# <tool> <key>=<list>`,
 * return the list; key must match exactly. */
static int pragma(const char *p, size_t n, const char *tool, const char *key,
		  const char **list, size_t *ln)
{
	size_t i = 1, tl = strlen(tool), kl = strlen(key);

	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (n - i < tl || memcmp(p + i, tool, tl) != 0)
		return 0;
	i += tl;
	if (i >= n || (p[i] != ' ' && p[i] != '\t'))
		return 0;
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (n - i < kl || memcmp(p + i, key, kl) != 0)
		return 0;
	i += kl;
	if (key[kl - 1] != '=') {
		/* a bare word such as "off": nothing but blanks may follow */
		while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r'))
			i++;
		*list = p + i;
		*ln = 0;
		return i == n;
	}
	*list = p + i;
	*ln = n - i;
	while (*ln && ((*list)[*ln - 1] == '\r' || (*list)[*ln - 1] == '\n'))
		(*ln)--;
	return 1;
}

static struct df_span comment_text(const struct df_node *n, const struct df_line *l)
{
	struct df_span s;

	s.ptr = n->text.ptr + l->off + l->indent;
	s.len = l->body;
	return s;
}

static int comment_disables(struct df_span c, const struct df_pass *pass, int file_level)
{
	const char *list;
	size_t ln;

	if (file_level) {
		if (pragma(c.ptr, c.len, "dfix", "off", &list, &ln))
			return 1;
		if (pragma(c.ptr, c.len, "dfix", "ignore-file=", &list, &ln))
			return list_has(list, ln, pass->id);
		if (pragma(c.ptr, c.len, "hadolint", "global ignore=", &list, &ln))
			return list_has_code(list, ln, pass->codes);
		return 0;
	}
	if (pragma(c.ptr, c.len, "dfix", "ignore=", &list, &ln))
		return list_has(list, ln, pass->id);
	if (pragma(c.ptr, c.len, "hadolint", "ignore=", &list, &ln))
		return list_has_code(list, ln, pass->codes);
	return 0;
}

int df_pass_file_ignored(const struct df_pass *pass, const struct df_doc *doc)
{
	size_t i;

	for (i = 0; i < doc->nnodes; i++) {
		const struct df_node *n = &doc->nodes[i];

		if ((n->kind == DF_COMMENT || n->kind == DF_DIRECTIVE) && n->nlines &&
		    comment_disables(comment_text(n, &n->lines[0]), pass, 1))
			return 1;
	}
	return 0;
}

/* A quick no for most comments: the word after '#' is not dfix/hadolint. */
static int maybe_pragma(struct df_span c)
{
	size_t i = 1;

	while (i < c.len && (c.ptr[i] == ' ' || c.ptr[i] == '\t'))
		i++;
	return i < c.len && (c.ptr[i] == 'd' || c.ptr[i] == 'h');
}

/* The same look at the node's text, without its line table: 0 only when
 * it surely is no pragma. */
static int maybe_pragma_node(const struct df_node *n)
{
	const char *p = n->text.ptr, *e = p + n->text.len;

	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	if (p == e || *p != '#')
		return 1; /* another kind of indent: ask the line table */
	p++;
	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	return p < e && (*p == 'd' || *p == 'h');
}

/* Is node n a comment with a file-level pragma (`# dfix off`,
 * `# dfix ignore-file=`, `# hadolint global ignore=`)? */
int df_node_file_pragma(const struct df_node *n)
{
	struct df_span c;
	const char *list;
	size_t ln;

	if ((n->kind != DF_COMMENT && n->kind != DF_DIRECTIVE) || !n->nlines ||
	    !maybe_pragma_node(n))
		return 0;
	c = comment_text(n, &n->lines[0]);
	return maybe_pragma(c) &&
	       (pragma(c.ptr, c.len, "dfix", "off", &list, &ln) ||
		pragma(c.ptr, c.len, "dfix", "ignore-file=", &list, &ln) ||
		pragma(c.ptr, c.len, "hadolint", "global ignore=", &list, &ln));
}

int df_doc_file_pragmas(const struct df_doc *doc)
{
	size_t i;

	if (doc->edits == 0)
		return doc->file_pragma; /* as parsed: the parse looked */
	for (i = 0; i < doc->nnodes; i++)
		if (df_node_file_pragma(&doc->nodes[i]))
			return 1;
	return 0;
}

int df_pass_ignored(const struct df_ctx *ctx, const struct df_doc *doc, size_t idx)
{
	const struct df_pass *pass = ctx->current;
	size_t i;

	if (!pass || idx >= doc->nnodes)
		return 0;
	for (i = df_doc_owned_start(doc, idx); i < idx; i++) {
		const struct df_node *n = &doc->nodes[i];

		if (n->nlines && comment_disables(comment_text(n, &n->lines[0]), pass, 0))
			return 1;
	}
	return 0;
}

int df_doc_file_pragmas_after_reparse(const struct df_doc *doc, int before)
{
	const struct df_memo *m = doc->memo;
	size_t w, i;

	if (before || !m || m->win_at != doc->edits + 1)
		return df_doc_file_pragmas(doc);
	/* none before: only a node parsed again can hold one */
	for (w = 0; w + 1 < m->nwin; w += 2)
		for (i = m->win[w]; i < m->win[w + 1]; i++)
			if (df_node_file_pragma(&doc->nodes[i]))
				return 1;
	return 0;
}
