/* stages.c - the stages of a Dockerfile and which of them reach the final image. */
#include <string.h>

#include "internal.h"

int df_stage_find(const struct df_stage *st, size_t n, struct df_span ref)
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

/* A use of stage b by stage a: through FROM/--mount (any) or COPY --from. */
struct edge {
	size_t a, b;
	int copy;
};

static void add_edge(struct edge **e, size_t *n, size_t *cap, size_t a, size_t b, int copy)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		*e = df_xrealloc(*e, *cap * sizeof(**e));
	}
	(*e)[*n].a = a;
	(*e)[*n].b = b;
	(*e)[*n].copy = copy;
	(*n)++;
}

struct df_stage *df_stages(const struct df_doc *doc, size_t *n)
{
	struct df_stage *st = NULL;
	struct edge *e = NULL;
	size_t ns = 0, cap = 0, ne = 0, ecap = 0, i, s, k;
	unsigned char *copied, *other;
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
	for (s = 0; s < ns; s++) {
		int b = df_stage_find(st, s, st[s].image);

		if (b >= 0)
			add_edge(&e, &ne, &ecap, s, (size_t)b, 0);
		for (i = st[s].from + 1; i < st[s].end; i++) {
			const struct df_inst *inst = doc->nodes[i].inst;
			struct df_span v;
			size_t f;

			if (doc->nodes[i].kind != DF_INSTRUCTION || !inst)
				continue;
			if ((inst->cmd == DF_CMD_COPY || inst->cmd == DF_CMD_ADD) &&
			    df_inst_flag(inst, "from", &v) && (b = df_stage_find(st, s, v)) >= 0)
				add_edge(&e, &ne, &ecap, s, (size_t)b, 1);
			if (inst->cmd == DF_CMD_RUN)
				for (f = 0; f < inst->nflags; f++) {
					struct df_span m = inst->flags[f];

					if (m.len > 8 && memcmp(m.ptr, "--mount=", 8) == 0) {
						m.ptr += 8;
						m.len -= 8;
						if (mount_from(m, &v) && (b = df_stage_find(st, s, v)) >= 0)
							add_edge(&e, &ne, &ecap, s, (size_t)b, 0);
					}
				}
		}
	}
	/* Files reach the final image from the final stage and from stages it
	 * builds on (FROM stage, mounts); a stage only copied from passes on just
	 * the copied files, so its own layers do not ship. Edges always point to
	 * earlier stages, so one backward sweep settles it. */
	st[ns - 1].reaches_final = 1;
	do {
		changed = 0;
		for (k = ne; k-- > 0;)
			if (!e[k].copy && st[e[k].a].reaches_final && !st[e[k].b].reaches_final) {
				st[e[k].b].reaches_final = 1;
				changed = 1;
			}
	} while (changed);
	copied = df_xcalloc(ns, 1);
	other = df_xcalloc(ns, 1);
	for (k = 0; k < ne; k++) {
		if (e[k].copy)
			copied[e[k].b] = 1;
		else
			other[e[k].b] = 1;
	}
	for (s = 0; s < ns; s++)
		st[s].only_copied_from = copied[s] && !other[s];
	free(copied);
	free(other);
	free(e);
	return st;
}
