/* stages.c - the stages of a Dockerfile and which of them reach the final image. */
#include <stdint.h>
#include <string.h>

#include "internal.h"

int df_stage_find(const struct df_stage *st, size_t n, struct df_span ref)
{
	size_t i;

	if (df_span_digits(ref)) {
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

/* Stage names, for lookups in linear time: name -> first stage. */
struct names {
	size_t *slot; /* index + 1, 0 = empty */
	size_t cap;   /* power of two */
};

static size_t name_hash(struct df_span s)
{
	size_t h = 1469598103934665603u, i;

	for (i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.ptr[i];

		h = (h ^ (c >= 'A' && c <= 'Z' ? c + 32 : c)) * 1099511628211u;
	}
	return h;
}

static void names_build(struct names *t, const struct df_stage *st, size_t ns)
{
	size_t i;

	t->cap = 16;
	while (t->cap < 2 * ns + 2)
		t->cap *= 2;
	t->slot = df_xcalloc(t->cap, sizeof(*t->slot));
	for (i = 0; i < ns; i++) {
		size_t h;

		if (!st[i].name.len)
			continue;
		for (h = name_hash(st[i].name) & (t->cap - 1); t->slot[h]; h = (h + 1) & (t->cap - 1)) {
			const struct df_span *o = &st[t->slot[h] - 1].name;

			if (o->len == st[i].name.len && df_mem_ieq(o->ptr, st[i].name.ptr, o->len))
				break;
		}
		if (!t->slot[h])
			t->slot[h] = i + 1;
	}
}

/* df_stage_find with the table: same answers. */
static int names_find(const struct names *t, const struct df_stage *st, size_t n,
		      struct df_span ref)
{
	size_t h;

	if (df_span_digits(ref))
		return df_stage_find(st, n, ref); /* a number: no search */
	for (h = name_hash(ref) & (t->cap - 1); t->slot[h]; h = (h + 1) & (t->cap - 1)) {
		size_t k = t->slot[h] - 1;

		if (st[k].name.len == ref.len && df_mem_ieq(st[k].name.ptr, ref.ptr, ref.len))
			return k < n ? (int)k : -1;
	}
	return -1;
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


static size_t relevant(const struct df_doc *doc, const struct df_inst ***rel, size_t *relcap,
		       size_t **at);
struct names;
static struct df_stage *compute(const struct df_doc *doc, const struct df_inst **rel,
				const size_t *at, size_t nrel, size_t *n, struct names *names);

/* Every pass asks, most of them each round: keep the answer until the next
 * edit, and give each caller its own copy. */
static struct df_memo *stages_memo(const struct df_doc *doc);

struct df_stage *df_stages(const struct df_doc *doc, size_t *n)
{
	struct df_memo *m = stages_memo(doc);
	struct df_stage *st;

	*n = m->nstages;
	st = df_xmalloc((m->nstages + 1) * sizeof(*st));
	if (m->nstages)
		memcpy(st, m->stages, m->nstages * sizeof(*st));
	return st;
}

static inline uint64_t mix(uint64_t h, uint64_t v)
{
	h = (h ^ v) * 0x9E3779B97F4A7C15u;
	return h ^ (h >> 31);
}

/* The nodes [a, b) into h. A node is known by its line table: made when it
 * was parsed, in the document's arena (never freed nor moved while the
 * document lives), and kept by a re-parse that leaves the node alone. */
static uint64_t hash_nodes(const struct df_doc *doc, size_t a, size_t b, uint64_t h)
{
	size_t i;

	for (i = a; i < b; i++) {
		const struct df_node *nd = &doc->nodes[i];

		h = mix(h, (uint64_t)(uintptr_t)nd->lines);
		h = mix(h, (uint64_t)nd->nlines << 8 | (uint64_t)nd->kind);
	}
	return h;
}

const uint64_t *df_stage_sigs(const struct df_doc *doc, size_t *n)
{
	struct df_memo *m = stages_memo(doc);
	const struct df_stage *st = m->stages;
	uint64_t pre, *chain, *tree;
	size_t s, ns = m->nstages;

	*n = ns;
	if (!ns)
		return NULL;
	if (m->sigs_at == doc->edits + 1)
		return m->sigs;
	pre = hash_nodes(doc, 0, st[0].from, 1);
	/* own[s] (in sigs first), then along the FROM forest (a base comes
	 * before the stages built on it): chain, the stage and those it is
	 * built on; tree, the stage and all built on it */
	m->sigs = df_xrealloc(m->sigs, ns * sizeof(*m->sigs));
	chain = df_xmalloc(ns * sizeof(*chain));
	tree = df_xmalloc(ns * sizeof(*tree));
	for (s = 0; s < ns; s++) {
		uint64_t h = mix(pre, s);

		h = mix(h, (uint64_t)st[s].is_final | (uint64_t)st[s].reaches_final << 1 |
			       (uint64_t)st[s].only_copied_from << 2 | (uint64_t)(st[s].base + 1) << 3);
		/* with the comments right above the FROM (in the stage before:
		 * they may switch a pass off for it) */
		m->sigs[s] = hash_nodes(doc, df_doc_owned_start(doc, st[s].from), st[s].end, h);
		/* (mix(a, b) is mix(b, a): different seeds keep them apart) */
		chain[s] = mix(st[s].base >= 0 ? chain[st[s].base] : 0x51ed27u, m->sigs[s]);
		tree[s] = mix(m->sigs[s], 0x2545f491u);
	}
	for (s = ns; s-- > 0;) /* sums: the order of the stages built on it does not matter */
		if (st[s].base >= 0)
			tree[st[s].base] += mix(tree[s], 0x9e3779b9u);
	for (s = 0; s < ns; s++)
		m->sigs[s] = mix(mix(chain[s], 0xa5a5a5a5u), tree[s]);
	free(chain);
	free(tree);
	m->sigs_at = doc->edits + 1;
	return m->sigs;
}

static struct df_memo *stages_memo(const struct df_doc *doc)
{
	struct df_memo *m = df_doc_memo(doc);

	if (m->stages_at != doc->edits + 1) {
		size_t *at;

		/* what it reads is kept for df_stages_reparsed */
		m->nrel = relevant(doc, &m->rel, &m->relcap, &at);
		struct names names;

		free(m->stages);
		free(m->name_slot);
		m->stages = compute(doc, m->rel, at, m->nrel, &m->nstages, &names);
		m->name_slot = names.slot; /* for df_stages_reparsed */
		m->name_cap = names.cap;
		m->stages_at = doc->edits + 1;
		free(at);
	}
	return m;
}

/* Does model b say to df_stages what a said (a parsed again: FROM's image
 * and name, the flags of COPY/ADD/RUN)? */
static int same_to_stages(const struct df_inst *a, const struct df_inst *b)
{
	if (a == b)
		return 1;
	if (a->cmd != b->cmd && !((a->cmd == DF_CMD_COPY || a->cmd == DF_CMD_ADD) &&
				  (b->cmd == DF_CMD_COPY || b->cmd == DF_CMD_ADD)))
		return 0; /* (ADD and COPY are the same to it) */
	if (a->cmd == DF_CMD_FROM)
		return a->nargs == b->nargs && (!a->nargs || df_span_same(a->args[0], b->args[0])) &&
		       (a->nargs != 3 || df_span_same(a->args[2], b->args[2]));
	return a->nflags == b->nflags && df_spans_same(a->flags, b->flags, a->nflags);
}

static int names_find(const struct names *t, const struct df_stage *st, size_t n,
		      struct df_span ref);

/* FROM b (parsed again) in place of a, the FROM of stage s: the same name,
 * and an image that is the same earlier stage, or none. */
static int same_base(const struct df_memo *m, size_t s, const struct df_inst *a,
		     const struct df_inst *b)
{
	struct names t;

	if (a->cmd != DF_CMD_FROM || b->cmd != DF_CMD_FROM || a->nargs != b->nargs ||
	    !b->nargs || (a->nargs == 3 && !df_span_same(a->args[2], b->args[2])) || s >= m->nstages ||
	    !m->name_cap)
		return 0;
	t.slot = m->name_slot;
	t.cap = m->name_cap;
	return names_find(&t, m->stages, s, b->args[0]) == m->stages[s].base;
}

void df_stages_reparsed(struct df_doc *doc, const struct df_kept *kept, size_t nkept)
{
	struct df_memo *m = doc->memo;
	size_t i, j, s = 0;

	if (!m)
		return;
	/* in order, each the same; a FROM may name another image that is the
	 * same stage or none; a node gone (RUNs merged) may be one that said
	 * the same as the one before it in its stage */
	for (i = j = 0; nkept != (size_t)-1 && i < m->nrel;) {
		if (j < nkept && (same_to_stages(m->rel[i], kept[j].inst) ||
				  same_base(m, s, m->rel[i], kept[j].inst))) {
			s += m->rel[i]->cmd == DF_CMD_FROM;
			i++;
			j++;
		} else if (j > 0 && m->rel[i]->cmd != DF_CMD_FROM &&
			   kept[j - 1].inst->cmd != DF_CMD_FROM &&
			   same_to_stages(m->rel[i], kept[j - 1].inst)) {
			i++;
		} else {
			break;
		}
	}
	if (nkept == (size_t)-1 || i < m->nrel || j < nkept) {
		/* found again when asked; the models listed may go */
		m->stages_at = 0;
		m->nrel = 0;
		return;
	}
	for (i = 0; i < nkept; i++)
		m->rel[i] = kept[i].inst;
	m->nrel = nkept;
	s = 0;
	/* the same FROMs and flags in the same order: only indices moved */
	for (i = 0; i < nkept; i++) {
		const struct df_inst *inst = kept[i].inst;

		if (inst->cmd != DF_CMD_FROM)
			continue;
		m->stages[s].from = kept[i].idx;
		/* the spans again: a re-parse may have moved a model's */
		if (inst->nargs)
			m->stages[s].image = inst->args[0];
		if (inst->nargs == 3)
			m->stages[s].name = inst->args[2];
		if (s)
			m->stages[s - 1].end = kept[i].idx;
		s++;
	}
	if (s)
		m->stages[s - 1].end = doc->nnodes;
	m->stages_at = doc->edits + 1;
}

int df_stages_same_as_found(const struct df_doc *doc)
{
	const struct df_memo *m = doc->memo;
	struct df_stage *st;
	size_t n, i;
	int same;

	if (!m || m->stages_at != doc->edits + 1)
		return 1; /* none kept */
	{
		const struct df_inst **rel = NULL;
		size_t *at, cap = 0, nrel = relevant(doc, &rel, &cap, &at);

		struct names names;

		st = compute(doc, rel, at, nrel, &n, &names);
		free(names.slot);
		free(rel);
		free(at);
	}
	same = n == m->nstages;
	for (i = 0; same && i < n; i++) {
		const struct df_stage *a = &st[i], *b = &m->stages[i];

		same = a->from == b->from && a->end == b->end && a->image.ptr == b->image.ptr &&
		       a->image.len == b->image.len && a->name.ptr == b->name.ptr &&
		       a->name.len == b->name.len && a->is_final == b->is_final &&
		       a->reaches_final == b->reaches_final &&
		       a->only_copied_from == b->only_copied_from && a->base == b->base;
	}
	free(st);
	return same;
}

/* The nodes df_stages reads (df_stage_relevant): models into rel (*relcap
 * entries, grown as needed), node indices into *at (malloc'ed here), in
 * order; returns how many. */
static size_t relevant(const struct df_doc *doc, const struct df_inst ***rel, size_t *relcap,
		       size_t **at)
{
	size_t i, n = 0;

	*at = df_xmalloc((*relcap + 1) * sizeof(**at));

	for (i = 0; i < doc->nnodes; i++) {
		if (!df_stage_relevant(&doc->nodes[i]))
			continue;
		if (n == *relcap) {
			*relcap = *relcap ? *relcap * 2 : 64;
			*rel = df_xrealloc(*rel, *relcap * sizeof(**rel));
			*at = df_xrealloc(*at, *relcap * sizeof(**at));
		}
		(*rel)[n] = doc->nodes[i].inst;
		(*at)[n++] = i;
	}
	return n;
}

/* The stages, from the relevant nodes rel[0..nrel) at node indices at[]. */
static struct df_stage *compute(const struct df_doc *doc, const struct df_inst **rel,
				const size_t *at, size_t nrel, size_t *n, struct names *names_out)
{
	struct df_stage *st = NULL;
	struct edge *e = NULL;
	size_t ns = 0, cap = 0, ne = 0, ecap = 0, s, k;
	unsigned char *copied, *other;
	struct names names;
	int changed;

	for (k = 0; k < nrel; k++) {
		const struct df_inst *inst = rel[k];

		if (inst->cmd != DF_CMD_FROM)
			continue;
		if (ns == cap) {
			cap = cap ? cap * 2 : 4;
			st = df_xrealloc(st, cap * sizeof(*st));
		}
		memset(&st[ns], 0, sizeof(st[ns]));
		st[ns].from = at[k];
		if (ns)
			st[ns - 1].end = at[k];
		if (inst->nargs)
			st[ns].image = inst->args[0];
		if (inst->nargs == 3)
			st[ns].name = inst->args[2];
		ns++;
	}
	*n = ns;
	names_out->slot = NULL;
	names_out->cap = 0;
	if (!ns)
		return st;
	st[ns - 1].end = doc->nnodes;
	st[ns - 1].is_final = 1;
	names_build(&names, st, ns);
	/* each stage's FROM, then its COPY --from and RUN --mount from= */
	for (k = 0, s = (size_t)-1; k < nrel; k++) {
		const struct df_inst *inst = rel[k];
		struct df_span v;
		size_t f;
		int b;

		if (inst->cmd == DF_CMD_FROM) {
			s++;
			b = names_find(&names, st, s, st[s].image);
			st[s].base = b;
			if (b >= 0)
				add_edge(&e, &ne, &ecap, s, (size_t)b, 0);
			continue;
		}
		if (s == (size_t)-1)
			continue; /* before the first FROM */
		if ((inst->cmd == DF_CMD_COPY || inst->cmd == DF_CMD_ADD) &&
		    df_inst_flag(inst, "from", &v) && (b = names_find(&names, st, s, v)) >= 0)
			add_edge(&e, &ne, &ecap, s, (size_t)b, 1);
		if (inst->cmd == DF_CMD_RUN)
			for (f = 0; f < inst->nflags; f++) {
				struct df_span m = inst->flags[f];

				if (m.len > 8 && memcmp(m.ptr, "--mount=", 8) == 0) {
					m.ptr += 8;
					m.len -= 8;
					if (mount_from(m, &v) && (b = names_find(&names, st, s, v)) >= 0)
						add_edge(&e, &ne, &ecap, s, (size_t)b, 0);
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
	*names_out = names; /* the caller keeps it or frees it */
	return st;
}
