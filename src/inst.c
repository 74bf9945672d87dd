/*
 * inst.c - the BuildKit model of one instruction.
 *
 * Given an instruction's logical line (continuations joined as BuildKit joins
 * them), reproduce what BuildKit's parser builds: keyword, flags (leading
 * --words), and the argument chain made by the per-instruction line parser
 * (JSON or shell form, ENV/LABEL key-value forms, ARG words, whitespace
 * lists, HEALTHCHECK, ONBUILD), plus the heredocs the line opens.
 * Facts follow moby/buildkit frontend/dockerfile/parser; the code is ours.
 */
#include <stdarg.h>
#include <string.h>

#include "internal.h"

static const char *const cmd_names[] = {
	"", "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM",
	"HEALTHCHECK", "LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL",
	"STOPSIGNAL", "USER", "VOLUME", "WORKDIR",
};
/* their lengths, in the same order */
static const unsigned char cmd_lens[] = { 0, 3, 3, 3, 4, 10, 3, 6, 4, 11, 5, 10, 7, 3, 5, 10, 4, 6, 7 };
_Static_assert(sizeof(cmd_lens) == sizeof(cmd_names) / sizeof(cmd_names[0]), "one length a name");

enum df_cmd df_cmd_lookup(const char *p, size_t n)
{
	size_t i;

	for (i = 1; i < sizeof(cmd_names) / sizeof(cmd_names[0]); i++)
		if (cmd_lens[i] == n && df_mem_ieq(p, cmd_names[i], n))
			return (enum df_cmd)i;
	return DF_CMD_UNKNOWN;
}

const char *df_cmd_name(enum df_cmd cmd)
{
	return cmd_names[cmd];
}

char *df_arena_vprintf(struct df_arena *a, const char *fmt, va_list ap)
{
	va_list ap2;
	char *r;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		n = 0;
	r = df_arena_alloc_raw(a, (size_t)n + 1);
	vsnprintf(r, (size_t)n + 1, fmt, ap);
	return r;
}

char *df_arena_printf(struct df_arena *a, const char *fmt, ...)
{
	va_list ap;
	char *r;

	va_start(ap, fmt);
	r = df_arena_vprintf(a, fmt, ap);
	va_end(ap);
	return r;
}

int df_inst_flag(const struct df_inst *inst, const char *name, struct df_span *value)
{
	size_t nl = strlen(name), i;

	for (i = 0; i < inst->nflags; i++) {
		const struct df_span *f = &inst->flags[i];

		if (f->len >= nl + 3 && memcmp(f->ptr, "--", 2) == 0 &&
		    memcmp(f->ptr + 2, name, nl) == 0 && f->ptr[nl + 2] == '=') {
			value->ptr = f->ptr + nl + 3;
			value->len = f->len - nl - 3;
			return 1;
		}
	}
	return 0;
}

size_t df_inst_node_off(const struct df_inst *inst, size_t log_off)
{
	size_t lo = 0, hi = inst->npieces, x = log_off + inst->log_base;

	if (!inst->npieces)
		return 0;
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;

		if (inst->pieces[mid].log_off <= x)
			lo = mid;
		else
			hi = mid;
	}
	return inst->pieces[lo].node_off + (x - inst->pieces[lo].log_off);
}

/* ---- a growable list of spans in the arena ---- */

struct spans {
	struct df_span *v;
	size_t n, cap;
};

static void spans_add(struct df_arena *a, struct spans *s, const char *p, size_t n)
{
	if (s->n == s->cap) {
		struct df_span *nv;

		s->cap = s->cap ? s->cap * 2 : 4;
		nv = df_arena_alloc_raw(a, s->cap * sizeof(*nv));
		if (s->n)
			memcpy(nv, s->v, s->n * sizeof(*nv));
		s->v = nv;
	}
	s->v[s->n].ptr = p;
	s->v[s->n].len = n;
	s->n++;
}

/* Go's unicode.IsSpace applied to a single byte as a rune (rune(line[i])). */
static int byte_space(unsigned char c)
{
	return (c >= 9 && c <= 13) || c == ' ' || c == 0x85 || c == 0xA0;
}

/* reWhitespace: [\t\v\f\r ] */
static int re_ws(unsigned char c)
{
	return c == '\t' || c == '\v' || c == '\f' || c == '\r' || c == ' ';
}

static struct df_span trim_space(const char *p, size_t n)
{
	struct df_span s;
	size_t a = df_go_space_prefix(p, n);

	s.ptr = p + a;
	s.len = a == n ? 0 : n - a - df_go_space_suffix(p + a, n - a);
	return s;
}

/* extractBuilderFlags: leading --words; returns the rest (a suffix of line). */
static struct df_span extract_flags(struct df_arena *a, const char *line, size_t n,
				    struct spans *flags)
{
	enum { SP, WORD, QUOTE } phase = SP;
	struct df_buf w = DF_BUF_INIT;
	struct df_span rest = { line + n, 0 };
	int blank_ok = 0;
	unsigned char quote = 0, ch = 0;
	size_t pos;

	for (pos = 0; pos <= n; pos++) {
		if (pos != n)
			ch = (unsigned char)line[pos];
		if (phase == SP) {
			if (pos == n)
				break;
			if (byte_space(ch))
				continue;
			if (ch != '-' || pos + 1 == n || line[pos + 1] != '-') {
				rest.ptr = line + pos;
				rest.len = n - pos;
				goto out;
			}
			phase = WORD;
		}
		if (pos == n) {
			if (!(w.len == 2 && memcmp(w.ptr, "--", 2) == 0) && (blank_ok || w.len))
				spans_add(a, flags, df_arena_dup(a, w.ptr, w.len), w.len);
			break;
		}
		if (phase == WORD) {
			if (byte_space(ch)) {
				phase = SP;
				if (w.len == 2 && memcmp(w.ptr, "--", 2) == 0) {
					rest.ptr = line + pos;
					rest.len = n - pos;
					goto out;
				}
				if (blank_ok || w.len)
					spans_add(a, flags, df_arena_dup(a, w.ptr, w.len), w.len);
				df_buf_reset(&w);
				blank_ok = 0;
				continue;
			}
			if (ch == '\'' || ch == '"') {
				quote = ch;
				blank_ok = 1;
				phase = QUOTE;
				continue;
			}
			if (ch == '\\') {
				if (pos + 1 == n)
					continue;
				pos++;
				ch = (unsigned char)line[pos];
			}
			df_utf8_append(&w, ch); /* Go: string(rune(byte)) */
			continue;
		}
		/* QUOTE */
		if (ch == quote) {
			phase = WORD;
			continue;
		}
		if (ch == '\\') {
			if (pos + 1 == n) {
				phase = WORD;
				continue;
			}
			pos++;
			ch = (unsigned char)line[pos];
		}
		df_utf8_append(&w, ch);
	}
out:
	df_buf_release(&w);
	return rest;
}

/* The word parseWords is building: its runes copied (rest holds invalid
 * UTF-8, which Go appends as U+FFFD), or, when every rune is valid, the span
 * of rest it covers (Go appends the very bytes it reads: no copy needed). */
struct word {
	struct df_buf *copy; /* NULL: the span [ws, we) of rest */
	size_t ws, we;
};

static void word_start(struct word *w, size_t pos)
{
	w->ws = w->we = pos;
}

static void word_rune(struct word *w, int32_t ch, size_t pos, int width)
{
	if (w->copy)
		df_utf8_append(w->copy, ch);
	else
		w->we = pos + (size_t)width;
}

/* Add the word (when it has bytes, or quotes made it) and start again. */
static void word_end(struct df_arena *a, struct spans *out, struct word *w, const char *rest,
		     int blank_ok)
{
	if (w->copy) {
		if (blank_ok || w->copy->len)
			spans_add(a, out, df_arena_dup(a, w->copy->ptr, w->copy->len), w->copy->len);
		df_buf_reset(w->copy);
	} else if (blank_ok || w->we > w->ws) {
		spans_add(a, out, rest + w->ws, w->we - w->ws);
	}
}

/* parseWords when every rune is valid UTF-8: each word is a substring of
 * rest (Go appends the very bytes it reads), so no copy is needed. */
static int valid_utf8(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		int w;

		if ((unsigned char)p[i] < 0x80) {
			i++;
			continue;
		}
		if (df_utf8_decode((const unsigned char *)p + i, n - i, &w) == 0xFFFD && w == 1)
			return 0;
		i += (size_t)w;
	}
	return 1;
}

/* parseWords: space-separated words, quotes kept, escapes kept. */
static void parse_words(struct df_arena *a, const char *rest, size_t n, char esc,
			struct spans *out)
{
	enum { SP, WORD, QUOTE } phase = SP;
	struct df_buf copy = DF_BUF_INIT;
	struct word w = { NULL, 0, 0 };
	int blank_ok = 0, width = 0;
	int32_t quote = 0, ch = 0;
	size_t pos;

	if (!valid_utf8(rest, n))
		w.copy = &copy;
	for (pos = 0; pos <= n; pos += (size_t)width) {
		if (pos != n)
			ch = df_utf8_decode((const unsigned char *)rest + pos, n - pos, &width);
		if (phase == SP) {
			if (pos == n)
				break;
			if (df_go_isspace(ch))
				continue;
			phase = WORD;
			word_start(&w, pos);
		}
		if (pos == n) {
			word_end(a, out, &w, rest, blank_ok);
			break;
		}
		if (phase == WORD) {
			if (df_go_isspace(ch)) {
				phase = SP;
				word_end(a, out, &w, rest, blank_ok);
				blank_ok = 0;
				continue;
			}
			if (ch == '\'' || ch == '"') {
				quote = ch;
				blank_ok = 1;
				phase = QUOTE;
			}
			if (ch == (unsigned char)esc) {
				if (pos + (size_t)width == n)
					continue;
				word_rune(&w, ch, pos, width);
				pos += (size_t)width;
				ch = df_utf8_decode((const unsigned char *)rest + pos, n - pos, &width);
			}
			word_rune(&w, ch, pos, width);
			continue;
		}
		/* QUOTE */
		if (ch == quote)
			phase = WORD;
		if (ch == (unsigned char)esc && quote != '\'') {
			if (pos + (size_t)width == n) {
				phase = WORD;
				continue;
			}
			word_rune(&w, ch, pos, width);
			pos += (size_t)width;
			ch = df_utf8_decode((const unsigned char *)rest + pos, n - pos, &width);
		}
		word_rune(&w, ch, pos, width);
	}
	df_buf_release(&copy);
}

static int has_eq(struct df_span s)
{
	return memchr(s.ptr, '=', s.len) != NULL;
}

static const char *parse_name_val(struct df_arena *a, struct df_span rest, char esc,
				  const char *key, struct spans *args)
{
	struct spans words = { 0 };
	size_t i;

	parse_words(a, rest.ptr, rest.len, esc, &words);
	if (!words.n)
		return NULL;
	if (!has_eq(words.v[0])) {
		size_t k = 0, v;

		while (k < rest.len && !re_ws((unsigned char)rest.ptr[k]))
			k++;
		if (k == rest.len)
			return df_arena_printf(a, "%s must have two arguments", key);
		v = k;
		while (v < rest.len && re_ws((unsigned char)rest.ptr[v]))
			v++;
		spans_add(a, args, rest.ptr, k);
		spans_add(a, args, rest.ptr + v, rest.len - v);
		spans_add(a, args, "", 0);
		return NULL;
	}
	for (i = 0; i < words.n; i++) {
		const char *eq = memchr(words.v[i].ptr, '=', words.v[i].len);
		size_t k;

		if (!eq) {
			struct df_buf q = DF_BUF_INIT;
			const char *msg;

			df_go_quote(&q, words.v[i].ptr, words.v[i].len);
			msg = df_arena_printf(a, "Syntax error - can't find = in %s. "
					      "Must be of the form: name=value", q.ptr);
			df_buf_release(&q);
			return msg;
		}
		k = (size_t)(eq - words.v[i].ptr);
		spans_add(a, args, words.v[i].ptr, k);
		spans_add(a, args, eq + 1, words.v[i].len - k - 1);
		spans_add(a, args, "=", 1);
	}
	return NULL;
}

static void split_ws(struct df_arena *a, struct df_span rest, struct spans *args)
{
	size_t i = 0;

	if (!rest.len)
		return;
	for (;;) {
		size_t s = i;

		while (i < rest.len && !re_ws((unsigned char)rest.ptr[i]))
			i++;
		spans_add(a, args, rest.ptr + s, i - s);
		if (i == rest.len)
			break;
		while (i < rest.len && re_ws((unsigned char)rest.ptr[i]))
			i++;
	}
}

#define ERR_NOT_STRINGS "when using JSON array syntax, arrays must be comprised of strings only"

/* parseJSON: 1 = JSON strings in args, 0 = not JSON, -1 = error. */
static int parse_json(struct df_arena *a, struct df_span rest, struct spans *args)
{
	size_t sp = df_go_space_prefix(rest.ptr, rest.len);
	struct df_span *v;
	size_t nv, i;
	int r;

	if (sp == rest.len || rest.ptr[sp] != '[')
		return 0;
	r = df_go_json_strings(a, rest.ptr + sp, rest.len - sp, &v, &nv);
	if (r <= 0)
		return r;
	for (i = 0; i < nv; i++)
		spans_add(a, args, v[i].ptr, v[i].len);
	return 1;
}

static const char *maybe_json(struct df_arena *a, struct df_span rest, struct spans *args,
			      int *json, int *has_next)
{
	int r;

	if (!rest.len)
		return NULL;
	r = parse_json(a, rest, args);
	if (r < 0)
		return ERR_NOT_STRINGS;
	if (r > 0) {
		*json = 1;
		*has_next = args->n > 0;
		return NULL;
	}
	spans_add(a, args, rest.ptr, rest.len);
	*has_next = 1;
	return NULL;
}

static const char *maybe_json_list(struct df_arena *a, struct df_span rest, struct spans *args,
				   int *json, int *has_next)
{
	int r = parse_json(a, rest, args);

	if (r < 0)
		return ERR_NOT_STRINGS;
	if (r > 0)
		*json = 1;
	else
		split_ws(a, rest, args);
	*has_next = args->n > 0;
	return NULL;
}

static const char *health(struct df_arena *a, struct df_span rest, struct spans *args,
			  int *json, int *has_next)
{
	size_t sep = 0, next;
	struct df_span cmd;
	const char *err;

	while (sep < rest.len && !byte_space((unsigned char)rest.ptr[sep]))
		sep++;
	next = sep;
	while (next < rest.len && byte_space((unsigned char)rest.ptr[next]))
		next++;
	if (sep == 0)
		return NULL;
	spans_add(a, args, rest.ptr, sep);
	*has_next = 1;
	cmd.ptr = rest.ptr + next;
	cmd.len = rest.len - next;
	err = maybe_json(a, cmd, args, json, has_next);
	*has_next = 1;
	return err;
}

/* ---- heredoc detection (BuildKit: shell words of the line, always '\\') ---- */

struct words {
	struct df_buf cur;
	int inword;
	struct spans out;
};

static void w_raw(struct words *w, const char *p, size_t n)
{
	df_buf_add(&w->cur, p, n);
	w->inword = 1;
}

static void w_end(struct df_arena *a, struct words *w)
{
	if (w->cur.len)
		spans_add(a, &w->out, df_arena_dup(a, w->cur.ptr, w->cur.len), w->cur.len);
	df_buf_reset(&w->cur);
	w->inword = 0;
}

static void w_char(struct df_arena *a, struct words *w, const char *p, int width, int32_t r)
{
	if (df_go_isspace(r)) {
		if (w->inword && w->cur.len)
			w_end(a, w);
	} else {
		w_raw(w, p, (size_t)width);
	}
}

/* Find the '}' closing "${" at p[i] (i at '{'); returns index or n. */
static size_t brace_end(const char *p, size_t n, size_t i)
{
	int depth = 0;

	for (; i < n; i++) {
		if (p[i] == '\\' && i + 1 < n) {
			i++;
		} else if (p[i] == '{') {
			depth++;
		} else if (p[i] == '}') {
			if (--depth == 0)
				return i;
		}
	}
	return n;
}

/* ProcessWords with RawQuotes and RawEscapes. Returns -1 on a lexing error
 * (BuildKit then finds no heredoc at all). */
static int shell_words(struct df_arena *a, const char *p, size_t n, struct spans *out)
{
	struct words w;
	size_t i = 0;
	int rc = 0;

	memset(&w, 0, sizeof(w));
	while (i < n) {
		int width;
		int32_t r = df_utf8_decode((const unsigned char *)p + i, n - i, &width);

		if (r == '\'') {
			const char *q = memchr(p + i + 1, '\'', n - i - 1);

			if (!q) {
				rc = -1;
				break;
			}
			w_raw(&w, p + i, (size_t)(q - p) - i + 1);
			i = (size_t)(q - p) + 1;
		} else if (r == '"') {
			size_t j = i + 1;

			while (j < n && p[j] != '"') {
				if (p[j] == '\\' && j + 1 < n)
					j++;
				else if (p[j] == '$' && j + 1 < n && p[j + 1] == '{')
					j = brace_end(p, n, j + 1);
				if (j < n)
					j++;
			}
			if (j >= n) {
				rc = -1;
				break;
			}
			w_raw(&w, p + i, j - i + 1);
			i = j + 1;
		} else if (r == '$' && i + 1 < n && p[i + 1] == '{') {
			size_t j = brace_end(p, n, i + 1), k;

			if (j >= n) {
				rc = -1;
				break;
			}
			for (k = i; k <= j; k += (size_t)width) {
				int32_t c = df_utf8_decode((const unsigned char *)p + k, j + 1 - k, &width);

				w_char(a, &w, p + k, width, c);
			}
			i = j + 1;
		} else if (r == '\\') {
			w_raw(&w, p + i, 1);
			i++;
			if (i == n)
				break;
			r = df_utf8_decode((const unsigned char *)p + i, n - i, &width);
			w_raw(&w, p + i, (size_t)width);
			i += (size_t)width;
		} else {
			w_char(a, &w, p + i, width, r);
			i += (size_t)width;
		}
	}
	if (rc == 0) {
		w_end(a, &w);
		*out = w.out;
	}
	df_buf_release(&w.cur);
	return rc;
}

/* A word matching ^(\d*)<<(-?)([^<]*)$ with a non-empty name. */
static int heredoc_word(struct df_arena *a, struct df_span wd, struct df_heredoc *hd)
{
	size_t i = 0, d, j;
	struct df_buf name = DF_BUF_INIT;
	int quoted = 0, fd = 0, overflow = 0;
	const char *rest;
	size_t rn;

	while (i < wd.len && wd.ptr[i] >= '0' && wd.ptr[i] <= '9') {
		if (fd > 100000000)
			overflow = 1;
		fd = fd * 10 + (wd.ptr[i] - '0');
		i++;
	}
	d = i;
	if (wd.len - i < 2 || wd.ptr[i] != '<' || wd.ptr[i + 1] != '<')
		return 0;
	i += 2;
	memset(hd, 0, sizeof(*hd));
	if (i < wd.len && wd.ptr[i] == '-') {
		hd->chomp = 1;
		i++;
	}
	rest = wd.ptr + i;
	rn = wd.len - i;
	if (!rn || memchr(rest, '<', rn))
		return 0;
	/* the name: quotes removed, escapes processed */
	for (j = 0; j < rn; j++) {
		char c = rest[j];

		if (c == '\'') {
			const char *q = memchr(rest + j + 1, '\'', rn - j - 1);

			if (!q)
				goto fail;
			df_buf_add(&name, rest + j + 1, (size_t)(q - rest) - j - 1);
			j = (size_t)(q - rest);
			quoted = 1;
		} else if (c == '"') {
			j++;
			while (j < rn && rest[j] != '"') {
				if (rest[j] == '\\' && j + 1 < rn &&
				    (rest[j + 1] == '"' || rest[j + 1] == '\\' || rest[j + 1] == '$'))
					j++;
				df_buf_addc(&name, rest[j]);
				j++;
			}
			if (j >= rn)
				goto fail;
			quoted = 1;
		} else if (c == '\\') {
			if (j + 1 < rn)
				df_buf_addc(&name, rest[++j]);
		} else {
			df_buf_addc(&name, c);
		}
	}
	if (!name.len)
		goto fail;
	hd->name.ptr = df_arena_dup(a, name.ptr, name.len);
	hd->name.len = name.len;
	hd->expand = !quoted;
	hd->fd = overflow || d == 0 ? 0 : fd;
	df_buf_release(&name);
	return 1;
fail:
	df_buf_release(&name);
	return 0;
}

static void find_heredocs(struct df_arena *a, struct df_inst *inst, struct df_span line)
{
	const struct df_inst *t = inst->cmd == DF_CMD_ONBUILD && inst->sub ? inst->sub : inst;
	struct spans words = { 0 };
	struct df_heredoc *hd;
	size_t i, nh = 0;

	if (t->cmd != DF_CMD_RUN && t->cmd != DF_CMD_COPY && t->cmd != DF_CMD_ADD)
		return;
	if (t->json || !inst->has_lshift) /* no "<<": no heredoc */
		return;
	if (shell_words(a, line.ptr, line.len, &words) < 0)
		return;
	hd = df_arena_alloc(a, (words.n ? words.n : 1) * sizeof(*hd));
	for (i = 0; i < words.n; i++)
		if (heredoc_word(a, words.v[i], &hd[nh]))
			nh++;
	inst->heredocs = hd;
	inst->nheredocs = nh;
}

/* newNodeFromLine */
static struct df_inst *node_from_line(struct df_doc *doc, struct df_span line, size_t base,
				      const char **err)
{
	struct df_arena *a = &doc->arena;
	struct df_inst *inst = df_arena_alloc(a, sizeof(*inst));
	struct spans flags = { 0 }, args = { 0 };
	struct df_span t = trim_space(line.ptr, line.len), rest = { line.ptr + line.len, 0 };
	size_t k = 0;

	inst->logical = line;
	inst->log_base = base;
	while (k < t.len && !re_ws((unsigned char)t.ptr[k]))
		k++;
	inst->keyword.ptr = t.ptr;
	inst->keyword.len = k;
	if (k < t.len) {
		size_t v = k;

		while (v < t.len && re_ws((unsigned char)t.ptr[v]))
			v++;
		rest = extract_flags(a, t.ptr + v, t.len - v, &flags);
		rest = trim_space(rest.ptr, rest.len);
	}
	inst->rest = rest;
	inst->args_off = (size_t)(rest.ptr - line.ptr);
	inst->cmd = df_cmd_lookup(t.ptr, k);
	*err = NULL;
	switch (inst->cmd) {
	case DF_CMD_ADD:
	case DF_CMD_COPY:
	case DF_CMD_VOLUME:
		*err = maybe_json_list(a, rest, &args, &inst->json, &inst->has_next);
		break;
	case DF_CMD_ARG:
		parse_words(a, rest.ptr, rest.len, doc->escape, &args);
		inst->has_next = args.n > 0;
		break;
	case DF_CMD_CMD:
	case DF_CMD_ENTRYPOINT:
	case DF_CMD_RUN:
	case DF_CMD_SHELL:
		*err = maybe_json(a, rest, &args, &inst->json, &inst->has_next);
		break;
	case DF_CMD_ENV:
	case DF_CMD_LABEL:
		*err = parse_name_val(a, rest, doc->escape,
				      inst->cmd == DF_CMD_ENV ? "ENV" : "LABEL", &args);
		inst->has_next = args.n > 0;
		break;
	case DF_CMD_EXPOSE:
	case DF_CMD_FROM:
		split_ws(a, rest, &args);
		inst->has_next = args.n > 0;
		break;
	case DF_CMD_HEALTHCHECK:
		*err = health(a, rest, &args, &inst->json, &inst->has_next);
		break;
	case DF_CMD_MAINTAINER:
	case DF_CMD_STOPSIGNAL:
	case DF_CMD_USER:
	case DF_CMD_WORKDIR:
		if (rest.len) {
			spans_add(a, &args, rest.ptr, rest.len);
			inst->has_next = 1;
		}
		break;
	case DF_CMD_ONBUILD:
		if (rest.len) {
			inst->sub = node_from_line(doc, rest, base + inst->args_off, err);
			inst->has_next = 1;
		}
		break;
	case DF_CMD_UNKNOWN:
		spans_add(a, &args, "", 0);
		inst->has_next = 1;
		break;
	}
	inst->flags = flags.v;
	inst->nflags = flags.n;
	inst->args = args.v;
	inst->nargs = args.n;
	return inst;
}

struct df_inst *df_inst_build(struct df_doc *doc, const char *node_text,
			      struct df_piece *pieces, size_t npieces, size_t total,
			      const char **err)
{
	struct df_span line;
	struct df_inst *inst;

	if (npieces == 1) {
		line.ptr = node_text + pieces[0].node_off;
	} else {
		char *p = df_arena_alloc(&doc->arena, total + 1);
		size_t i;

		for (i = 0; i < npieces; i++)
			memcpy(p + pieces[i].log_off, node_text + pieces[i].node_off, pieces[i].len);
		line.ptr = p;
	}
	line.len = total;
	inst = node_from_line(doc, line, 0, err);
	{
		const char *p = line.ptr, *e = line.ptr + line.len;

		while ((p = memchr(p, '<', (size_t)(e - p))) != NULL && p + 1 < e && p[1] != '<')
			p++;
		inst->has_lshift = p && p + 1 < e;
	}
	inst->pieces = pieces;
	inst->npieces = npieces;
	if (inst->sub) {
		inst->sub->pieces = pieces;
		inst->sub->npieces = npieces;
	}
	if (!*err)
		find_heredocs(&doc->arena, inst, line);
	return inst;
}
