/*
 * exec_form.c - exec-form: CMD and ENTRYPOINT in shell form become JSON exec
 * form when the command needs no shell (hadolint DL3025, BuildKit
 * JSONArgsRecommended).
 *
 * In shell form the program runs under /bin/sh -c: it is not PID 1, gets no
 * SIGTERM on `docker stop`, and the image needs a shell (distroless and
 * scratch have none). The rewrite is only done when splitting on blanks
 * gives exactly the words the shell would run: no variables, quotes,
 * escapes, globs, operators, redirections, comments or shell builtins.
 * An ENTRYPOINT is only rewritten when its stage has no CMD (exec form would
 * append the CMD's words) and no SHELL (a SHELL instruction gives shell form
 * another meaning); Windows files are left alone.
 */
#include <string.h>

#include "imageref.h"
#include "internal.h"

static int safe_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '.' || c == '/' || c == ':' || c == '=' ||
	       c == '@' || c == '%' || c == '+' || c == ',';
}

static const char *const builtins[] = {
	"cd", "export", "source", ".", "exec", "set", "unset", "ulimit", "umask", "eval",
	"trap", "alias", "if", "for", "while", "until", "case", "exit", "return", "shift",
	"read", "wait", "true", "false", "test", "[", "echo", "printf", "command", "type",
	"hash", "times", "readonly", "local", "let", "declare", "typeset", "function",
	"{", "!", "kill", "pwd", "getopts", "jobs", "fg", "bg", "sleep",
};

struct words {
	size_t off[64], len[64];
	size_t n;
};

/* Split on blanks; 0 when a word has anything a shell would interpret. */
static int split_plain(struct df_span s, struct words *w)
{
	size_t i = 0, k;

	w->n = 0;
	while (i < s.len) {
		size_t st;

		while (i < s.len && (s.ptr[i] == ' ' || s.ptr[i] == '\t'))
			i++;
		if (i == s.len)
			break;
		st = i;
		while (i < s.len && s.ptr[i] != ' ' && s.ptr[i] != '\t') {
			if (!safe_char((unsigned char)s.ptr[i]))
				return 0;
			i++;
		}
		if (w->n == sizeof(w->off) / sizeof(w->off[0]))
			return 0;
		w->off[w->n] = st;
		w->len[w->n] = i - st;
		w->n++;
	}
	if (!w->n)
		return 0;
	/* an assignment before the command (FOO=1 app) needs the shell */
	if (memchr(s.ptr + w->off[0], '=', w->len[0]))
		return 0;
	for (k = 0; k < sizeof(builtins) / sizeof(builtins[0]); k++)
		if (strlen(builtins[k]) == w->len[0] &&
		    memcmp(builtins[k], s.ptr + w->off[0], w->len[0]) == 0)
			return 0;
	return 1;
}

/* Does the node have comment or blank lines inside its continuation? */
static int has_inner_lines(const struct df_node *n)
{
	uint32_t i;

	for (i = 0; i < n->nlines; i++)
		if (n->lines[i].kind == DF_LINE_COMMENT || n->lines[i].kind == DF_LINE_BLANK)
			return 1;
	return 0;
}

static int convert(struct df_ctx *ctx, struct df_doc *doc, size_t idx)
{
	const struct df_node *n = &doc->nodes[idx];
	const struct df_inst *inst = n->inst;
	struct df_span r = inst->rest;
	struct df_buf b = DF_BUF_INIT;
	struct df_edits e = { 0 };
	struct words w;
	size_t off, start, end, i;

	if (inst->json || !r.len || inst->nheredocs || has_inner_lines(n) || !split_plain(r, &w))
		return 0;
	off = df_inst_log_off(inst, r);
	if (off == (size_t)-1)
		return 0;
	start = df_inst_node_off(inst, off);
	end = df_inst_node_off(inst, off + r.len - 1) + 1;
	if (end <= start)
		return 0;
	df_buf_addc(&b, '[');
	for (i = 0; i < w.n; i++) {
		if (i)
			df_buf_adds(&b, ", ");
		df_buf_addc(&b, '"');
		df_buf_add(&b, r.ptr + w.off[i], w.len[i]);
		df_buf_addc(&b, '"');
	}
	df_buf_addc(&b, ']');
	df_edits_add(&e, start, end, b.ptr, b.len);
	if (df_edits_apply(doc, idx, &e) == 0)
		df_ctx_finding(ctx, "DL3025", doc->nodes[idx].line,
			       "%s %.*s -> %s: exec form runs the program as PID 1, so it gets the "
			       "stop signal, and needs no /bin/sh", df_cmd_name(inst->cmd),
			       (int)r.len, r.ptr, b.ptr);
	else
		b.len = 0;
	i = b.len;
	df_buf_release(&b);
	return i ? 1 : 0;
}

static int run(struct df_ctx *ctx, struct df_doc *doc)
{
	struct df_stage *st;
	size_t ns, s, i;
	int changes = 0;

	if (doc->escape == '`')
		return 0;
	st = df_stages(doc, &ns);
	for (s = 0; s < ns; s++) {
		int has_cmd = 0, has_shell = 0;
		struct df_from f;

		if (df_stage_settled(ctx, doc, s) ||
		    (df_from_read(doc, st, ns, s, &f) == 0 && f.windows))
			continue;
		for (i = st[s].from + 1; i < st[s].end; i++) {
			const struct df_inst *inst = doc->nodes[i].inst;

			if (doc->nodes[i].kind != DF_INSTRUCTION || !inst)
				continue;
			has_cmd |= inst->cmd == DF_CMD_CMD;
			has_shell |= inst->cmd == DF_CMD_SHELL;
		}
		if (has_shell)
			continue;
		for (i = st[s].from + 1; i < st[s].end; i++) {
			const struct df_node *nd = &doc->nodes[i];

			if (nd->kind != DF_INSTRUCTION || !nd->inst ||
			    (nd->cmd != DF_CMD_CMD && nd->cmd != DF_CMD_ENTRYPOINT) ||
			    df_pass_ignored(ctx, doc, i))
				continue;
			if (nd->cmd == DF_CMD_CMD || (nd->cmd == DF_CMD_ENTRYPOINT && !has_cmd))
				changes += convert(ctx, doc, i);
		}
	}
	free(st);
	/* what it writes is exec form: not its to convert again */
	ctx->self_settled = changes > 0;
	return changes;
}

const struct df_pass df_pass_exec_form = {
	.id = "exec-form",
	.level = DF_LEVEL_REVIEW,
	.codes = "DL3025,JSONArgsRecommended",
	.summary = "CMD/ENTRYPOINT in JSON exec form when the command needs no shell",
	.doc = "CMD node server.js   ->   CMD [\"node\", \"server.js\"]\n"
	       "\n"
	       "In shell form the command runs under /bin/sh -c: the shell is PID 1, the\n"
	       "program does not get SIGTERM on `docker stop` (it is killed after the\n"
	       "timeout), and the image must have a shell. exec-form rewrites CMD and\n"
	       "ENTRYPOINT only when the command has no shell syntax at all: no variables,\n"
	       "quotes, escapes, globs, pipes, &&, ;, redirections or builtins; it is split\n"
	       "on blanks. An ENTRYPOINT is left alone when its stage also has a CMD (exec\n"
	       "form would pass the CMD to it as arguments), and stages with a SHELL\n"
	       "instruction and Windows images are left alone. Review the change: in exec\n"
	       "form `docker run IMAGE args` appends args to an ENTRYPOINT.\n",
	.run = run,
	.stage_local = 1,
};
