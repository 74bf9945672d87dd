/*
 * multi_stage_emit.c - the multi-stage pass's plan for the instructions
 * that behave alike in every ecosystem (ms_plan_compiled, the ARGs the
 * runtime uses) and the text of the two stages: node texts as written,
 * each with the comment and blank lines above it (the runtime's copy of an
 * instruction that is in both stages takes only its own comments), the
 * new instructions around them, and the COPY --from=builder lines.
 */
#include <string.h>

#include "multi_stage.h"

/* ---------------------------------------------------------------- plan helpers */

static int uses_var(const struct df_inst *inst, const char *name, size_t nl)
{
	const char *p = inst->logical.ptr, *end = p + inst->logical.len;

	while ((p = memchr(p, '$', (size_t)(end - p))) != NULL) {
		p++;
		if (p < end && *p == '{')
			p++;
		if ((size_t)(end - p) >= nl && memcmp(p, name, nl) == 0 &&
		    (p + nl == end || !(p[nl] == '_' || (p[nl] >= 'a' && p[nl] <= 'z') ||
					(p[nl] >= 'A' && p[nl] <= 'Z') || (p[nl] >= '0' && p[nl] <= '9'))))
			return 1;
	}
	return 0;
}

/* ARGs: in the builder where they were; in the runtime when it uses them. */
void ms_place_args(struct ms *ms)
{
	size_t i, j, k;

	for (i = 0; i < ms->nitems; i++) {
		struct ms_item *it = &ms->items[i];
		int used = 0;

		if (it->cmd != DF_CMD_ARG)
			continue;
		if (i > ms->last_build && ms->last_build != (size_t)-1) {
			ms_to(it, 0, 1);
			continue;
		}
		for (k = 0; k < it->inst->nargs && !used; k++) {
			struct df_span a = it->inst->args[k];
			size_t nl = 0;

			while (nl < a.len && a.ptr[nl] != '=')
				nl++;
			for (j = i + 1; j < ms->nitems && !used; j++) {
				const struct ms_item *o = &ms->items[j];
				char *name;

				if (!o->runtime || o->cmd == DF_CMD_ARG)
					continue;
				name = ms_strndup(ms, a.ptr, nl);
				used = uses_var(o->inst, name, nl) ||
				       (o->rtext && strstr(o->rtext, name));
			}
		}
		ms_to(it, 1, used);
	}
}

int ms_plan_compiled(struct ms *ms, int shell)
{
	size_t L = ms->last_build, i;

	for (i = 0; i < ms->nitems; i++) {
		struct ms_item *it = &ms->items[i];
		uint32_t line = ms->doc->nodes[it->idx].line;

		if (it->no_runtime) {
			ms_to(it, i <= L, 0);
			continue;
		}
		switch (it->cmd) {
		case DF_CMD_RUN:
			if (i <= L) {
				if ((it->kind & MS_K_SETUP) &&
				    !(it->kind & (MS_K_DEPS | MS_K_BUILD | MS_K_OTHER | MS_K_CD | MS_K_TOUCH)))
					ms_to(it, 1, shell);
				else
					ms_to(it, 1, 0);
				break;
			}
			if (it->kind & (MS_K_DEPS | MS_K_BUILD | MS_K_OTHER | MS_K_CD | MS_K_TOUCH))
				return ms_skip(ms, "the RUN at line %u after the build: dfix cannot "
					       "tell whether the runtime needs it", line);
			if (!shell)
				return ms_skip(ms, "the RUN at line %u needs a shell in the runtime", line);
			ms_to(it, 0, 1);
			break;
		case DF_CMD_COPY:
		case DF_CMD_ADD:
			ms_to(it, i <= L, i > L);
			break;
		default:
			ms_to_other(it, i, L);
			break;
		}
	}
	ms->ship_at = L + 1;
	return 0;
}

/* A runtime COPY onto a directory of the system (an app in / with lib/ or
 * bin/ output) would mix the builder's system files into the runtime. */
int ms_system_dirs(struct ms *ms)
{
	static const char *const sys[] = {
		"/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/libx32",
		"/media", "/mnt", "/opt", "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp",
		"/usr", "/var", "/usr/bin", "/usr/lib", "/usr/local", "/usr/local/bin",
		"/usr/local/lib", "/usr/share", "/usr/sbin", "/usr/include", "/var/lib", NULL
	};
	size_t i, k;

	for (i = 0; i < ms->nship; i++)
		for (k = 0; sys[k]; k++)
			if (strcmp(ms->ship[i].src, sys[k]) == 0 || strcmp(ms->ship[i].abs, sys[k]) == 0)
				return ms_skip(ms, "the runtime would copy %s, a directory of the system",
					       sys[k]);
	return 0;
}

/* ---------------------------------------------------------------- emit */

struct em {
	struct ms *ms;
	struct df_buf *out;
	int at_start; /* nothing emitted in this stage after FROM yet */
	int blank;    /* the last line emitted is blank */
};

static void em_text(struct em *e, const char *p, size_t n)
{
	if (!n)
		return;
	df_buf_add(e->out, p, n);
	if (p[n - 1] != '\n')
		df_buf_adds(e->out, e->ms->eol);
	e->at_start = 0;
	e->blank = 0;
}

static void em_nodes(struct em *e, size_t from, size_t to)
{
	size_t i;

	for (i = from; i < to; i++) {
		const struct df_node *n = &e->ms->doc->nodes[i];

		if (n->kind == DF_BLANK) {
			if (e->at_start || e->blank)
				continue;
			df_buf_add(e->out, n->text.ptr, n->text.len);
			if (!n->text.len || n->text.ptr[n->text.len - 1] != '\n')
				df_buf_adds(e->out, e->ms->eol);
			e->blank = 1;
			continue;
		}
		em_text(e, n->text.ptr, n->text.len);
	}
}

static void em_item(struct em *e, const struct ms_item *it, size_t lead, const char *text)
{
	const struct df_node *n = &e->ms->doc->nodes[it->idx];

	em_nodes(e, lead, it->idx);
	if (text)
		em_text(e, text, strlen(text));
	else
		em_text(e, n->text.ptr, n->text.len);
}

static int needs_json(const char *s)
{
	for (; *s; s++)
		if (*s == ' ' || *s == '\t' || *s == '"' || *s == '\'' || *s == '\\' || *s == '[')
			return 1;
	return 0;
}

static void em_ship(struct em *e, const char *wd)
{
	struct ms *ms = e->ms;
	size_t i;

	for (i = 0; i < ms->nship; i++) {
		struct df_buf b = DF_BUF_INIT;
		const struct ms_ship *s = &ms->ship[i];
		const char *dst = s->dst;

		if (dst == s->abs && wd)
			dst = ms_rel(ms, wd, s->abs);
		df_buf_adds(&b, "COPY --from=builder ");
		if (ms->ship_chown)
			df_buf_addf(&b, "--chown=%s ", ms->ship_chown);
		if (needs_json(s->src) || needs_json(dst)) {
			df_buf_addc(&b, '[');
			ms_json(&b, s->src);
			df_buf_adds(&b, ", ");
			ms_json(&b, dst);
			df_buf_addc(&b, ']');
		} else {
			df_buf_addf(&b, "%s %s", s->src, dst);
		}
		df_buf_adds(&b, ms->eol);
		em_text(e, b.ptr, b.len);
		df_buf_release(&b);
	}
}

/* The builder's FROM: image replaced when asked, named builder. */
static char *builder_from(struct ms *ms, const char **runtime_name)
{
	const struct df_inst *inst = ms->from_inst;
	struct ms_edit ed[2];
	size_t ne = 0;

	*runtime_name = NULL;
	if (ms->builder_image) {
		ed[ne].off = (size_t)(inst->args[0].ptr - inst->logical.ptr);
		ed[ne].end = ed[ne].off + inst->args[0].len;
		ed[ne].text = ms->builder_image;
		ne++;
	}
	if (inst->nargs == 3) {
		if (!df_span_ieq(inst->args[2], "builder")) {
			*runtime_name = ms_strndup(ms, inst->args[2].ptr, inst->args[2].len);
			ed[ne].off = (size_t)(inst->args[2].ptr - inst->logical.ptr);
			ed[ne].end = ed[ne].off + inst->args[2].len;
			ed[ne].text = "builder";
			ne++;
		}
	} else {
		ed[ne].off = ed[ne].end = inst->logical.len;
		ed[ne].text = " AS builder";
		ne++;
	}
	return ms_edit_inst(ms, ms->from.idx, inst, ed, ne);
}

void ms_emit(struct ms *ms, struct df_buf *out)
{
	const struct df_node *fn = &ms->doc->nodes[ms->from.idx];
	struct em e;
	const char *rname, *text, *rwd = NULL;
	size_t i, L = ms->last_build, last = ms->from.idx;

	memset(&e, 0, sizeof(e));
	e.ms = ms;
	e.out = out;
	text = builder_from(ms, &rname);
	em_text(&e, text ? text : fn->text.ptr, text ? strlen(text) : fn->text.len);
	e.at_start = 0; /* the builder keeps the blank lines of the original */
	for (i = 0; i < ms->nitems; i++) {
		const struct ms_item *it = &ms->items[i];

		last = it->idx;
		if (it->bbefore.len)
			em_text(&e, it->bbefore.ptr, it->bbefore.len);
		if (it->builder) {
			em_item(&e, it, it->lead, it->btext);
			if (it->bafter.len)
				em_text(&e, it->bafter.ptr, it->bafter.len);
		} else if (!it->runtime && i <= L) {
			em_nodes(&e, it->lead, it->idx);
		}
	}
	if (!e.blank)
		df_buf_adds(out, ms->eol);
	e.blank = 1;
	{
		struct df_buf b = DF_BUF_INIT;

		size_t f;

		df_buf_adds(&b, "FROM ");
		/* --platform as the original stage had it, unless it names the
		 * build's own platform (a cross-compiling builder) */
		for (f = 0; f < ms->from_inst->nflags; f++) {
			struct df_span fl = ms->from_inst->flags[f];

			if (!memchr(fl.ptr, '$', fl.len) || !strstr(ms_strndup(ms, fl.ptr, fl.len),
								   "BUILDPLATFORM"))
				df_buf_addf(&b, "%.*s ", (int)fl.len, fl.ptr);
		}
		df_buf_adds(&b, ms->runtime_image);
		if (rname)
			df_buf_addf(&b, " AS %s", rname);
		df_buf_adds(&b, ms->eol);
		em_text(&e, b.ptr, b.len);
		df_buf_release(&b);
	}
	e.at_start = 1;
	for (i = 0; i < ms->nitems; i++) {
		const struct ms_item *it = &ms->items[i];

		if (i == ms->ship_at)
			em_ship(&e, rwd);
		if (it->rbefore.len)
			em_text(&e, it->rbefore.ptr, it->rbefore.len);
		if (it->runtime) {
			em_item(&e, it, it->builder ? it->owned : it->lead, it->rtext);
			if (it->cmd == DF_CMD_WORKDIR)
				rwd = it->wd;
		} else if (!it->builder && i > L) {
			em_nodes(&e, it->lead, it->idx);
		}
	}
	if (ms->ship_at >= ms->nitems)
		em_ship(&e, rwd);
	if (ms->rtail.len)
		em_text(&e, ms->rtail.ptr, ms->rtail.len);
	e.at_start = 0;
	em_nodes(&e, last + 1, ms->end);
}

