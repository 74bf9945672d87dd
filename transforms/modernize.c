/*
 * modernize.c - modernize: deprecated or legacy syntax in its current form,
 * with the same image behaviour (level safe).
 *
 *   MAINTAINER x      -> LABEL org.opencontainers.image.authors="x"  (DL4000)
 *   ENV key value     -> ENV key=value      (BuildKit LegacyKeyValueFormat)
 *   ADD local src dst -> COPY src dst       (DL3020; not URLs, archives, git)
 *   FROM x as name    -> FROM x AS name     (BuildKit FromAsCasing)
 *
 * Each rewrite touches only the bytes it must; everything else stays as
 * written. What cannot be rewritten with certainty is left alone.
 */
#include <glob.h>
#include <string.h>

#include "imageref.h"
#include "internal.h"

/* Is the span all upper case letters / all lower case letters? */
static int all_case(struct df_span s, int upper)
{
	size_t i;

	for (i = 0; i < s.len; i++) {
		char c = s.ptr[i];

		if (upper ? (c >= 'a' && c <= 'z') : (c >= 'A' && c <= 'Z'))
			return 0;
	}
	return 1;
}

/* Replace the keyword of node idx with `word` in the keyword's own case. */
static int replace_keyword(struct df_doc *doc, size_t idx, const char *upper, const char *lower)
{
	const struct df_inst *inst = doc->nodes[idx].inst;
	struct df_edits e = { 0 };
	size_t off = df_inst_log_off(inst, inst->keyword), start, end;
	const char *w = all_case(inst->keyword, 0) ? lower : upper;

	if (off == (size_t)-1 || df_inst_range(inst, off, inst->keyword.len, &start, &end) < 0)
		return -1;
	df_edits_add(&e, start, end, w, strlen(w));
	return df_edits_apply(doc, idx, &e);
}

/* ---- MAINTAINER ---- */

static int maintainer(struct df_ctx *ctx, struct df_doc *doc, size_t idx)
{
	const struct df_node *n = &doc->nodes[idx];
	const struct df_inst *inst = n->inst;
	struct df_buf b = DF_BUF_INIT;
	struct df_edits e = { 0 };
	size_t off, start, end, i, kstart, kend;
	struct df_span v = inst->rest;
	const char *lab = all_case(inst->keyword, 0) ? "label" : "LABEL";

	if (!v.len || inst->nflags)
		return 0;
	off = df_inst_log_off(inst, v);
	if (off == (size_t)-1 || df_inst_range(inst, off, v.len, &start, &end) < 0)
		return 0;
	if (df_inst_range(inst, df_inst_log_off(inst, inst->keyword), inst->keyword.len,
			  &kstart, &kend) < 0)
		return 0;
	/* MAINTAINER takes its text literally: escape what LABEL's double
	 * quotes would interpret (the escape character, '"' and '$'). */
	df_buf_adds(&b, "org.opencontainers.image.authors=\"");
	for (i = 0; i < v.len; i++) {
		char c = v.ptr[i];

		if (c == '"' || c == '$' || c == doc->escape)
			df_buf_addc(&b, doc->escape);
		df_buf_addc(&b, c);
	}
	df_buf_addc(&b, '"');
	df_edits_add(&e, kstart, kend, lab, 5);
	df_edits_add(&e, start, end, b.ptr, b.len);
	df_buf_release(&b);
	if (df_edits_apply(doc, idx, &e) < 0)
		return 0;
	df_ctx_finding(ctx, "DL4000", n->line,
		       "MAINTAINER is deprecated: the author is now the label "
		       "org.opencontainers.image.authors");
	return 1;
}

/* ---- ENV key value ---- */

/* Would BuildKit's word splitting see the value as one word as it is? */
static int one_word(struct df_span v, char esc)
{
	size_t i;
	char q = 0;

	for (i = 0; i < v.len; i++) {
		char c = v.ptr[i];

		if (q) {
			if (c == esc && q == '"' && i + 1 < v.len)
				i++;
			else if (c == q)
				q = 0;
		} else if (c == esc) {
			i++;
		} else if (c == '"' || c == '\'') {
			q = c;
		} else if (c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r' ||
			   (unsigned char)c >= 0x80) {
			return 0;
		}
	}
	return !q;
}

static int has_quote_or_escape(struct df_span v, char esc)
{
	size_t i;

	for (i = 0; i < v.len; i++)
		if (v.ptr[i] == '"' || v.ptr[i] == '\'' || v.ptr[i] == esc || v.ptr[i] == '`')
			return 1;
	return 0;
}

static int env_legacy(struct df_ctx *ctx, struct df_doc *doc, size_t idx)
{
	const struct df_node *n = &doc->nodes[idx];
	const struct df_inst *inst = n->inst;
	struct df_edits e = { 0 };
	struct df_span key, val;
	size_t koff, voff, ks, ke, vs, ve;
	int quote;

	/* the legacy form: args are key, value, "" (parse_name_val) */
	if (inst->nargs != 3 || inst->args[2].len != 0 || !inst->args[1].len)
		return 0;
	key = inst->args[0];
	val = inst->args[1];
	koff = df_inst_log_off(inst, key);
	voff = df_inst_log_off(inst, val);
	if (koff == (size_t)-1 || voff == (size_t)-1 || memchr(key.ptr, '=', key.len))
		return 0;
	if (df_inst_range(inst, koff, key.len, &ks, &ke) < 0 ||
	    df_inst_range(inst, voff, val.len, &vs, &ve) < 0)
		return 0;
	quote = !one_word(val, doc->escape);
	/* a value with blanks gets double quotes; one that also has quotes or
	 * escapes would need rewriting inside: leave it */
	if (quote && has_quote_or_escape(val, doc->escape))
		return 0;
	df_edits_add(&e, ke, vs, quote ? "=\"" : "=", quote ? 2 : 1);
	if (quote)
		df_edits_add(&e, ve, ve, "\"", 1);
	if (df_edits_apply(doc, idx, &e) < 0)
		return 0;
	df_ctx_finding(ctx, "LegacyKeyValueFormat", n->line,
		       "ENV %.*s: the legacy 'ENV key value' form is deprecated; written as key=value",
		       (int)key.len, key.ptr);
	return 1;
}

/* ---- ADD -> COPY ---- */

static int ends_with(struct df_span s, const char *suf)
{
	size_t n = strlen(suf);

	return s.len >= n && df_mem_ieq(s.ptr + s.len - n, suf, n);
}

static int archive_name(struct df_span s)
{
	static const char *const ext[] = {
		".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tbz2", ".tar.xz", ".txz",
		".tar.zst", ".tzst", ".gz", ".bz2", ".xz", ".zst", ".lz4", ".lzma", ".zip",
		".z", ".tar.z", ".taz",
	};
	size_t i;

	for (i = 0; i < sizeof(ext) / sizeof(ext[0]); i++)
		if (ends_with(s, ext[i]))
			return 1;
	return 0;
}

/* Does the file start like something ADD unpacks (tar, gzip, bzip2, xz)? */
static int archive_magic(const char *p, size_t n)
{
	return (n >= 2 && (unsigned char)p[0] == 0x1f && (unsigned char)p[1] == 0x8b) ||
	       (n >= 3 && memcmp(p, "BZh", 3) == 0) ||
	       (n >= 6 && memcmp(p, "\xfd" "7zXZ\0", 6) == 0) ||
	       (n >= 4 && memcmp(p, "\x28\xb5\x2f\xfd", 4) == 0) ||
	       (n >= 262 && memcmp(p + 257, "ustar", 5) == 0);
}

static int local_file_archive(const struct df_ctx *ctx, const char *path)
{
	size_t len;
	char *p = df_context_read_head(ctx, path, 512, &len); /* the magic numbers */
	int r;

	if (!p)
		return 0; /* a directory, or absent: nothing ADD would unpack */
	r = archive_magic(p, len);
	free(p);
	return r;
}

/* Is every source a local file or directory that ADD copies as COPY does? */
static int add_sources_local(const struct df_ctx *ctx, const struct df_inst *inst)
{
	size_t i;

	if (inst->nargs < 2 || inst->nheredocs)
		return 0;
	for (i = 0; i + 1 < inst->nargs; i++) {
		struct df_span s = inst->args[i];
		char *path;
		int bad = 0;

		if (!s.len || memchr(s.ptr, '$', s.len) || memchr(s.ptr, ':', s.len) ||
		    memchr(s.ptr, '@', s.len) || memchr(s.ptr, '\\', s.len) ||
		    memchr(s.ptr, '\0', s.len) || archive_name(s) || s.ptr[0] == '<')
			return 0;
		if (!ctx->context_dir)
			continue; /* judged by the name only */
		path = df_xstrndup(s.ptr, s.len);
		if (strpbrk(path, "*?[")) {
			struct df_buf pat = DF_BUF_INIT;
			glob_t g;

			df_buf_adds(&pat, ctx->context_dir);
			df_buf_addc(&pat, '/');
			df_buf_adds(&pat, path);
			if (glob(pat.ptr, 0, NULL, &g) == 0) {
				size_t k, base = strlen(ctx->context_dir) + 1;

				for (k = 0; k < g.gl_pathc && !bad; k++) {
					struct df_span m = { g.gl_pathv[k], strlen(g.gl_pathv[k]) };

					bad = archive_name(m) ||
					      (strlen(g.gl_pathv[k]) > base &&
					       local_file_archive(ctx, g.gl_pathv[k] + base));
				}
				globfree(&g);
			}
			df_buf_release(&pat);
		} else {
			bad = local_file_archive(ctx, path);
		}
		free(path);
		if (bad)
			return 0;
	}
	return 1;
}

static int add_to_copy(struct df_ctx *ctx, struct df_doc *doc, size_t idx)
{
	const struct df_node *n = &doc->nodes[idx];
	const struct df_inst *inst = n->inst;
	size_t i;

	for (i = 0; i < inst->nflags; i++) {
		struct df_span f = inst->flags[i];

		if (!(f.len >= 7 && (memcmp(f.ptr, "--chown", 7) == 0 ||
				     memcmp(f.ptr, "--chmod", 7) == 0)) &&
		    !df_span_eq(f, "--link") && !df_span_eq(f, "--link=true"))
			return 0;
	}
	if (!add_sources_local(ctx, inst))
		return 0;
	if (replace_keyword(doc, idx, "COPY", "copy") < 0)
		return 0;
	df_ctx_finding(ctx, "DL3020", n->line,
		       "ADD of local files is COPY: ADD would also fetch URLs and unpack archives");
	return 1;
}

/* ---- FROM x as name ---- */

static int as_casing(struct df_ctx *ctx, struct df_doc *doc, size_t idx)
{
	const struct df_node *n = &doc->nodes[idx];
	const struct df_inst *inst = n->inst;
	struct df_edits e = { 0 };
	struct df_span as;
	size_t off, start, end;
	int upper;

	if (inst->nargs != 3 || !df_span_ieq(inst->args[1], "as"))
		return 0;
	as = inst->args[1];
	if (all_case(inst->keyword, 1))
		upper = 1;
	else if (all_case(inst->keyword, 0))
		upper = 0;
	else
		return 0;
	if (df_span_eq(as, upper ? "AS" : "as"))
		return 0;
	off = df_inst_log_off(inst, as);
	if (off == (size_t)-1 || df_inst_range(inst, off, 2, &start, &end) < 0)
		return 0;
	df_edits_add(&e, start, end, upper ? "AS" : "as", 2);
	if (df_edits_apply(doc, idx, &e) < 0)
		return 0;
	df_ctx_finding(ctx, "FromAsCasing", n->line,
		       "'%.*s' -> '%s': the AS keyword in the case of FROM", (int)as.len, as.ptr,
		       upper ? "AS" : "as");
	return 1;
}

static int run(struct df_ctx *ctx, struct df_doc *doc)
{
	int changes = 0;
	size_t i, ns, s = 0;
	struct df_stage *st = df_stages(doc, &ns);
	unsigned char *settled = df_stages_settled(ctx, doc, ns); /* left so last time */

	for (i = 0; i < doc->nnodes; i++) {
		const struct df_node *n = &doc->nodes[i];

		while (s < ns && i >= st[s].end)
			s++;
		if ((s < ns && i >= st[s].from && settled[s]) || n->kind != DF_INSTRUCTION || !n->inst ||
		    (n->cmd != DF_CMD_MAINTAINER && n->cmd != DF_CMD_ENV && n->cmd != DF_CMD_ADD &&
		     n->cmd != DF_CMD_FROM) ||
		    df_pass_ignored(ctx, doc, i))
			continue;
		switch (n->cmd) {
		case DF_CMD_MAINTAINER:
			changes += maintainer(ctx, doc, i);
			break;
		case DF_CMD_ENV:
			changes += env_legacy(ctx, doc, i);
			break;
		case DF_CMD_ADD:
			changes += add_to_copy(ctx, doc, i);
			break;
		case DF_CMD_FROM:
			changes += as_casing(ctx, doc, i);
			break;
		default:
			break;
		}
	}
	free(settled);
	free(st);
	/* each rewrite leaves a form it does not rewrite */
	ctx->self_settled = changes > 0;
	return changes;
}

const struct df_pass df_pass_modernize = {
	.id = "modernize",
	.level = DF_LEVEL_SAFE,
	.codes = "DL4000,DL3020,LegacyKeyValueFormat,FromAsCasing",
	.summary = "MAINTAINER -> LABEL, ENV k v -> ENV k=v, local ADD -> COPY, AS casing",
	.doc = "Rewrites deprecated or legacy syntax into its current form without changing\n"
	       "what the image does:\n"
	       "  MAINTAINER x       -> LABEL org.opencontainers.image.authors=\"x\"  (DL4000)\n"
	       "  ENV key value      -> ENV key=value, double-quoted when the value has blanks\n"
	       "                        ($VAR expansions keep working inside the quotes)\n"
	       "  ADD src... dst     -> COPY src... dst when every source is a local file or\n"
	       "                        directory (DL3020): not for URLs, git references,\n"
	       "                        archives ADD would unpack (by name, and by content\n"
	       "                        when the build context is there), variables, heredocs\n"
	       "                        or ADD-only flags (--checksum, --keep-git-dir)\n"
	       "  FROM x as name     -> FROM x AS name: AS in the case of FROM (FromAsCasing)\n"
	       "A legacy ENV whose value has both blanks and quotes is left alone.\n",
	.run = run,
	.stage_local = 1,
};
