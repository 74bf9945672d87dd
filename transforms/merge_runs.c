/*
 * merge_runs.c - merge-runs: consecutive shell-form RUNs of a stage become
 * one RUN joined with && (hadolint DL3059), one former RUN per continuation
 * line, every comment kept.
 *
 * `RUN a` then `RUN b` run `a` and `b` in two `/bin/sh -c` shells and stop
 * the build at the first failure: `a && b` in one shell does the same, as
 * long as `a` leaves nothing behind that `b` would see. So a RUN joins the
 * one before it only when:
 *   - both are shell-form RUNs (no heredoc, no exec form, not ONBUILD) in a
 *     stage whose shell is sh-like (default /bin/sh -c, or a SHELL naming
 *     sh/bash/dash/ash/ksh/zsh; pwsh, cmd and Windows images: left alone),
 *     with the same flags (--mount, --network, --security, ... as a set),
 *     and only comment and blank lines between them;
 *   - the shell view parses both, and neither uses control flow or
 *     bash-only syntax (script `complex`);
 *   - no `# dfix ignore=merge-runs` / `# hadolint ignore=DL3059` above
 *     either, and no other pragma comment between them (it would lose the
 *     instruction it applies to);
 *   - the earlier one does not run `set` (errexit would leak, and a
 *     subshell cannot carry it: `( set -e; a; b ) && c` ignores -e), does
 *     not start background jobs or daemons (`&`, nohup, service, ...: they
 *     would keep running in the next commands), and its trailing shell
 *     comment (if any) sits on its last line;
 *   - no tmpfs or read-write bind mount (writes to them would be seen by
 *     the next commands).
 * A RUN that changes shell state the next ones would see (cd, export,
 * umask, exit, exec, trap, a command name only known at run time, a bare
 * VAR=value when VAR is upper case or a later RUN reads $VAR, ...) is
 * wrapped in a subshell `( ... )` rather than left apart: the layer count
 * drops and `cd` cannot leak. One whose script is not a plain && chain
 * (`;`, `||`, `&`) is grouped as `{ ...; }` so the && that joins it applies
 * to the whole. The last RUN of a group is never wrapped for state (nothing
 * follows it), so `set -e` and `&` are fine there.
 * Under a SHELL with -e, an earlier RUN must be one AND-OR list without
 * `;` anywhere (-e is ignored inside a group that is not last).
 *
 * Layout: the first RUN keeps its bytes; each next one starts on a new
 * continuation line `    && ...` (or `... && \` when the file puts && at
 * line ends), its own continuation lines unchanged. Comment lines between
 * the RUNs and trailing `# ...` shell comments of the earlier RUNs become
 * comment lines inside the continuation (BuildKit drops them; the shell
 * never sees them). Blank lines between the RUNs are dropped (BuildKit
 * warns about empty continuation lines).
 */
#include <string.h>

#include "internal.h"
#include "runs.h"
#include "shell.h"


/* ---------------------------------------------------------------- shells */

static int windows_image(struct df_span img)
{
	return df_mem_ihas(img.ptr, img.len, "windows") || df_mem_ihas(img.ptr, img.len, "nanoserver") ||
	       df_mem_ihas(img.ptr, img.len, "servercore");
}

/* SHELL ["/bin/bash", "-o", "pipefail", "-c"] -> SH_OK (| SH_ERREXIT). */
static int shell_kind(const struct df_inst *inst)
{
	static const char *const names[] = { "sh", "bash", "dash", "ash", "ksh", "mksh",
					     "zsh", NULL };
	struct df_span a0;
	size_t i, k, slash = 0;
	int ok = 0, errexit = 0, want_o = 0, has_c = 0;

	if (!inst->json || inst->nargs < 2)
		return 0;
	a0 = inst->args[0];
	for (i = 0; i < a0.len; i++)
		if (a0.ptr[i] == '/')
			slash = i + 1;
	a0.ptr += slash;
	a0.len -= slash;
	for (k = 0; names[k]; k++)
		if (df_span_eq(a0, names[k]))
			ok = 1;
	if (!ok)
		return 0;
	for (i = 1; i < inst->nargs; i++) {
		struct df_span a = inst->args[i];

		if (want_o) {
			if (df_span_eq(a, "errexit"))
				errexit = 1;
			want_o = 0;
			continue;
		}
		if (a.len < 2 || a.ptr[0] != '-' || a.ptr[1] == '-') {
			if (a.len > 2 && a.ptr[0] == '-' && a.ptr[1] == '-')
				continue; /* --login, --norc */
			return 0;
		}
		for (k = 1; k < a.len; k++) {
			if (a.ptr[k] == 'e')
				errexit = 1;
			else if (a.ptr[k] == 'o')
				want_o = 1;
			else if (a.ptr[k] == 'c')
				has_c = i + 1 == inst->nargs && k + 1 == a.len;
		}
	}
	if (!has_c)
		return 0;
	return SH_OK | (errexit ? SH_ERREXIT : 0);
}

/* The stages with what merge-runs and layer-cleanup need (df_stages()):
 * FROM node, end, image, name, and base, the earlier stage the FROM names,
 * or -1. malloc'ed; *n stages. */
struct df_runs_stage *df_runs_stages(const struct df_doc *doc, size_t *n)
{
	struct df_stage *all = df_stages(doc, n);
	struct df_runs_stage *st = df_xcalloc(*n + 1, sizeof(*st));
	size_t i;

	for (i = 0; i < *n; i++) {
		st[i].from = all[i].from;
		st[i].end = all[i].end;
		st[i].image = all[i].image;
		st[i].name = all[i].name;
		st[i].base = all[i].base;
	}
	free(all);
	return st;
}

/*
 * Per node: the shell its RUN would use (SH_OK, SH_ERREXIT bits; 0 for a
 * non-sh shell or before the first FROM). A stage starts with /bin/sh -c,
 * or with the shell its base stage ended with; SHELL changes it.
 * malloc'ed, doc->nnodes entries (at least one); the caller frees.
 */
unsigned char *df_runs_shells(const struct df_doc *doc, const struct df_runs_stage *st, size_t ns)
{
	struct df_memo *m = df_doc_memo(doc);
	unsigned char *out, *endstate;
	size_t s, i;

	/* layer-cleanup and merge-runs both ask, about the same text */
	if (m->shells_at == doc->edits + 1) {
		out = df_xmalloc(doc->nnodes + 1);
		memcpy(out, m->shells, doc->nnodes + 1);
		return out;
	}
	out = df_xcalloc(doc->nnodes + 1, 1);
	endstate = df_xcalloc(ns + 1, 1);
	if (m->nwin_from != ns) { /* whether each stage's image is Windows, by its FROM */
		m->win_from = df_xrealloc(m->win_from, (ns + 1) * sizeof(*m->win_from));
		m->win_image = df_xrealloc(m->win_image, ns + 1);
		memset(m->win_from, 0, (ns + 1) * sizeof(*m->win_from));
		m->nwin_from = ns;
	}
	for (s = 0; s < ns; s++) {
		const struct df_inst *from = doc->nodes[st[s].from].inst;
		unsigned char state;

		if (st[s].base < 0 && m->win_from[s] != from) {
			m->win_image[s] = (unsigned char)windows_image(st[s].image);
			m->win_from[s] = from;
		}
		state = st[s].base >= 0 ? endstate[st[s].base] : m->win_image[s] ? 0 : SH_OK;

		for (i = st[s].from + 1; i < st[s].end; i++) {
			const struct df_node *n = &doc->nodes[i];

			if (n->kind == DF_INSTRUCTION && n->cmd == DF_CMD_SHELL && n->inst)
				state = (unsigned char)shell_kind(n->inst);
			out[i] = state;
		}
		endstate[s] = state;
	}
	free(endstate);
	m->shells = df_xrealloc(m->shells, doc->nnodes + 1);
	memcpy(m->shells, out, doc->nnodes + 1);
	m->shells_at = doc->edits + 1;
	return out;
}

/* ---------------------------------------------------------------- one RUN */

struct run {
	size_t idx;
	const struct df_node *n;
	const struct df_inst *inst;
	const char *base;     /* the parsed span: inst->rest */
	size_t nstart;        /* node offsets: script start, */
	size_t nbody;         /* end of its commands (trailing ';', blanks, comment out), */
	size_t ntail;         /* after a trailing ';' (blanks + comment follow), */
	size_t nend;          /* end of the text before the final newline, */
	size_t ncomment;      /* the trailing comment or (size_t)-1 */
	int plain;            /* depth-0 operators only && and | */
	int errexit_safe;     /* one AND-OR list, no ';' or '&' anywhere */
	int amp_end;          /* the script ends with '&' */
	int leaky;            /* changes shell state later commands see */
	int barrier;          /* set, background jobs, daemons: cannot go first */
	struct df_span *vars; /* shell variables it assigns (VAR=x alone) */
	size_t nvars;
	int tail_ok;          /* nothing but a movable comment after the commands */
	int trail;            /* the script ends with a comment */
	size_t ncmds;
};

static size_t map_start(const struct df_inst *inst, size_t x)
{
	return df_inst_node_off(inst, inst->args_off + x);
}

static size_t map_end(const struct df_inst *inst, size_t x)
{
	return x ? df_inst_node_off(inst, inst->args_off + x - 1) + 1 : map_start(inst, 0);
}

/* Is the unquoted word v in list? -1: its value is only known at run time. */
static int word_in(const char *v, const char *const *list)
{
	size_t k;

	if (!v)
		return -1;
	for (k = 0; list[k]; k++)
		if (v[0] == list[k][0] && strcmp(v, list[k]) == 0)
			return 1;
	return 0;
}

/* Commands whose effect outlives them in the same shell. */
static const char *const leaky_names[] = {
	"cd", "pushd", "popd", "export", "unset", "alias", "unalias", "umask", "shopt",
	"trap", "ulimit", "source", ".", "exec", "readonly", "local", "declare",
	"typeset", "eval", "shift", "hash", "exit", "return", "read", "getopts", "let",
	"mapfile", "readarray", "builtin", "enable", "set", NULL
};
/* Commands that leave processes running. */
static const char *const daemon_names[] = {
	"nohup", "setsid", "service", "systemctl", "start-stop-daemon", "rc-service",
	"daemon", "dockerd", "mysqld_safe", "supervisord", NULL
};

/*
 * VAR=value without a command: a later command sees it only through $VAR,
 * unless VAR is in the environment (then the shell exports the new
 * value). Names in upper case and the proxy variables are taken to be
 * environment variables: leaky. Others are remembered and leak only when
 * a later RUN of the group mentions them.
 */
static void assigned(struct df_arena *a, struct run *r, const char *p, size_t n)
{
	static const char *const env_lower[] = { "http_proxy", "https_proxy", "ftp_proxy",
						  "no_proxy", "all_proxy", NULL };
	size_t k = 0, i;
	int lower = 0;

	while (k < n && p[k] != '=')
		k++;
	for (i = 0; i < k; i++)
		if (p[i] >= 'a' && p[i] <= 'z')
			lower = 1;
	for (i = 0; env_lower[i]; i++)
		if (strlen(env_lower[i]) == k && memcmp(p, env_lower[i], k) == 0)
			lower = 0;
	if (!lower || !k) {
		r->leaky = 1;
		return;
	}
	if ((r->nvars & (r->nvars - 1)) == 0) { /* grow at powers of two */
		struct df_span *nv = df_arena_alloc(a, (r->nvars ? r->nvars * 2 : 1) * sizeof(*nv));

		if (r->nvars)
			memcpy(nv, r->vars, r->nvars * sizeof(*nv));
		r->vars = nv;
	}
	r->vars[r->nvars].ptr = p;
	r->vars[r->nvars].len = k;
	r->nvars++;
}

/* ---- which RUN of a group last mentions $name or ${name}: one scan */

struct names {
	struct df_span *key;
	size_t *last;  /* per slot: 1 + index of the last RUN mentioning it, 0 none */
	size_t mask;
};

static size_t name_hash(const char *p, size_t n)
{
	size_t h = 2166136261u, i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 16777619u;
	return h;
}

/* The slot of name, inserting it when add; (size_t)-1 when absent. */
static size_t name_slot(struct names *t, const char *p, size_t n, int add)
{
	size_t h = name_hash(p, n) & t->mask;

	while (t->key[h].ptr) {
		if (t->key[h].len == n && memcmp(t->key[h].ptr, p, n) == 0)
			return h;
		h = (h + 1) & t->mask;
	}
	if (!add)
		return (size_t)-1;
	t->key[h].ptr = p;
	t->key[h].len = n;
	return h;
}

static int is_name_char(char c)
{
	return c == '_' || (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z');
}

/* sub[i]: RUN i assigns a variable a later RUN of the group reads. */
static void vars_read_later(const struct run *r, size_t nr, unsigned char *sub)
{
	struct names t;
	size_t nv = 0, i, v, cap = 16;

	for (i = 0; i < nr; i++)
		nv += r[i].nvars;
	if (!nv)
		return;
	while (cap < 2 * nv)
		cap *= 2;
	t.key = df_xcalloc(cap, sizeof(*t.key));
	t.last = df_xcalloc(cap, sizeof(*t.last));
	t.mask = cap - 1;
	for (i = 0; i < nr; i++)
		for (v = 0; v < r[i].nvars; v++)
			name_slot(&t, r[i].vars[v].ptr, r[i].vars[v].len, 1);
	for (i = 0; i < nr; i++) {
		struct df_span x = r[i].inst->rest;
		size_t k = 0;

		while (k < x.len) {
			size_t s, e, h;

			if (x.ptr[k++] != '$')
				continue;
			s = k < x.len && x.ptr[k] == '{' ? k + 1 : k;
			for (e = s; e < x.len && is_name_char(x.ptr[e]); e++)
				;
			if (e > s && (h = name_slot(&t, x.ptr + s, e - s, 0)) != (size_t)-1)
				t.last[h] = i + 1;
		}
	}
	for (i = 0; i < nr; i++)
		for (v = 0; v < r[i].nvars; v++)
			if (t.last[name_slot(&t, r[i].vars[v].ptr, r[i].vars[v].len, 0)] > i + 1)
				sub[i] = 1;
	free(t.key);
	free(t.last);
}

/* a: scratch; keep: for r->vars. */
static void scan_commands(struct df_arena *a, struct df_arena *keep, struct run *r,
			  const struct df_sh_script *s)
{
	size_t k, w;
	size_t sub_end = 0; /* commands before this index are inside a subshell */
	int k2;

	for (k = 0; k < s->ncmds; k++) {
		const struct df_sh_cmd *c = &s->cmds[k];
		int name, in_sub = k < sub_end;

		if (c->op == DF_SH_OP_AMP)
			r->barrier = 1;
		if (c->kind == DF_SH_SUBSHELL && !in_sub)
			sub_end = k + 1 + c->ninner;
		if (c->kind != DF_SH_SIMPLE)
			continue;
		name = df_sh_cmd_name(r->base, c);
		for (w = 0; w < c->nwords; w++) {
			const struct df_sh_word *wd = &c->words[w];
			const char *v;

			if (wd->flags & (DF_SH_REDIR | DF_SH_ASSIGN | DF_SH_RESERVED))
				continue;
			if (name >= 0 && (int)w > name)
				break;
			/* the name, or a wrapper before it (exec, nohup, sudo, ...);
			 * a name only known at run time (-1) might be a builtin,
			 * unless it holds a '/' (then it is a path) */
			v = df_sh_unquote(a, r->base, wd, NULL);
			if (word_in(v, daemon_names) > 0)
				r->barrier = 1;
			if (df_sh_word_is(r->base, wd, "set"))
				r->barrier = 1;
			k2 = word_in(v, leaky_names);
			if (!in_sub && (k2 > 0 || (k2 < 0 && !memchr(r->base + wd->off, '/', wd->len))))
				r->leaky = 1;
		}
		if (name < 0 && !in_sub)
			for (w = 0; w < c->nwords; w++) {
				const struct df_sh_word *wd = &c->words[w];

				if (wd->flags & DF_SH_ASSIGN)
					assigned(keep, r, r->base + wd->off, wd->len);
				else if (wd->flags & DF_SH_REDIR)
					r->leaky = 1; /* `exec >log` forms, `>file` */
			}
	}
}

/* Which line of node n holds node offset off. */
static size_t line_at(const struct df_node *n, size_t off)
{
	size_t l;

	for (l = 0; l + 1 < n->nlines; l++)
		if (off < (size_t)n->lines[l + 1].off)
			return l;
	return n->nlines ? n->nlines - 1 : 0;
}

static int comment_lines_in(const struct df_node *n, size_t from, size_t to)
{
	size_t l;

	for (l = 0; l < n->nlines; l++)
		if (n->lines[l].kind == DF_LINE_COMMENT && n->lines[l].off >= from &&
		    n->lines[l].off < to)
			return 1;
	return 0;
}

/* Fill r for the RUN at idx; -1 when it is no candidate at all. The
 * shell view lives in a scratch arena: only what joining needs is kept. */
static int analyse(struct df_doc *doc, size_t idx, struct run *r)
{
	const struct df_node *n = &doc->nodes[idx];
	const struct df_inst *inst = n->inst;
	const struct df_sh_cmd *last = NULL;
	struct df_sh_script sh;
	struct df_arena scratch;
	size_t k, body_end, tail_start, l;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (n->kind != DF_INSTRUCTION || n->cmd != DF_CMD_RUN || !inst || inst->json ||
	    inst->nheredocs || !n->nlines || n->lines[n->nlines - 1].kind != DF_LINE_CODE)
		return -1;
	r->idx = idx;
	r->n = n;
	r->inst = inst;
	r->base = inst->rest.ptr;
	df_arena_init(&scratch);
	if (df_sh_parse_rest(doc, inst, &sh) < 0 ||
	    sh.complex || sh.has_heredoc || !sh.ncmds)
		goto out;
	r->ncmds = sh.ncmds;
	r->trail = sh.trail_len != 0;
	r->plain = r->errexit_safe = 1;
	for (k = 0; k < sh.ncmds; k++)
		if (sh.cmds[k].depth == 0)
			last = &sh.cmds[k];
	for (k = 0; k < sh.ncmds; k++) {
		const struct df_sh_cmd *c = &sh.cmds[k];

		if (c == last)
			continue;
		if (c->op == DF_SH_OP_SEMI || c->op == DF_SH_OP_NEWLINE || c->op == DF_SH_OP_AMP)
			r->errexit_safe = 0;
		if (c->depth == 0 && c->op != DF_SH_OP_AND && c->op != DF_SH_OP_PIPE)
			r->plain = 0;
		if (c->depth == 0 && c->op != DF_SH_OP_AND && c->op != DF_SH_OP_PIPE &&
		    c->op != DF_SH_OP_OR)
			r->errexit_safe = 0;
	}
	if (!last)
		goto out;
	body_end = last->end;
	tail_start = body_end;
	if (last->op == DF_SH_OP_AMP) {
		r->amp_end = 1;
		r->plain = r->errexit_safe = 0;
		body_end = tail_start = last->op_off + last->op_len;
	} else if (last->op == DF_SH_OP_SEMI) {
		tail_start = last->op_off + last->op_len;
	} else if (last->op != DF_SH_OP_NONE) {
		goto out;
	}
	scan_commands(&scratch, &doc->arena, r, &sh);
	r->nstart = map_start(inst, 0);
	r->nbody = map_end(inst, body_end);
	r->ntail = map_end(inst, tail_start);
	l = n->nlines - 1;
	r->nend = n->text.len - n->lines[l].eol;
	r->ncomment = (size_t)-1;
	if (sh.trail_len)
		r->ncomment = map_start(inst, sh.trail_off);
	/* what follows the commands can be dropped or moved: no comment lines,
	 * and the trailing comment (if any) starts on the last line */
	r->tail_ok = !comment_lines_in(n, r->nbody, r->nend) &&
		     (r->ncomment == (size_t)-1 || line_at(n, r->ncomment) == l) &&
		     r->nstart <= r->nbody && r->nbody <= r->ntail && r->ntail <= r->nend;
	rc = 0;
out:
	df_arena_release(&scratch);
	return rc;
}

/* ---------------------------------------------------------------- joining */

static int flags_equal(const struct df_inst *a, const struct df_inst *b)
{
	unsigned char used[64];
	size_t i, j;

	if (a->nflags != b->nflags || a->nflags > sizeof(used))
		return 0;
	memset(used, 0, sizeof(used));
	for (i = 0; i < a->nflags; i++) {
		for (j = 0; j < b->nflags; j++)
			if (!used[j] && a->flags[i].len == b->flags[j].len &&
			    memcmp(a->flags[i].ptr, b->flags[j].ptr, a->flags[i].len) == 0)
				break;
		if (j == b->nflags)
			return 0;
		used[j] = 1;
	}
	return 1;
}

/* A --mount whose writes the next commands would see: tmpfs, or a bind
 * mount (the default type) with rw. */
static int writable_mount(const struct df_inst *inst)
{
	size_t f;

	for (f = 0; f < inst->nflags; f++) {
		struct df_span m = inst->flags[f];
		size_t i = 8;
		int bind = 1, rw = 0;

		if (m.len < 8 || memcmp(m.ptr, "--mount=", 8) != 0)
			continue;
		while (i < m.len) {
			size_t s = i;
			struct df_span field;

			while (i < m.len && m.ptr[i] != ',')
				i++;
			field.ptr = m.ptr + s;
			field.len = i - s;
			if (field.len > 5 && memcmp(field.ptr, "type=", 5) == 0)
				bind = df_span_eq(field, "type=bind") || df_span_eq(field, "type=tmpfs") ?
				       2 : 0;
			if (df_span_eq(field, "type=tmpfs"))
				return 1;
			if (df_span_eq(field, "rw") || df_span_eq(field, "readwrite") ||
			    df_span_eq(field, "rw=true") || df_span_eq(field, "readwrite=true"))
				rw = 1;
			i++;
		}
		if (bind && rw)
			return 1;
	}
	return 0;
}

/* A comment line that configures a tool: it must stay above its instruction. */
static int is_pragma(const char *p, size_t n)
{
	size_t i = 1;

	if (!n || p[0] != '#')
		return 0;
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	return (n - i >= 4 && memcmp(p + i, "dfix", 4) == 0) ||
	       (n - i >= 8 && memcmp(p + i, "hadolint", 8) == 0);
}

/* May `next` be appended to a merged RUN that ends with `prev`? */
static int can_join(struct df_ctx *ctx, const struct df_doc *doc, const struct run *prev,
		    const struct run *next, int errexit)
{
	size_t i;

	if (prev->barrier || !prev->tail_ok || prev->amp_end)
		return 0;
	if (errexit && !prev->errexit_safe)
		return 0;
	if (!flags_equal(prev->inst, next->inst) || writable_mount(next->inst))
		return 0;
	if (df_pass_ignored(ctx, doc, prev->idx) || df_pass_ignored(ctx, doc, next->idx))
		return 0;
	for (i = prev->idx + 1; i < next->idx; i++) {
		const struct df_node *n = &doc->nodes[i];

		if (n->kind == DF_BLANK)
			continue;
		if (n->kind != DF_COMMENT || !n->nlines)
			return 0;
		if (is_pragma(n->text.ptr + n->lines[0].off + n->lines[0].indent, n->lines[0].body))
			return 0;
	}
	for (i = 0; i < next->n->nlines; i++) {
		const struct df_line *l = &next->n->lines[i];

		if (l->kind == DF_LINE_COMMENT && l->off < next->nstart &&
		    is_pragma(next->n->text.ptr + l->off + l->indent, l->body))
			return 0;
	}
	return 1;
}

/* ---------------------------------------------------------------- layout */

/* How the RUN at idx joins commands across lines: 1 when it puts && at
 * line ends (`a && \`), -1 when at line starts (`    && b`), 0 when it
 * does not say. */
int df_runs_style(const struct df_doc *doc, size_t idx)
{
	const struct df_node *n = &doc->nodes[idx];
	size_t l;
	int lead = 0, trail = 0;

	for (l = 0; l < n->nlines; l++) {
		const struct df_line *ln = &n->lines[l];
		const char *b = n->text.ptr + ln->off + ln->indent;
		size_t len = ln->body;

		if (ln->kind != DF_LINE_CODE)
			continue;
		if (l > 0 && len >= 2 && b[0] == '&' && b[1] == '&')
			lead++;
		while (len && (b[len - 1] == ' ' || b[len - 1] == '\t'))
			len--;
		if (ln->cont && len >= 2 && b[len - 1] == '&' && b[len - 2] == '&')
			trail++;
	}
	return trail > lead ? 1 : lead > trail ? -1 : 0;
}

/* The indent for new continuation lines: the shortest indent of the
 * continuation lines of the instructions first..last, or ctx->indent
 * spaces when they have none. */
void df_runs_indent(const struct df_ctx *ctx, const struct df_doc *doc, size_t first,
		    size_t last, struct df_buf *out)
{
	const char *best = NULL;
	size_t bestlen = 0, i, l;
	int k;

	for (i = first; i <= last && i < doc->nnodes; i++) {
		const struct df_node *n = &doc->nodes[i];
		int code = 0;

		if (n->kind != DF_INSTRUCTION)
			continue;
		for (l = 0; l < n->nlines; l++) {
			const struct df_line *ln = &n->lines[l];

			if (ln->kind != DF_LINE_CODE || code++ == 0 || !ln->indent || !ln->body)
				continue;
			if (!best || ln->indent < bestlen) {
				best = n->text.ptr + ln->off;
				bestlen = ln->indent;
			}
		}
	}
	df_buf_add(out, "", 0);
	if (best) {
		df_buf_add(out, best, bestlen);
		return;
	}
	for (k = 0; k < ctx->indent && k < 64; k++)
		df_buf_addc(out, ' ');
}

static void add_range(struct df_buf *b, const struct df_node *n, size_t from, size_t to)
{
	if (to > from)
		df_buf_add(b, n->text.ptr + from, to - from);
}

/* A comment line inside the continuation. */
static void add_comment_line(struct df_buf *b, const char *indent, const char *p, size_t n,
			     const char *eol)
{
	df_buf_adds(b, indent);
	df_buf_add(b, p, n);
	df_buf_adds(b, eol);
}

/* The script of r, wrapped if needed; `last`: keep its trailing comment. */
static int add_script(struct df_buf *b, const struct run *r, int last, int sub, int *wraps)
{
	int brace = !sub && !r->plain;

	if (!sub && !brace) {
		add_range(b, r->n, r->nstart, last ? r->nend : r->nbody);
		return 0;
	}
	(*wraps)++;
	df_buf_adds(b, sub ? "(" : "{ ");
	add_range(b, r->n, r->nstart, r->nbody);
	if (sub)
		df_buf_adds(b, ")");
	else
		df_buf_adds(b, r->amp_end ? " }" : "; }");
	if (last)
		add_range(b, r->n, r->ntail, r->nend);
	return 1;
}

/* The merged text of runs r[0..nr) (indices in doc, in order). */
static void build(struct df_ctx *ctx, const struct df_doc *doc, const struct run *r,
		  size_t nr, struct df_buf *b, int *wraps)
{
	struct df_buf ind = DF_BUF_INIT;
	const char *eol = df_doc_eol(doc);
	char esc[2] = { doc->escape, '\0' };
	size_t i, j, l;
	int trailing = 0;
	unsigned char *sub = df_xcalloc(nr, 1);

	/* a RUN runs in a subshell when it changes what the RUNs after it see */
	vars_read_later(r, nr, sub);
	for (i = 0; i + 1 < nr; i++)
		sub[i] |= (unsigned char)r[i].leaky;
	df_runs_indent(ctx, doc, r[0].idx, r[nr - 1].idx, &ind);
	for (i = 0; i < nr; i++)
		trailing += df_runs_style(doc, r[i].idx);
	trailing = trailing > 0;
	add_range(b, r[0].n, 0, r[0].nstart);
	add_script(b, &r[0], nr == 1, sub[0], wraps);
	for (i = 1; i < nr; i++) {
		const struct run *p = &r[i - 1], *c = &r[i];

		df_buf_adds(b, trailing ? " && " : " ");
		df_buf_adds(b, esc);
		df_buf_adds(b, eol);
		if (p->ncomment != (size_t)-1) {
			const struct df_line *ll = &p->n->lines[p->n->nlines - 1];
			size_t e = ll->off + ll->indent + ll->body;

			add_comment_line(b, ind.ptr, p->n->text.ptr + p->ncomment, e - p->ncomment, eol);
		}
		for (j = p->idx + 1; j < c->idx; j++) {
			const struct df_node *n = &doc->nodes[j];

			if (n->kind == DF_COMMENT)
				add_comment_line(b, ind.ptr, n->text.ptr + n->lines[0].off +
						 n->lines[0].indent, n->lines[0].body, eol);
		}
		for (l = 0; l < c->n->nlines; l++) {
			const struct df_line *ln = &c->n->lines[l];

			if (ln->kind == DF_LINE_COMMENT && ln->off < c->nstart)
				add_comment_line(b, ind.ptr, c->n->text.ptr + ln->off + ln->indent,
						 ln->body, eol);
		}
		df_buf_adds(b, ind.ptr);
		if (!trailing)
			df_buf_adds(b, "&& ");
		add_script(b, c, i + 1 == nr, sub[i], wraps);
	}
	{
		const struct df_line *ll = &r[nr - 1].n->lines[r[nr - 1].n->nlines - 1];

		df_buf_add(b, r[nr - 1].n->text.ptr + ll->off + ll->indent + ll->body + ll->cont,
			   ll->eol);
	}
	df_buf_release(&ind);
	free(sub);
}

/* Does text parse as one RUN whose shell script has the commands of all
 * the runs (plus the groups added), in the same order of names? Guards
 * against a comment swallowing a command or a continuation going wrong. */
static int check_merged(struct df_doc *doc, const char *text, size_t len, const struct run *r,
			size_t nr, int wraps)
{
	struct df_doc *frag = df_doc_parse_fragment(text, len, doc->escape);
	struct df_sh_script sh;
	const struct df_inst *inst;
	size_t want = (size_t)wraps, i;
	int ok = 0;

	for (i = 0; i < nr; i++)
		want += r[i].ncmds;
	if (frag->ndiags || frag->nnodes != 1 || frag->nodes[0].kind != DF_INSTRUCTION)
		goto out;
	inst = frag->nodes[0].inst;
	if (!inst || inst->cmd != DF_CMD_RUN || inst->json || inst->nheredocs ||
	    !flags_equal(inst, r[0].inst))
		goto out;
	if (df_sh_parse(&frag->arena, inst->rest.ptr, inst->rest.len, &sh) < 0 || sh.complex)
		goto out;
	if (sh.ncmds != want || (sh.trail_len != 0) != r[nr - 1].trail)
		goto out;
	ok = 1;
out:
	df_doc_free(frag);
	return ok;
}

/*
 * The merged text of the RUNs among nodes first..last (inclusive; only
 * comments and blank lines between them), appended to out. Checks every
 * rule above with ctx->current's pragmas; errexit: the stage's shell runs
 * with -e. Returns the number of RUNs merged, 0 when refused (out is
 * unchanged). Apply the text with df_runs_apply().
 */
int df_runs_merge_text(struct df_ctx *ctx, struct df_doc *doc, size_t first, size_t last,
		       int errexit, struct df_buf *out)
{
	struct run *r;
	struct df_buf b = DF_BUF_INIT;
	size_t i, nr = 0;
	int wraps = 0, merged = 0;

	if (first >= last || last >= doc->nnodes)
		return 0;
	r = df_xcalloc(last - first + 1, sizeof(*r));
	for (i = first; i <= last; i++) {
		enum df_node_kind k = doc->nodes[i].kind;

		if (k == DF_COMMENT || k == DF_BLANK)
			continue;
		if (analyse(doc, i, &r[nr]) < 0)
			goto out;
		if (nr && !can_join(ctx, doc, &r[nr - 1], &r[nr], errexit))
			goto out;
		nr++;
	}
	if (nr < 2 || r[0].idx != first || r[nr - 1].idx != last)
		goto out;
	build(ctx, doc, r, nr, &b, &wraps);
	if (!check_merged(doc, b.ptr, b.len, r, nr, wraps))
		goto out;
	df_buf_add(out, b.ptr, b.len);
	merged = (int)nr;
out:
	df_buf_release(&b);
	free(r);
	return merged;
}

/*
 * Replace node ranges [e[i].first, e[i].last] by the one instruction
 * parsed from buf[e[i].off .. +len], all at once: one parse, one pass over
 * the nodes, one arena block, so many edits stay linear (df_doc_replace
 * and df_doc_remove move the tail of the tree each time). Ranges ascend
 * and do not overlap; each keeps the line of its first node. Returns 0,
 * or -1 with the tree unchanged when the text does not parse into exactly
 * those instructions.
 */
int df_runs_apply(struct df_doc *doc, const struct df_runs_edit *e, size_t n, const char *buf,
		  size_t len)
{
	struct df_doc *frag;
	char *copy;
	size_t i, r, w, j;

	if (!n)
		return 0;
	for (i = 0; i < n; i++)
		if (e[i].first > e[i].last || e[i].last >= doc->nnodes ||
		    (i && e[i].first <= e[i - 1].last) || e[i].off + e[i].len > len)
			return -1;
	copy = df_arena_dup(&doc->arena, buf, len);
	frag = df_doc_parse_in(doc, copy, len);
	if (frag->ndiags || frag->nnodes != n) {
		df_doc_free(frag);
		return -1;
	}
	for (i = 0; i < n; i++)
		if (frag->nodes[i].kind != DF_INSTRUCTION || !frag->nodes[i].inst ||
		    frag->nodes[i].text.ptr != copy + e[i].off || frag->nodes[i].text.len != e[i].len) {
			df_doc_free(frag);
			return -1;
		}
	for (r = w = j = 0; r < doc->nnodes; r++) {
		if (j < n && r == e[j].first) {
			uint32_t line = doc->nodes[r].line;

			doc->nodes[w] = frag->nodes[j];
			doc->nodes[w++].line = line;
			r = e[j++].last;
			continue;
		}
		doc->nodes[w++] = doc->nodes[r];
	}
	doc->nnodes = w;
	doc->edits++;
	df_doc_free(frag);
	return 0;
}

/* ---------------------------------------------------------------- the pass */

static int run(struct df_ctx *ctx, struct df_doc *doc)
{
	size_t nst;
	struct df_runs_stage *st = df_runs_stages(doc, &nst);
	unsigned char *shells = df_runs_shells(doc, st, nst);
	struct df_runs_edit *ed = NULL;
	struct df_buf text = DF_BUF_INIT;
	size_t ned = 0, cap = 0, i, gfirst = 0, gcount = 0;
	struct run prev, cur;
	int have = 0, changes = 0, whole = 1; /* whole: every group merged all of its RUNs */
	unsigned char *settled = df_stages_settled(ctx, doc, nst); /* left so last time */
	size_t s = 0;

	for (i = 0; i <= doc->nnodes; i++) {
		const struct df_node *n = i < doc->nnodes ? &doc->nodes[i] : NULL;
		int cand;

		if (n && (n->kind == DF_COMMENT || n->kind == DF_BLANK))
			continue;
		while (s < nst && i >= st[s].end)
			s++;
		cand = n && (shells[i] & SH_OK) && !(s < nst && i > st[s].from && settled[s]) &&
		       analyse(doc, i, &cur) == 0 && !df_pass_ignored(ctx, doc, i);
		if (have && cand && can_join(ctx, doc, &prev, &cur, shells[i] & SH_ERREXIT)) {
			gcount++;
			prev = cur;
			continue;
		}
		if (have && gcount >= 2) {
			size_t off = text.len;
			int k = df_runs_merge_text(ctx, doc, gfirst, prev.idx,
						   (shells[gfirst] & SH_ERREXIT) != 0, &text);

			whole &= (size_t)k == gcount;
			if (k >= 2) {
				if (ned == cap) {
					cap = cap ? cap * 2 : 8;
					ed = df_xrealloc(ed, cap * sizeof(*ed));
				}
				ed[ned].first = gfirst;
				ed[ned].last = prev.idx;
				ed[ned].off = off;
				ed[ned].len = text.len - off;
				ed[ned].count = (size_t)k;
				ned++;
			}
		}
		have = cand;
		if (cand) {
			prev = cur;
			gfirst = i;
			gcount = 1;
		}
	}
	for (i = 0; i < ned; i++)
		ed[i].line = doc->nodes[ed[i].first].line;
	if (ned && df_runs_apply(doc, ed, ned, text.ptr, text.len) == 0) {
		for (i = 0; i < ned; i++)
			df_ctx_finding(ctx, "DL3059", ed[i].line, "merged %zu RUNs into one layer (DL3059)",
				       ed[i].count);
		changes = (int)ned;
		/* a merged RUN joins its neighbours as its first and last RUN
		 * did: no group is left to merge */
		ctx->self_settled = whole;
	}
	free(ed);
	df_buf_release(&text);
	free(shells);
	free(settled);
	free(st);
	return changes;
}

const struct df_pass df_pass_merge_runs = {
	.id = "merge-runs",
	.level = DF_LEVEL_SAFE,
	.codes = "DL3059",
	.summary = "merge consecutive RUN instructions into one layer",
	.doc =
	"Consecutive shell-form RUNs of a stage become one RUN joined with &&, one\n"
	"former RUN per continuation line. Comments between them and trailing\n"
	"`# ...` shell comments become comment lines inside the continuation, so\n"
	"none is lost and none swallows the next command. A script with `;`, `||`\n"
	"or `&` is grouped as `{ ...; }`; one that changes the shell's state\n"
	"(cd, export, umask, exit, ...) runs in a subshell `( ... )` so the next\n"
	"commands see what they saw before.\n"
	"\n"
	"Not merged: RUNs with different flags (--mount, --network, --security),\n"
	"heredoc or exec-form RUNs, ONBUILD, across a stage or any instruction,\n"
	"tmpfs or read-write bind mounts, after a RUN that runs `set`, starts\n"
	"background jobs or daemons, stages whose SHELL is not sh-like (pwsh,\n"
	"cmd, Windows images), scripts with control flow or bash-only syntax,\n"
	"and RUNs under `# dfix ignore=merge-runs` or `# hadolint ignore=DL3059`.",
	.run = run,
	.stage_local = 1,
};
