/*
 * lsp.c - `dfix lsp`: a language server on standard input and output.
 *
 * JSON-RPC 2.0 messages framed by a "Content-Length: N" header, one at a
 * time, answered in order (nothing runs concurrently, so $/cancelRequest
 * always arrives too late and is ignored). What it serves:
 *
 *   diagnostics   on didOpen/didChange: every finding of the passes at the
 *                 configured level (warnings; information for findings
 *                 that change nothing), parse errors as errors
 *   formatting    the format pass's edits (minimal: one per changed block);
 *                 no edits when the document does not parse
 *   rangeFormatting  those edits that touch the range
 *   codeAction    each finding's fix as a quick fix, "dfix: fix all safe"
 *                 and "dfix: ignore PASS here" (a `# dfix ignore=PASS`
 *                 pragma above the instruction)
 *
 * Positions are UTF-16 code units on lines ended by "\n", "\r\n" or "\r",
 * as LSP defines them; dfix works on bytes, so every position is converted
 * from or to a byte offset of the document.
 *
 * Settings come from initializationOptions (or workspace/didChangeConfiguration
 * as {"dfix": {...}}): {"level": "format"|"safe"|"all", "select": [ids],
 * "ignore": [ids], "base": "alpine"|"slim"|"distroless"|"keep"}. For a file:
 * URI the nearest .dfix.yaml applies too, as on the command line, the
 * editor's settings taking the place of command-line flags.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "config.h"
#include "lsp.h"
#include "report.h"

#define MAX_BODY ((size_t)64 << 20) /* larger messages are refused */
#define MAX_HEADER 8192

/* JSON-RPC and LSP error codes */
#define E_PARSE -32700
#define E_INVALID_REQUEST -32600
#define E_METHOD -32601
#define E_PARAMS -32602
#define E_INTERNAL -32603
#define E_NOT_INITIALIZED -32002

struct document {
	char *uri;
	char *text;
	size_t len;
	json_int_t version;
};

struct server {
	FILE *in, *out;
	int initialized, shutdown;
	struct document *docs;
	size_t ndocs;
	/* settings */
	enum df_level level;
	char base[16];
	unsigned char *select, *ignore; /* per registry index */
	int selected;
	unsigned keys;                  /* DF_CFG_* bits the settings gave */
	size_t npasses;
};

/* An error raised while handling a request: code and message. */
struct rpc_error {
	int code;
	char msg[256];
};

static int fail(struct rpc_error *e, int code, const char *msg)
{
	e->code = code;
	snprintf(e->msg, sizeof(e->msg), "%s", msg);
	return -1;
}

/* ---------------------------------------------------------------- framing */

static void send_json(struct server *s, json_t *msg)
{
	char *body;
	size_t n;

	json_object_set_new(msg, "jsonrpc", json_string("2.0"));
	body = json_dumps(msg, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(msg);
	if (!body)
		df_die("lsp: out of memory");
	n = strlen(body);
	fprintf(s->out, "Content-Length: %zu\r\n\r\n", n);
	fwrite(body, 1, n, s->out);
	free(body);
	if (fflush(s->out) != 0 || ferror(s->out))
		exit(1); /* the client is gone */
}

static void send_result(struct server *s, json_t *id, json_t *result)
{
	json_t *m = json_object();

	json_object_set(m, "id", id);
	json_object_set_new(m, "result", result ? result : json_null());
	send_json(s, m);
}

static void send_error(struct server *s, json_t *id, int code, const char *msg)
{
	json_t *m = json_object(), *e = json_object();

	json_object_set(m, "id", id ? id : json_null());
	json_object_set_new(e, "code", json_integer(code));
	json_object_set_new(e, "message", df_json_string(msg, strlen(msg)));
	json_object_set_new(m, "error", e);
	send_json(s, m);
}

static void send_notification(struct server *s, const char *method, json_t *params)
{
	json_t *m = json_object();

	json_object_set_new(m, "method", json_string(method));
	json_object_set_new(m, "params", params);
	send_json(s, m);
}

/* One header line without its line ending; -1 at EOF. */
static int read_header_line(FILE *in, char *buf, size_t size)
{
	size_t n = 0;
	int c;

	while ((c = getc(in)) != EOF && c != '\n')
		if (n + 1 < size)
			buf[n++] = (char)c;
	if (c == EOF && n == 0)
		return -1;
	if (n && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return (int)n;
}

/*
 * Read one message body into b. Returns 1 for a message, 0 at the end of
 * the input, -1 for a frame without a usable Content-Length (its body, if
 * any, cannot be found: the headers are skipped and reading goes on).
 */
static int read_message(struct server *s, struct df_buf *b)
{
	char line[MAX_HEADER];
	long long len = -1;
	int n, any = 0;

	for (;;) {
		n = read_header_line(s->in, line, sizeof(line));
		if (n < 0)
			return 0;
		if (n == 0) {
			if (!any)
				continue; /* stray blank line between messages */
			break;
		}
		any = 1;
		if (df_mem_ieq(line, "content-length:", 15)) {
			char *p = line + 15, *end;

			while (*p == ' ' || *p == '\t')
				p++;
			errno = 0;
			len = strtoll(p, &end, 10);
			while (*end == ' ' || *end == '\t')
				end++;
			if (end == p || *end || errno || len < 0)
				len = -2;
		}
	}
	if (len < 0)
		return -1;
	df_buf_reset(b);
	if ((unsigned long long)len > MAX_BODY) {
		long long k;

		for (k = 0; k < len && getc(s->in) != EOF; k++)
			;
		return -1;
	}
	df_buf_grow(b, (size_t)len);
	b->len = fread(b->ptr, 1, (size_t)len, s->in);
	b->ptr[b->len] = '\0';
	if (b->len < (size_t)len)
		return 0; /* truncated by the end of the input */
	return 1;
}

/* ---------------------------------------------------------------- positions */

/* Line starts as LSP counts lines: "\n", "\r\n" and "\r" end a line.
 * malloc'ed, *n lines (at least 1), v[*n] = len. */
static size_t *lsp_lines(const char *t, size_t len, size_t *n)
{
	size_t cap = 16, k = 0, i;
	size_t *v = df_xmalloc(cap * sizeof(*v));

	v[k++] = 0;
	for (i = 0; i < len; i++) {
		if (t[i] != '\n' && t[i] != '\r')
			continue;
		if (t[i] == '\r' && i + 1 < len && t[i + 1] == '\n')
			i++;
		if (k + 1 >= cap) {
			cap *= 2;
			v = df_xrealloc(v, cap * sizeof(*v));
		}
		v[k++] = i + 1;
	}
	v[k] = len;
	*n = k;
	return v;
}

/* Width of the UTF-8 sequence at p (1 for an invalid byte) and its UTF-16
 * length in *u. */
static size_t rune(const unsigned char *p, size_t n, int *u)
{
	int w = 0;

	*u = 1;
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		w = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		w = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		w = 4;
	if (!w || (size_t)w > n)
		return 1;
	for (int i = 1; i < w; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 1;
	if (w == 3 && ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0)))
		return 1;
	if (w == 4 && ((p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90)))
		return 1;
	if (w == 4)
		*u = 2;
	return (size_t)w;
}

/* End of line k's content (before its line ending). */
static size_t line_end(const char *t, const size_t *lines, size_t k)
{
	size_t e = lines[k + 1];

	if (e > lines[k] && t[e - 1] == '\n')
		e--;
	if (e > lines[k] && t[e - 1] == '\r')
		e--;
	return e;
}

static json_t *lsp_pos(const char *t, const size_t *lines, size_t n, size_t off)
{
	size_t lo = 0, hi = n, i, e;
	json_int_t ch = 0;
	json_t *o = json_object();

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (lines[mid] <= off)
			lo = mid;
		else
			hi = mid;
	}
	e = line_end(t, lines, lo);
	if (off > e)
		off = e; /* inside a "\r\n": the end of the line */
	for (i = lines[lo]; i < off;) {
		int u;

		i += rune((const unsigned char *)t + i, off - i, &u);
		ch += u;
	}
	json_object_set_new(o, "line", json_integer((json_int_t)lo));
	json_object_set_new(o, "character", json_integer(ch));
	return o;
}

static json_t *lsp_range(const char *t, const size_t *lines, size_t n, size_t s, size_t e)
{
	json_t *r = json_object();

	json_object_set_new(r, "start", lsp_pos(t, lines, n, s));
	json_object_set_new(r, "end", lsp_pos(t, lines, n, e));
	return r;
}

/* Byte offset of an LSP position (clamped to the document, as LSP asks:
 * a character past the end of the line means the end of the line). */
static int pos_off(const json_t *p, const char *t, const size_t *lines, size_t n,
		   size_t *off)
{
	json_t *jl = json_object_get(p, "line"), *jc = json_object_get(p, "character");
	json_int_t l, c;
	size_t i, e;

	if (!json_is_object(p) || !json_is_integer(jl) || !json_is_integer(jc))
		return -1;
	l = json_integer_value(jl);
	c = json_integer_value(jc);
	if (l < 0 || c < 0)
		return -1;
	if ((size_t)l >= n) {
		*off = lines[n];
		return 0;
	}
	e = line_end(t, lines, (size_t)l);
	for (i = lines[l]; i < e && c > 0;) {
		int u;
		size_t w = rune((const unsigned char *)t + i, e - i, &u);

		if (u > c)
			break; /* inside a surrogate pair: before the character */
		c -= u;
		i += w;
	}
	*off = i;
	return 0;
}

static int range_off(const json_t *r, const char *t, const size_t *lines, size_t n,
		     size_t *s, size_t *e)
{
	if (!json_is_object(r) ||
	    pos_off(json_object_get(r, "start"), t, lines, n, s) < 0 ||
	    pos_off(json_object_get(r, "end"), t, lines, n, e) < 0)
		return -1;
	if (*e < *s) {
		size_t x = *s;

		*s = *e;
		*e = x;
	}
	return 0;
}

/* ---------------------------------------------------------------- documents */

static struct document *find_doc(struct server *s, const char *uri)
{
	size_t i;

	for (i = 0; i < s->ndocs; i++)
		if (strcmp(s->docs[i].uri, uri) == 0)
			return &s->docs[i];
	return NULL;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The local path of a file: URI (percent-decoded), or NULL. */
static char *uri_path(const char *uri)
{
	struct df_buf b = DF_BUF_INIT;
	const char *p;

	if (strncmp(uri, "file://", 7) != 0)
		return NULL;
	p = uri + 7;
	if (*p != '/') { /* file://host/path: only the local host */
		if (strncmp(p, "localhost/", 10) != 0)
			return NULL;
		p += 9;
	}
	for (; *p && *p != '?' && *p != '#'; p++) {
		if (*p == '%' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
			char c = (char)(hexval(p[1]) * 16 + hexval(p[2]));

			if (c == '\0') {
				df_buf_release(&b);
				return NULL;
			}
			df_buf_addc(&b, c);
			p += 2;
		} else {
			df_buf_addc(&b, *p);
		}
	}
	return df_buf_detach(&b, NULL);
}

/* The settings, as a df_ctx for a run at `level` (or lower): the editor's,
 * then the nearest .dfix.yaml for what they leave open. Returns -1 with a
 * message when the configuration file is wrong. */
static int setup_ctx(struct server *s, struct df_ctx *ctx, enum df_level level,
		     const char *path, char **dir, char *err, size_t errsize)
{
	size_t i;
	struct stat st;
	char *cfgpath = NULL;
	int rc = 0;

	df_ctx_init(ctx);
	ctx->level = level < s->level ? level : s->level;
	if (*s->base)
		ctx->base = s->base;
	for (i = 0; i < s->npasses; i++)
		ctx->enabled[i] = df_passes[i]->level <= ctx->level &&
				  (!s->selected || s->select[i]) && !s->ignore[i];
	*dir = NULL;
	if (!path)
		return 0;
	ctx->path = path;
	{
		const char *slash = strrchr(path, '/');

		if (slash) {
			*dir = df_xstrndup(path, slash == path ? 1 : (size_t)(slash - path));
			if (stat(*dir, &st) == 0 && S_ISDIR(st.st_mode))
				ctx->context_dir = *dir;
		}
	}
	if (ctx->context_dir && df_config_find(path, &cfgpath)) {
		struct df_config cfg;
		char *msg = NULL;
		enum df_level want = ctx->level;

		if (df_config_load(cfgpath, &cfg, &msg) == 0) {
			df_config_apply(&cfg, path, ctx, s->keys);
			df_config_release(&cfg);
			if (ctx->level > want) /* the file only narrows a run */
				ctx->level = want;
		} else {
			snprintf(err, errsize, "%s", msg ? msg : cfgpath);
			rc = -1;
		}
		free(msg);
		free(cfgpath);
	}
	return rc;
}

/*
 * Run dfix on a document at a level. Returns 0 with *c filled (release it),
 * or -1 with a diagnostic's position (byte offset) and message when the
 * document does not parse or dfix refuses it.
 */
static int analyze(struct server *s, const struct document *d, enum df_level level,
		   struct df_changes *c, size_t *err_off, char *err, size_t errsize)
{
	struct df_doc *doc = df_doc_parse(d->text, d->len);
	const struct df_diag *bad = df_doc_validate(doc);
	struct df_buf out = DF_BUF_INIT;
	const char *why = NULL;
	char *path = uri_path(d->uri), *dir;
	struct df_ctx ctx;
	int rc = 0;

	if (bad) {
		size_t n, *lines = df_text_lines(d->text, d->len, &n), ln = bad->line;

		*err_off = 0;
		if (ln >= 1 && ln <= n) {
			*err_off = lines[ln - 1] + (bad->col > 1 ? bad->col - 1 : 0);
			if (*err_off > lines[ln])
				*err_off = lines[ln];
		}
		snprintf(err, errsize, "%s", bad->msg ? bad->msg : "invalid Dockerfile");
		free(lines);
		df_doc_free(doc);
		free(path);
		return -1;
	}
	df_doc_free(doc);
	if (setup_ctx(s, &ctx, level, path, &dir, err, errsize) != 0) {
		*err_off = 0;
		rc = -1;
	} else if (df_fix(&ctx, d->text, d->len, &out, &why) != 0) {
		*err_off = 0;
		snprintf(err, errsize, "%s", why ? why : "refusing to rewrite");
		rc = -1;
	} else {
		df_changes_build(c, &ctx, path ? path : d->uri, d->text, d->len,
				 out.ptr ? out.ptr : "", out.len);
	}
	df_ctx_release(&ctx);
	df_buf_release(&out);
	free(dir);
	free(path);
	return rc;
}

static json_t *diagnostic(const struct df_changes *c, const struct df_item *it,
			  const size_t *lines, size_t n)
{
	json_t *d = json_object();
	struct df_buf url = DF_BUF_INIT;

	json_object_set_new(d, "range", lsp_range(c->src, lines, n, it->start, it->end));
	json_object_set_new(d, "severity", json_integer(it->note ? 3 : 2));
	json_object_set_new(d, "code", df_json_string(it->code ? it->code : it->pass,
						      strlen(it->code ? it->code : it->pass)));
	df_rule_url(&url, it->code);
	if (url.len) {
		json_t *cd = json_object();

		json_object_set_new(cd, "href", json_string(url.ptr));
		json_object_set_new(d, "codeDescription", cd);
	}
	df_buf_release(&url);
	json_object_set_new(d, "source", json_string("dfix"));
	{
		struct df_buf m = DF_BUF_INIT;

		df_buf_addf(&m, "%s: %s", it->pass, it->msg);
		json_object_set_new(d, "message", df_json_string(m.ptr, m.len));
		df_buf_release(&m);
	}
	return d;
}

static void publish(struct server *s, const struct document *d)
{
	json_t *p = json_object(), *diags = json_array();
	struct df_changes c;
	char err[512];
	size_t eoff, n, *lines = lsp_lines(d->text, d->len, &n), i;

	if (analyze(s, d, DF_LEVEL_REVIEW, &c, &eoff, err, sizeof(err)) == 0) {
		for (i = 0; i < c.nitems; i++)
			json_array_append_new(diags, diagnostic(&c, &c.items[i], lines, n));
		df_changes_release(&c);
	} else {
		json_t *e = json_object();

		json_object_set_new(e, "range", lsp_range(d->text, lines, n, eoff, eoff));
		json_object_set_new(e, "severity", json_integer(1));
		json_object_set_new(e, "source", json_string("dfix"));
		json_object_set_new(e, "message", df_json_string(err, strlen(err)));
		json_array_append_new(diags, e);
	}
	free(lines);
	json_object_set_new(p, "uri", json_string(d->uri));
	json_object_set_new(p, "version", json_integer(d->version));
	json_object_set_new(p, "diagnostics", diags);
	send_notification(s, "textDocument/publishDiagnostics", p);
}

/* ---------------------------------------------------------------- params */

static const char *get_str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* params.textDocument.uri of an open document. */
static struct document *doc_param(struct server *s, json_t *params, struct rpc_error *e)
{
	json_t *td = json_object_get(params, "textDocument");
	const char *uri = get_str(td, "uri");
	struct document *d;

	if (!uri) {
		fail(e, E_PARAMS, "textDocument.uri: expected a string");
		return NULL;
	}
	d = find_doc(s, uri);
	if (!d)
		fail(e, E_PARAMS, "document is not open (send textDocument/didOpen first)");
	return d;
}

static int set_passes(struct server *s, unsigned char *set, json_t *list, struct rpc_error *e)
{
	size_t i, k;

	if (!list)
		return 0;
	if (!json_is_array(list))
		return fail(e, E_PARAMS, "select/ignore: expected an array of pass ids");
	for (i = 0; i < json_array_size(list); i++) {
		const char *id = json_string_value(json_array_get(list, i));

		if (!id || (strcmp(id, "all") && strcmp(id, "none") && !df_pass_find(id)))
			return fail(e, E_PARAMS, "select/ignore: unknown pass id (see dfix --list-passes)");
	}
	memset(set, 0, s->npasses);
	for (i = 0; i < json_array_size(list); i++) {
		const char *id = json_string_value(json_array_get(list, i));

		for (k = 0; k < s->npasses; k++)
			if (strcmp(df_passes[k]->id, id) == 0 || strcmp(id, "all") == 0)
				set[k] = 1;
	}
	return 0;
}

/* Apply a settings object; unknown keys are ignored. */
static int apply_settings(struct server *s, json_t *o, struct rpc_error *e)
{
	const char *level, *base;

	if (!o || json_is_null(o))
		return 0;
	if (!json_is_object(o))
		return fail(e, E_PARAMS, "settings: expected an object");
	level = get_str(o, "level");
	if (level) {
		s->keys |= DF_CFG_LEVEL;
		if (strcmp(level, "format") == 0)
			s->level = DF_LEVEL_FORMAT;
		else if (strcmp(level, "safe") == 0)
			s->level = DF_LEVEL_SAFE;
		else if (strcmp(level, "all") == 0 || strcmp(level, "review") == 0)
			s->level = DF_LEVEL_REVIEW;
		else
			return fail(e, E_PARAMS, "level: expected format, safe or all");
	}
	base = get_str(o, "base");
	if (base) {
		if (strcmp(base, "alpine") && strcmp(base, "slim") && strcmp(base, "distroless") &&
		    strcmp(base, "keep"))
			return fail(e, E_PARAMS, "base: expected alpine, slim, distroless or keep");
		snprintf(s->base, sizeof(s->base), "%s", base);
		s->keys |= DF_CFG_BASE;
	}
	if (json_object_get(o, "select")) {
		s->selected = 1;
		s->keys |= DF_CFG_SELECT;
		if (set_passes(s, s->select, json_object_get(o, "select"), e) < 0)
			return -1;
	}
	if (json_object_get(o, "ignore"))
		s->keys |= DF_CFG_IGNORE;
	return set_passes(s, s->ignore, json_object_get(o, "ignore"), e);
}

/* ---------------------------------------------------------------- methods */

static json_t *m_initialize(struct server *s, json_t *params, struct rpc_error *e)
{
	json_t *r, *caps, *sync, *ca, *kinds, *info;

	if (s->initialized) {
		fail(e, E_INVALID_REQUEST, "initialize was already received");
		return NULL;
	}
	if (apply_settings(s, json_object_get(params, "initializationOptions"), e) < 0)
		return NULL;
	r = json_object();
	caps = json_object();
	sync = json_object();
	ca = json_object();
	kinds = json_array();
	info = json_object();
	s->initialized = 1;
	json_object_set_new(caps, "positionEncoding", json_string("utf-16"));
	json_object_set_new(sync, "openClose", json_true());
	json_object_set_new(sync, "change", json_integer(1)); /* full */
	json_object_set_new(caps, "textDocumentSync", sync);
	json_object_set_new(caps, "documentFormattingProvider", json_true());
	json_object_set_new(caps, "documentRangeFormattingProvider", json_true());
	json_array_append_new(kinds, json_string("quickfix"));
	json_array_append_new(kinds, json_string("source.fixAll.dfix"));
	json_object_set_new(ca, "codeActionKinds", kinds);
	json_object_set_new(caps, "codeActionProvider", ca);
	json_object_set_new(r, "capabilities", caps);
	json_object_set_new(info, "name", json_string("dfix"));
	json_object_set_new(info, "version", json_string(DFIX_VERSION));
	json_object_set_new(r, "serverInfo", info);
	return r;
}

static int n_did_open(struct server *s, json_t *params, struct rpc_error *e)
{
	json_t *td = json_object_get(params, "textDocument");
	const char *uri = get_str(td, "uri");
	json_t *text = json_object_get(td, "text");
	struct document *d;

	if (!uri || !json_is_string(text))
		return fail(e, E_PARAMS, "textDocument: expected uri and text");
	d = find_doc(s, uri);
	if (!d) {
		s->docs = df_xrealloc(s->docs, (s->ndocs + 1) * sizeof(*s->docs));
		d = &s->docs[s->ndocs++];
		d->uri = df_xstrndup(uri, strlen(uri));
	} else {
		free(d->text);
	}
	d->len = json_string_length(text);
	d->text = df_xstrndup(json_string_value(text), d->len);
	d->version = json_integer_value(json_object_get(td, "version"));
	publish(s, d);
	return 0;
}

static int n_did_change(struct server *s, json_t *params, struct rpc_error *e)
{
	struct document *d = doc_param(s, params, e);
	json_t *changes = json_object_get(params, "contentChanges"), *ch;
	size_t i;

	if (!d)
		return -1;
	if (!json_is_array(changes))
		return fail(e, E_PARAMS, "contentChanges: expected an array");
	json_array_foreach(changes, i, ch) {
		json_t *text = json_object_get(ch, "text"), *range = json_object_get(ch, "range");
		struct df_buf b = DF_BUF_INIT;
		size_t n, *lines, s0, e0;

		if (!json_is_string(text))
			return fail(e, E_PARAMS, "contentChanges[].text: expected a string");
		if (!range) { /* full text */
			free(d->text);
			d->len = json_string_length(text);
			d->text = df_xstrndup(json_string_value(text), d->len);
			continue;
		}
		/* an incremental change, though full sync was asked for */
		lines = lsp_lines(d->text, d->len, &n);
		if (range_off(range, d->text, lines, n, &s0, &e0) < 0) {
			free(lines);
			return fail(e, E_PARAMS, "contentChanges[].range: expected a range");
		}
		free(lines);
		df_buf_add(&b, d->text, s0);
		df_buf_add(&b, json_string_value(text), json_string_length(text));
		df_buf_add(&b, d->text + e0, d->len - e0);
		free(d->text);
		d->text = df_buf_detach(&b, &d->len);
	}
	if (json_is_integer(json_object_get(json_object_get(params, "textDocument"), "version")))
		d->version = json_integer_value(
			json_object_get(json_object_get(params, "textDocument"), "version"));
	publish(s, d);
	return 0;
}

static int n_did_close(struct server *s, json_t *params, struct rpc_error *e)
{
	struct document *d = doc_param(s, params, e);
	json_t *p;

	if (!d)
		return -1;
	p = json_object();
	json_object_set_new(p, "uri", json_string(d->uri));
	json_object_set_new(p, "diagnostics", json_array());
	send_notification(s, "textDocument/publishDiagnostics", p);
	free(d->uri);
	free(d->text);
	*d = s->docs[--s->ndocs];
	return 0;
}

static int n_did_change_configuration(struct server *s, json_t *params, struct rpc_error *e)
{
	json_t *settings = json_object_get(params, "settings");
	size_t i;

	if (json_is_object(settings) && json_object_get(settings, "dfix"))
		settings = json_object_get(settings, "dfix");
	if (apply_settings(s, settings, e) < 0)
		return -1;
	for (i = 0; i < s->ndocs; i++)
		publish(s, &s->docs[i]);
	return 0;
}

/* TextEdits of hunks (indices; NULL = all) that pass the filter. */
static json_t *text_edits(const struct df_changes *c, const size_t *which, size_t n,
			  const size_t *lines, size_t nl, int has_range, size_t rs, size_t re)
{
	json_t *edits = json_array();
	size_t i;

	if (!which)
		n = c->nhunks;
	for (i = 0; i < n; i++) {
		const struct df_hunk *h = &c->hunks[which ? which[i] : i];
		json_t *te;

		if (has_range && !(h->start < re && rs < h->end) &&
		    !(h->start == h->end && rs <= h->start && h->start <= re) &&
		    !(rs == re && h->start <= rs && rs <= h->end))
			continue;
		te = json_object();
		json_object_set_new(te, "range", lsp_range(c->src, lines, nl, h->start, h->end));
		json_object_set_new(te, "newText", df_json_string(c->out + h->new_start,
								  h->new_end - h->new_start));
		json_array_append_new(edits, te);
	}
	return edits;
}

static json_t *m_formatting(struct server *s, json_t *params, struct rpc_error *e, int ranged)
{
	struct document *d = doc_param(s, params, e);
	struct df_changes c;
	char err[512];
	size_t eoff, n, *lines, rs = 0, re = 0;
	json_t *r;

	if (!d)
		return NULL;
	lines = lsp_lines(d->text, d->len, &n);
	if (ranged && range_off(json_object_get(params, "range"), d->text, lines, n, &rs, &re) < 0) {
		free(lines);
		fail(e, E_PARAMS, "range: expected a range");
		return NULL;
	}
	if (analyze(s, d, DF_LEVEL_FORMAT, &c, &eoff, err, sizeof(err)) != 0) {
		free(lines);
		return json_array(); /* does not parse: nothing to format */
	}
	r = text_edits(&c, NULL, 0, lines, n, ranged, rs, re);
	df_changes_release(&c);
	free(lines);
	return r;
}

static json_t *workspace_edit(const char *uri, json_t *edits)
{
	json_t *we = json_object(), *changes = json_object();

	json_object_set_new(changes, uri, edits);
	json_object_set_new(we, "changes", changes);
	return we;
}

/* Does the client's context.only allow this kind? */
static int kind_ok(json_t *only, const char *kind)
{
	size_t i, n;
	json_t *v;

	if (!json_is_array(only))
		return 1;
	json_array_foreach(only, i, v) {
		const char *k = json_string_value(v);

		if (!k)
			continue;
		n = strlen(k);
		if (strncmp(kind, k, n) == 0 && (kind[n] == '\0' || kind[n] == '.'))
			return 1;
	}
	return 0;
}

static json_t *action(const char *title, const char *kind, json_t *diag, json_t *edit)
{
	json_t *a = json_object();

	json_object_set_new(a, "title", df_json_string(title, strlen(title)));
	json_object_set_new(a, "kind", json_string(kind));
	if (diag) {
		json_t *ds = json_array();

		json_array_append_new(ds, diag);
		json_object_set_new(a, "diagnostics", ds);
	}
	json_object_set_new(a, "edit", edit);
	return a;
}

/* Is `# dfix ignore=` at the start of [p, p+n) (after '#')? Returns the
 * length of the comment without its line ending, or 0. */
static size_t ignore_pragma(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (i >= n || p[i] != '#')
		return 0;
	i++;
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (n - i < 12 || memcmp(p + i, "dfix", 4) != 0 || (p[i + 4] != ' ' && p[i + 4] != '\t'))
		return 0;
	i += 4;
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (n - i < 7 || memcmp(p + i, "ignore=", 7) != 0)
		return 0;
	while (n && (p[n - 1] == '\n' || p[n - 1] == '\r' || p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	return n;
}

/* "dfix: ignore PASS here": add PASS to a `# dfix ignore=` comment directly
 * above the instruction, or insert one with the instruction's indentation. */
static json_t *ignore_action(const struct df_changes *c, const struct df_item *it,
			     const char *uri, const size_t *lines, size_t nl, json_t *diag)
{
	size_t ls = c->lines[it->line - 1], k = it->line - 1, s, e;
	struct df_buf title = DF_BUF_INIT, text = DF_BUF_INIT;
	json_t *edits = json_array(), *te = json_object(), *a;

	/* comment lines directly above, nearest first */
	while (k > 0) {
		size_t ps = c->lines[k - 1], pe = c->lines[k], t = ps, plen;

		while (t < pe && (c->src[t] == ' ' || c->src[t] == '\t'))
			t++;
		if (t >= pe || c->src[t] != '#')
			break;
		plen = ignore_pragma(c->src + ps, pe - ps);
		if (plen) {
			s = e = ps + plen;
			df_buf_addf(&text, ",%s", it->pass);
			goto found;
		}
		k--;
	}
	s = e = ls;
	df_buf_add(&text, c->src + ls, it->start > ls ? it->start - ls : 0); /* indentation */
	df_buf_addf(&text, "# dfix ignore=%s", it->pass);
	{
		size_t le = c->lines[it->line];

		df_buf_adds(&text, le >= 2 && c->src[le - 1] == '\n' && c->src[le - 2] == '\r'
				   ? "\r\n" : "\n");
	}
found:
	json_object_set_new(te, "range", lsp_range(c->src, lines, nl, s, e));
	json_object_set_new(te, "newText", df_json_string(text.ptr, text.len));
	json_array_append_new(edits, te);
	df_buf_addf(&title, "dfix: ignore %s here", it->pass);
	a = action(title.ptr, "quickfix", diag, workspace_edit(uri, edits));
	df_buf_release(&title);
	df_buf_release(&text);
	return a;
}

static json_t *m_code_action(struct server *s, json_t *params, struct rpc_error *e)
{
	struct document *d = doc_param(s, params, e);
	json_t *only = json_object_get(json_object_get(params, "context"), "only");
	json_t *acts;
	struct df_changes c;
	char err[512];
	size_t eoff, n, *lines, rs, re, i, k;

	if (!d)
		return NULL;
	lines = lsp_lines(d->text, d->len, &n);
	if (range_off(json_object_get(params, "range"), d->text, lines, n, &rs, &re) < 0) {
		free(lines);
		fail(e, E_PARAMS, "range: expected a range");
		return NULL;
	}
	acts = json_array();
	if (analyze(s, d, DF_LEVEL_REVIEW, &c, &eoff, err, sizeof(err)) != 0) {
		free(lines);
		return acts;
	}
	for (i = 0; i < c.nitems; i++) {
		const struct df_item *it = &c.items[i];
		size_t ls = c.nlines ? c.lines[it->line - 1] : 0, le = it->end;
		int dup = 0;

		/* the finding's line (or instruction) meets the requested range */
		while (le < c.len && c.src[le] != '\n' && c.src[le] != '\r')
			le++;
		if (!(ls <= re && rs <= le))
			continue;
		if (kind_ok(only, "quickfix") && (it->nhunks || it->inside != DF_NONE)) {
			const size_t *which = it->nhunks ? it->hunks : &it->inside;
			struct df_buf title = DF_BUF_INIT;
			json_t *a;

			df_buf_addf(&title, "dfix: %s (%s)", it->msg, it->pass);
			a = action(title.ptr, "quickfix", diagnostic(&c, it, lines, n),
				   workspace_edit(d->uri, text_edits(&c, which, it->nhunks ?
								     it->nhunks : 1,
								     lines, n, 0, 0, 0)));
			if (it->level == DF_LEVEL_FORMAT || it->level == DF_LEVEL_SAFE)
				json_object_set_new(a, "isPreferred", json_true());
			json_array_append_new(acts, a);
			df_buf_release(&title);
		}
		for (k = 0; k < i; k++) /* one pragma per pass and line */
			if (c.items[k].line == it->line && strcmp(c.items[k].pass, it->pass) == 0)
				dup = 1;
		if (!dup && kind_ok(only, "quickfix") && df_pass_find(it->pass) && c.nlines)
			json_array_append_new(acts, ignore_action(&c, it, d->uri, lines, n,
								  diagnostic(&c, it, lines, n)));
	}
	df_changes_release(&c);
	if (kind_ok(only, "source.fixAll.dfix") &&
	    analyze(s, d, DF_LEVEL_SAFE, &c, &eoff, err, sizeof(err)) == 0) {
		if (c.nhunks)
			json_array_append_new(acts, action("dfix: fix all safe", "source.fixAll.dfix", NULL,
						    workspace_edit(d->uri, text_edits(&c, NULL, 0, lines,
										      n, 0, 0, 0))));
		df_changes_release(&c);
	}
	free(lines);
	return acts;
}

/* ---------------------------------------------------------------- dispatch */

/* Handle one request (id != NULL) or notification. Returns 1 on exit. */
static int dispatch(struct server *s, const char *method, json_t *id, json_t *params)
{
	struct rpc_error e = { 0, "" };
	json_t *result = NULL;
	int rc = 0;

	if (strcmp(method, "exit") == 0)
		return 1;
	if (!s->initialized && strcmp(method, "initialize") != 0) {
		if (id)
			send_error(s, id, E_NOT_INITIALIZED, "server not initialized");
		return 0;
	}
	if (s->shutdown) {
		if (id)
			send_error(s, id, E_INVALID_REQUEST, "shutdown was requested");
		return 0;
	}
	if (params && !json_is_object(params) && !json_is_array(params)) {
		if (id)
			send_error(s, id, E_PARAMS, "params: expected an object or an array");
		return 0;
	}
	if (id) {
		if (strcmp(method, "initialize") == 0) {
			result = json_is_object(params) ? m_initialize(s, params, &e) : NULL;
			if (!json_is_object(params))
				fail(&e, E_PARAMS, "initialize: expected params");
		} else if (strcmp(method, "shutdown") == 0) {
			s->shutdown = 1;
			result = json_null();
		} else if (strcmp(method, "textDocument/formatting") == 0) {
			result = m_formatting(s, params, &e, 0);
		} else if (strcmp(method, "textDocument/rangeFormatting") == 0) {
			result = m_formatting(s, params, &e, 1);
		} else if (strcmp(method, "textDocument/codeAction") == 0) {
			result = m_code_action(s, params, &e);
		} else {
			fail(&e, E_METHOD, "method not found");
		}
		if (result)
			send_result(s, id, result);
		else
			send_error(s, id, e.code ? e.code : E_INTERNAL, e.msg[0] ? e.msg : "internal error");
		return 0;
	}
	/* notifications: errors cannot be answered; report them in the log */
	if (strcmp(method, "textDocument/didOpen") == 0)
		rc = n_did_open(s, params, &e);
	else if (strcmp(method, "textDocument/didChange") == 0)
		rc = n_did_change(s, params, &e);
	else if (strcmp(method, "textDocument/didClose") == 0)
		rc = n_did_close(s, params, &e);
	else if (strcmp(method, "workspace/didChangeConfiguration") == 0)
		rc = n_did_change_configuration(s, params, &e);
	/* initialized, didSave, $/cancelRequest, $/setTrace, ...: nothing to do */
	if (rc < 0) {
		json_t *p = json_object();
		struct df_buf m = DF_BUF_INIT;

		df_buf_addf(&m, "dfix: %s: %s", method, e.msg);
		json_object_set_new(p, "type", json_integer(1));
		json_object_set_new(p, "message", df_json_string(m.ptr, m.len));
		send_notification(s, "window/logMessage", p);
		df_buf_release(&m);
	}
	return 0;
}

/* One framed message. Returns 1 when the server must exit. */
static int handle(struct server *s, const char *body, size_t len)
{
	json_error_t err;
	json_t *msg = json_loadb(body, len, 0, &err), *id, *method;
	int rc;

	if (!msg) {
		char m[300];

		snprintf(m, sizeof(m), "parse error: %s", err.text);
		send_error(s, NULL, E_PARSE, m);
		return 0;
	}
	if (!json_is_object(msg)) {
		send_error(s, NULL, E_INVALID_REQUEST, "invalid request: expected an object");
		json_decref(msg);
		return 0;
	}
	id = json_object_get(msg, "id");
	method = json_object_get(msg, "method");
	if (id && !json_is_string(id) && !json_is_integer(id) && !json_is_null(id)) {
		send_error(s, NULL, E_INVALID_REQUEST, "invalid request: bad id");
		json_decref(msg);
		return 0;
	}
	if (!method) {
		/* a response to a request of ours (we send none): ignore it */
		if (!id || (!json_object_get(msg, "result") && !json_object_get(msg, "error")))
			send_error(s, id, E_INVALID_REQUEST, "invalid request: no method");
		json_decref(msg);
		return 0;
	}
	if (!json_is_string(method)) {
		send_error(s, id, E_INVALID_REQUEST, "invalid request: method is not a string");
		json_decref(msg);
		return 0;
	}
	rc = dispatch(s, json_string_value(method), id && !json_is_null(id) ? id : NULL,
		      json_object_get(msg, "params"));
	json_decref(msg);
	return rc;
}

int df_lsp_main(FILE *in, FILE *out)
{
	struct server s;
	struct df_buf body = DF_BUF_INIT;
	size_t i;
	int r, done = 0;

	memset(&s, 0, sizeof(s));
	s.in = in;
	s.out = out;
	s.level = DF_LEVEL_REVIEW;
	while (df_passes[s.npasses])
		s.npasses++;
	s.select = df_xcalloc(s.npasses + 1, 1);
	s.ignore = df_xcalloc(s.npasses + 1, 1);
	signal(SIGPIPE, SIG_IGN);
	while (!done) {
		r = read_message(&s, &body);
		if (r == 0)
			break;
		if (r < 0) {
			send_error(&s, NULL, E_PARSE, "parse error: a message without a valid "
				   "Content-Length header");
			continue;
		}
		done = handle(&s, body.ptr, body.len);
	}
	for (i = 0; i < s.ndocs; i++) {
		free(s.docs[i].uri);
		free(s.docs[i].text);
	}
	free(s.docs);
	free(s.select);
	free(s.ignore);
	df_buf_release(&body);
	return s.shutdown ? 0 : 1;
}
