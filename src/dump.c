/* dump.c - BuildKit's Node.Dump() of a parsed Dockerfile: the semantic oracle. */
#include <string.h>

#include "internal.h"

/* strings.ToLower: ASCII fast path; otherwise invalid bytes become U+FFFD
 * (Go's strings.Map) and ASCII letters are lowered. */
static void lower(struct df_buf *out, struct df_span s)
{
	size_t i;
	int ascii = 1, width;

	for (i = 0; i < s.len; i++)
		if ((unsigned char)s.ptr[i] >= 0x80)
			ascii = 0;
	for (i = 0; i < s.len; i += (size_t)width) {
		int32_t r;

		if (ascii) {
			char c = s.ptr[i];

			df_buf_addc(out, c >= 'A' && c <= 'Z' ? c + 32 : c);
			width = 1;
			continue;
		}
		r = df_utf8_decode((const unsigned char *)s.ptr + i, s.len - i, &width);
		if (r >= 'A' && r <= 'Z')
			r += 32;
		df_utf8_append(out, r);
	}
}

static void dump_node(const struct df_inst *inst, struct df_buf *out)
{
	size_t start = out->len, i, pre, suf;

	lower(out, inst->keyword);
	if (inst->nflags) {
		df_buf_adds(out, " [");
		for (i = 0; i < inst->nflags; i++) {
			if (i)
				df_buf_addc(out, ' ');
			df_go_quote(out, inst->flags[i].ptr, inst->flags[i].len);
		}
		df_buf_addc(out, ']');
	}
	if (inst->sub) {
		df_buf_adds(out, " (");
		dump_node(inst->sub, out);
		df_buf_addc(out, ')');
	} else if (inst->has_next) {
		for (i = 0; i < inst->nargs; i++) {
			df_buf_addc(out, ' ');
			df_go_quote(out, inst->args[i].ptr, inst->args[i].len);
		}
	}
	/* strings.TrimSpace of the node's string */
	pre = df_go_space_prefix(out->ptr + start, out->len - start);
	if (pre) {
		memmove(out->ptr + start, out->ptr + start + pre, out->len - start - pre);
		out->len -= pre;
	}
	suf = df_go_space_suffix(out->ptr + start, out->len - start);
	out->len -= suf;
	out->ptr[out->len] = '\0';
}

void df_dump_inst(const struct df_inst *inst, struct df_buf *out)
{
	df_buf_addc(out, '(');
	dump_node(inst, out);
	df_buf_adds(out, ")\n");
}

void df_dump(struct df_doc *doc, struct df_buf *out)
{
	size_t i;

	for (i = 0; i < doc->nnodes; i++)
		if (doc->nodes[i].kind == DF_INSTRUCTION && doc->nodes[i].inst)
			df_dump_inst(doc->nodes[i].inst, out);
}

/* Would df_dump_inst print the same for both? (Compared field by field,
 * without formatting: the driver asks this after every format pass.) */
int df_inst_same_dump(const struct df_inst *a, const struct df_inst *b)
{
	if (a == b) /* a node no pass touched: the same model */
		return 1;
	if (a->keyword.len != b->keyword.len ||
	    !df_mem_ieq(a->keyword.ptr, b->keyword.ptr, a->keyword.len))
		return 0;
	if (a->nflags != b->nflags || !a->sub != !b->sub || a->has_next != b->has_next ||
	    !df_spans_same(a->flags, b->flags, a->nflags))
		return 0;
	if (a->sub)
		return df_inst_same_dump(a->sub, b->sub);
	if (!a->has_next)
		return 1;
	return a->nargs == b->nargs && df_spans_same(a->args, b->args, a->nargs);
}

int df_insts_same_dump(const struct df_inst *const *a, size_t na, const struct df_node *b,
		       size_t nb)
{
	size_t i = 0, j = 0;

	for (;;) {
		while (j < nb && !(b[j].kind == DF_INSTRUCTION && b[j].inst))
			j++;
		if (i == na || j == nb)
			return i == na && j == nb;
		if (!df_inst_same_dump(a[i], b[j].inst))
			return 0;
		i++;
		j++;
	}
}

