/* edit.c - the few ways a pass changes the tree: replace, insert, remove, move.
 * New text is parsed as a fragment of the document (same escape character)
 * and its nodes are spliced in, so the tree stays lossless and every node
 * keeps its BuildKit model. */
#include <string.h>

#include "internal.h"

static void reserve(struct df_doc *doc, size_t extra)
{
	if (doc->nnodes + extra <= doc->cap)
		return;
	while (doc->cap < doc->nnodes + extra)
		doc->cap = doc->cap ? doc->cap * 2 : 64;
	doc->nodes = df_xrealloc(doc->nodes, doc->cap * sizeof(*doc->nodes));
}

/* Parse text into a fragment; NULL when it has errors or directives. */
static struct df_doc *fragment(struct df_doc *doc, const char *text, size_t len)
{
	char *copy = df_arena_dup(&doc->arena, text, len);
	struct df_doc *frag = df_doc_parse_in(doc, copy, len);
	size_t i;

	if (frag->ndiags)
		goto bad;
	for (i = 0; i < frag->nnodes; i++)
		if (frag->nodes[i].kind == DF_ERROR || frag->nodes[i].kind == DF_DIRECTIVE)
			goto bad;
	return frag;
bad:
	df_doc_free(frag);
	return NULL;
}

static int splice(struct df_doc *doc, size_t idx, size_t remove, const char *text, size_t len,
		  uint32_t line)
{
	struct df_doc *frag;
	size_t i, n;

	if (idx > doc->nnodes || remove > doc->nnodes - idx)
		return -1;
	frag = fragment(doc, text, len);
	if (!frag)
		return -1;
	n = frag->nnodes;
	reserve(doc, n);
	if (n != remove) /* one node for one: no need to shift the tail */
		memmove(doc->nodes + idx + n, doc->nodes + idx + remove,
			(doc->nnodes - idx - remove) * sizeof(*doc->nodes));
	for (i = 0; i < n; i++) {
		doc->nodes[idx + i] = frag->nodes[i];
		doc->nodes[idx + i].line = line;
	}
	doc->nnodes = doc->nnodes - remove + n;
	doc->edits++;
	df_doc_free(frag);
	return 0;
}

static int ends_nl(const char *p, size_t n)
{
	return n && p[n - 1] == '\n';
}

int df_doc_replace(struct df_doc *doc, size_t idx, const char *text, size_t len)
{
	struct df_buf b = DF_BUF_INIT;
	const struct df_node *old;
	int r;

	if (idx >= doc->nnodes)
		return -1;
	old = &doc->nodes[idx];
	if (ends_nl(old->text.ptr, old->text.len) && !ends_nl(text, len)) {
		df_buf_add(&b, text, len);
		df_buf_adds(&b, df_doc_eol(doc));
		text = b.ptr;
		len = b.len;
	}
	r = splice(doc, idx, 1, text, len, old->line);
	df_buf_release(&b);
	return r;
}

int df_doc_insert(struct df_doc *doc, size_t idx, const char *text, size_t len)
{
	struct df_buf b = DF_BUF_INIT;
	int r;

	/* inserting after a last line without newline: give it one first */
	if (idx == doc->nnodes && idx > 0) {
		struct df_node *last = &doc->nodes[idx - 1];

		if (!ends_nl(last->text.ptr, last->text.len)) {
			df_buf_add(&b, last->text.ptr, last->text.len);
			df_buf_adds(&b, df_doc_eol(doc));
			if (splice(doc, idx - 1, 1, b.ptr, b.len, last->line) < 0) {
				df_buf_release(&b);
				return -1;
			}
			df_buf_reset(&b);
		}
	}
	if (!ends_nl(text, len)) {
		df_buf_add(&b, text, len);
		df_buf_adds(&b, df_doc_eol(doc));
		text = b.ptr;
		len = b.len;
	}
	r = splice(doc, idx, 0, text, len, 0);
	df_buf_release(&b);
	return r;
}

void df_doc_remove(struct df_doc *doc, size_t idx, size_t count)
{
	if (idx >= doc->nnodes)
		return;
	if (count > doc->nnodes - idx)
		count = doc->nnodes - idx;
	memmove(doc->nodes + idx, doc->nodes + idx + count,
		(doc->nnodes - idx - count) * sizeof(*doc->nodes));
	doc->nnodes -= count;
	doc->edits++;
}

void df_doc_move(struct df_doc *doc, size_t from, size_t count, size_t to)
{
	struct df_node *tmp;

	if (count == 0 || from + count > doc->nnodes || (to >= from && to <= from + count))
		return;
	tmp = df_xmalloc(count * sizeof(*tmp));
	memcpy(tmp, doc->nodes + from, count * sizeof(*tmp));
	if (to < from) {
		memmove(doc->nodes + to + count, doc->nodes + to, (from - to) * sizeof(*tmp));
		memcpy(doc->nodes + to, tmp, count * sizeof(*tmp));
	} else {
		memmove(doc->nodes + from, doc->nodes + from + count,
			(to - from - count) * sizeof(*tmp));
		memcpy(doc->nodes + to - count, tmp, count * sizeof(*tmp));
	}
	free(tmp);
	doc->edits++;
}

size_t df_doc_owned_start(const struct df_doc *doc, size_t idx)
{
	while (idx > 0 && doc->nodes[idx - 1].kind == DF_COMMENT)
		idx--;
	return idx;
}
