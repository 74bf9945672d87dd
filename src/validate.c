/* validate.c - what BuildKit rejects beyond its parser: the checks its
 * instruction layer makes before a build starts, so that dfix never rewrites
 * a Dockerfile that cannot build (and says why, with a position). */
#include <string.h>

#include "internal.h"

static const struct df_diag *diag(struct df_doc *doc, uint32_t line, uint32_t col,
				  const char *msg)
{
	df_doc_add_diag(doc, line, col, msg);
	return &doc->diags[doc->ndiags - 1];
}

/* Column (1-based, bytes) of the keyword on the node's first code line. */
static uint32_t keyword_col(const struct df_node *n)
{
	const struct df_inst *inst = n->inst;
	size_t off = df_inst_node_off(inst, (size_t)(inst->keyword.ptr - inst->logical.ptr));
	size_t ls = 0, i;

	for (i = 0; i < n->nlines; i++)
		if (n->lines[i].off <= off)
			ls = n->lines[i].off;
	return (uint32_t)(off - ls + 1);
}

static const char *check_inst(struct df_arena *a, const struct df_inst *inst, int trigger)
{
	const char *kw = df_cmd_name(inst->cmd);

	switch (inst->cmd) {
	case DF_CMD_UNKNOWN:
		return df_arena_printf(a, "unknown instruction: %.*s", (int)inst->keyword.len,
				       inst->keyword.ptr);
	case DF_CMD_FROM:
		if (trigger)
			return "FROM isn't allowed as an ONBUILD trigger";
		if (inst->nargs != 1 && !(inst->nargs == 3 && df_span_ieq(inst->args[1], "AS")))
			return "FROM requires either one or three arguments";
		break;
	case DF_CMD_COPY:
	case DF_CMD_ADD:
		if (inst->nargs < 2 && !(inst->nargs == 1 && inst->nheredocs))
			return df_arena_printf(a, "%s requires at least two arguments, but only %s was provided. Destination could not be determined",
					       kw, inst->nargs ? "one" : "none");
		break;
	case DF_CMD_ONBUILD:
		if (trigger)
			return "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed";
		if (!inst->sub)
			return "ONBUILD requires at least one argument";
		if (inst->sub->cmd == DF_CMD_MAINTAINER)
			return "MAINTAINER isn't allowed as an ONBUILD trigger";
		return check_inst(a, inst->sub, 1);
	case DF_CMD_ENV:
	case DF_CMD_LABEL:
	case DF_CMD_ARG:
	case DF_CMD_EXPOSE:
	case DF_CMD_VOLUME:
		if (!inst->nargs && !inst->json)
			return df_arena_printf(a, "%s requires at least one argument", kw);
		break;
	case DF_CMD_MAINTAINER:
	case DF_CMD_WORKDIR:
	case DF_CMD_USER:
	case DF_CMD_STOPSIGNAL:
		if (!inst->nargs)
			return df_arena_printf(a, "%s requires exactly one argument", kw);
		break;
	case DF_CMD_HEALTHCHECK:
		if (inst->nargs) {
			if (df_span_ieq(inst->args[0], "NONE")) {
				if (inst->nargs > 1)
					return "HEALTHCHECK NONE takes no arguments";
			} else if (!df_span_ieq(inst->args[0], "CMD")) {
				return df_arena_printf(a, "Unknown type \"%.*s\" in HEALTHCHECK (try CMD)",
						       (int)inst->args[0].len, inst->args[0].ptr);
			} else if (inst->nargs < 2) {
				return "Missing command after HEALTHCHECK CMD";
			}
		}
		break;
	case DF_CMD_SHELL:
		if (!inst->json)
			return "SHELL requires the arguments to be in JSON form";
		break;
	default:
		break;
	}
	return NULL;
}

const char *df_inst_refused(struct df_arena *a, const struct df_inst *inst)
{
	/* RUN, CMD and ENTRYPOINT have nothing to check: not read */
	if (inst->cmd == DF_CMD_RUN || inst->cmd == DF_CMD_CMD || inst->cmd == DF_CMD_ENTRYPOINT)
		return NULL;
	return check_inst(a, inst, 0);
}

const struct df_diag *df_doc_validate(struct df_doc *doc)
{
	const struct df_diag *d = df_doc_error(doc);
	const char *nul;
	size_t i;
	int stage = 0;

	if (doc->ndiags)
		return &doc->diags[0];
	nul = memchr(doc->src.ptr, '\0', doc->src.len);
	if (nul) {
		size_t off = (size_t)(nul - doc->src.ptr), k, line = 1, ls = 0;

		for (k = 0; k < off; k++)
			if (doc->src.ptr[k] == '\n') {
				line++;
				ls = k + 1;
			}
		return diag(doc, (uint32_t)line, (uint32_t)(off - ls + 1),
			    "binary data (NUL byte): not a Dockerfile");
	}
	if (d)
		return d;
	for (i = 0; i < doc->nnodes; i++) {
		const struct df_node *n = &doc->nodes[i];
		const char *msg;

		if (n->kind != DF_INSTRUCTION || !n->inst)
			continue;
		if (stage && doc->edits == 0) {
			/* the parse checked every model: go to the first it refused */
			if (!doc->first_refused || doc->first_refused - 1 < i)
				return NULL;
			i = doc->first_refused - 1;
			n = &doc->nodes[i];
		}
		msg = df_inst_refused(&doc->arena, n->inst);
		if (!msg && !stage && n->cmd != DF_CMD_FROM && n->cmd != DF_CMD_ARG)
			msg = "no build stage in current context: the first instruction must be FROM (ARG may come before it)";
		if (msg)
			return diag(doc, n->line, keyword_col(n), msg);
		if (n->cmd == DF_CMD_FROM)
			stage = 1;
	}
	return NULL;
}

int df_doc_invalid_after_reparse(struct df_doc *doc)
{
	const struct df_memo *m = doc->memo;
	size_t w, i;

	if (!m || m->win_at != doc->edits + 1)
		return df_doc_validate(doc) != NULL;
	if (doc->ndiags)
		return 1;
	/* the instructions up to the first FROM: ARG only */
	for (i = 0; i < doc->nnodes; i++) {
		const struct df_node *n = &doc->nodes[i];

		if (n->kind != DF_INSTRUCTION || !n->inst)
			continue;
		if (n->cmd == DF_CMD_FROM)
			break;
		if (n->cmd != DF_CMD_ARG)
			return 1;
	}
	if (i == doc->nnodes) /* no FROM: the whole check says what is wrong */
		return df_doc_validate(doc) != NULL;
	for (w = 0; w + 1 < m->nwin; w += 2)
		for (i = m->win[w]; i < m->win[w + 1]; i++) {
			const struct df_node *n = &doc->nodes[i];

			if (memchr(n->text.ptr, '\0', n->text.len))
				return 1;
			if (n->kind == DF_ERROR ||
			    (n->kind == DF_INSTRUCTION && n->inst && check_inst(&doc->arena, n->inst, 0)))
				return 1;
		}
	return 0;
}
