/* stages.c - the stages of a Dockerfile and which of them reach the final image. */
#include <string.h>

#include "internal.h"

static int find_stage(const struct df_stage *st, size_t n, struct df_span ref)
{
	size_t i;
	int all_digits = ref.len > 0;

	for (i = 0; i < ref.len; i++)
		if (ref.ptr[i] < '0' || ref.ptr[i] > '9')
			all_digits = 0;
	if (all_digits) {
		size_t k = 0;

		for (i = 0; i < ref.len && k < 1000000; i++)
			k = k * 10 + (size_t)(ref.ptr[i] - '0');
		return k < n ? (int)k : -1;
	}
	for (i = 0; i < n; i++)
		if (st[i].name.len && st[i].name.len == ref.len &&
		    df_mem_ieq(st[i].name.ptr, ref.ptr, ref.len))
			return (int)i;
	return -1;
}

/* Value of --NAME=value in a flag list (flags as BuildKit keeps them). */
static int flag_value(const struct df_inst *inst, const char *name, struct df_span *v)
{
	size_t nl = strlen(name), i;

	for (i = 0; i < inst->nflags; i++) {
		const struct df_span *f = &inst->flags[i];

		if (f->len > nl + 3 && memcmp(f->ptr, "--", 2) == 0 &&
		    memcmp(f->ptr + 2, name, nl) == 0 && f->ptr[nl + 2] == '=') {
			v->ptr = f->ptr + nl + 3;
			v->len = f->len - nl - 3;
			return 1;
		}
	}
	return 0;
}

/* from=NAME inside a --mount=... flag value */
static int mount_from(struct df_span m, struct df_span *v)
{
	size_t i = 0;

	while (i < m.len) {
		size_t s = i;

		while (i < m.len && m.ptr[i] != ',')
			i++;
		if (i - s > 5 && memcmp(m.ptr + s, "from=", 5) == 0) {
			v->ptr = m.ptr + s + 5;
			v->len = i - s - 5;
			return 1;
		}
		i++;
	}
	return 0;
}

struct df_stage *df_stages(const struct df_doc *doc, size_t *n)
{
	struct df_stage *st = NULL;
	size_t ns = 0, cap = 0, i, s;
	unsigned char *edge_any, *edge_copy; /* [a*ns+b]: stage a uses stage b */
	int changed;

	for (i = 0; i < doc->nnodes; i++) {
		const struct df_inst *inst = doc->nodes[i].inst;

		if (doc->nodes[i].kind != DF_INSTRUCTION || !inst || inst->cmd != DF_CMD_FROM)
			continue;
		if (ns == cap) {
			cap = cap ? cap * 2 : 4;
			st = df_xrealloc(st, cap * sizeof(*st));
		}
		memset(&st[ns], 0, sizeof(st[ns]));
		st[ns].from = i;
		if (ns)
			st[ns - 1].end = i;
		if (inst->nargs)
			st[ns].image = inst->args[0];
		if (inst->nargs == 3)
			st[ns].name = inst->args[2];
		ns++;
	}
	*n = ns;
	if (!ns)
		return st;
	st[ns - 1].end = doc->nnodes;
	st[ns - 1].is_final = 1;
	edge_any = df_xcalloc(ns * ns, 1);
	edge_copy = df_xcalloc(ns * ns, 1);
	for (s = 0; s < ns; s++) {
		int b = find_stage(st, s, st[s].image);

		if (b >= 0)
			edge_any[s * ns + (size_t)b] = 1;
		for (i = st[s].from + 1; i < st[s].end; i++) {
			const struct df_inst *inst = doc->nodes[i].inst;
			struct df_span v;
			size_t f;

			if (doc->nodes[i].kind != DF_INSTRUCTION || !inst)
				continue;
			if ((inst->cmd == DF_CMD_COPY || inst->cmd == DF_CMD_ADD) &&
			    flag_value(inst, "from", &v)) {
				b = find_stage(st, s, v);
				if (b >= 0)
					edge_any[s * ns + (size_t)b] = edge_copy[s * ns + (size_t)b] = 1;
			}
			if (inst->cmd == DF_CMD_RUN)
				for (f = 0; f < inst->nflags; f++) {
					struct df_span m = inst->flags[f];

					if (m.len > 8 && memcmp(m.ptr, "--mount=", 8) == 0) {
						m.ptr += 8;
						m.len -= 8;
						if (mount_from(m, &v) && (b = find_stage(st, s, v)) >= 0)
							edge_any[s * ns + (size_t)b] = 1;
					}
				}
		}
	}
	/* Files reach the final image from the final stage and from stages it
	 * builds on (FROM stage); a stage only copied from passes on just the
	 * copied files, so its own layers do not ship. */
	st[ns - 1].reaches_final = 1;
	do {
		changed = 0;
		for (s = 0; s < ns; s++) {
			size_t b;

			if (!st[s].reaches_final)
				continue;
			for (b = 0; b < ns; b++)
				if (edge_any[s * ns + b] && !edge_copy[s * ns + b] &&
				    !st[b].reaches_final) {
					st[b].reaches_final = 1;
					changed = 1;
				}
		}
	} while (changed);
	for (s = 0; s < ns; s++) {
		size_t a;
		int copied = 0, other = 0;

		for (a = 0; a < ns; a++) {
			if (edge_copy[a * ns + s])
				copied = 1;
			else if (edge_any[a * ns + s])
				other = 1;
		}
		st[s].only_copied_from = copied && !other;
	}
	free(edge_any);
	free(edge_copy);
	return st;
}
