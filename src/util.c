/* util.c - memory that dies on OOM, buffers, the arena, files. */
#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

void df_die(const char *fmt, ...)
{
	va_list ap;

	fputs("dfix: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(DF_EXIT_ERROR);
}

void *df_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		df_die("out of memory (%zu bytes)", n);
	return p;
}

void *df_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		df_die("out of memory");
	return p;
}

void *df_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		df_die("out of memory (%zu bytes)", n);
	return p;
}

char *df_xstrndup(const char *s, size_t n)
{
	char *p = df_xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void df_buf_init(struct df_buf *b)
{
	b->ptr = NULL;
	b->len = b->cap = 0;
}

void df_buf_release(struct df_buf *b)
{
	free(b->ptr);
	df_buf_init(b);
}

void df_buf_grow(struct df_buf *b, size_t extra)
{
	size_t need;

	if (extra >= DF_BUF_MAX - b->len)
		df_die("buffer too large");
	need = b->len + extra + 1;
	if (need <= b->cap)
		return;
	if (b->cap < 64)
		b->cap = 64;
	while (b->cap < need)
		b->cap *= 2;
	b->ptr = df_xrealloc(b->ptr, b->cap);
	b->ptr[b->len] = '\0';
}

void df_buf_add(struct df_buf *b, const void *p, size_t n)
{
	df_buf_grow(b, n);
	if (n)
		memcpy(b->ptr + b->len, p, n);
	b->len += n;
	b->ptr[b->len] = '\0';
}

void df_buf_addc(struct df_buf *b, int c)
{
	df_buf_grow(b, 1);
	b->ptr[b->len++] = (char)c;
	b->ptr[b->len] = '\0';
}

void df_buf_adds(struct df_buf *b, const char *s)
{
	df_buf_add(b, s, strlen(s));
}

void df_buf_addf(struct df_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	df_buf_grow(b, 64);
	va_start(ap, fmt);
	n = vsnprintf(b->ptr + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		df_die("formatting failed");
	if ((size_t)n >= b->cap - b->len) {
		df_buf_grow(b, (size_t)n);
		va_start(ap, fmt);
		vsnprintf(b->ptr + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

void df_buf_reset(struct df_buf *b)
{
	b->len = 0;
	if (b->ptr)
		b->ptr[0] = '\0';
}

char *df_buf_detach(struct df_buf *b, size_t *len)
{
	char *p;

	if (!b->ptr)
		df_buf_grow(b, 0);
	p = b->ptr;
	if (len)
		*len = b->len;
	df_buf_init(b);
	return p;
}

void df_keep_freed_memory(void)
{
#ifdef __GLIBC__
	/* large blocks from the heap, not mmap (which unmaps them on free),
	 * and a heap that is never trimmed */
	mallopt(M_MMAP_MAX, 0);
	mallopt(M_TRIM_THRESHOLD, -1);
#endif
}

/* ---- arena ---- */

struct df_arena_block {
	struct df_arena_block *next;
	size_t used, size;
	_Alignas(16) unsigned char data[];
};

void df_arena_init(struct df_arena *a)
{
	a->head = NULL;
	a->first = 0;
}

void df_arena_expect(struct df_arena *a, size_t n)
{
	a->first = n;
}

/* Large blocks a released arena leaves behind, kept (per thread) for the
 * next document: a fresh block costs a page fault per 4 KiB, a kept one does
 * not. At most ARENA_KEEP bytes, or as much as the last arena larger than
 * that held (an editor formats the same large file on every save). Small
 * blocks go back to malloc. */
#define ARENA_KEEP_MIN ((size_t)1 << 18)
#define ARENA_KEEP ((size_t)1 << 26)

static _Thread_local struct df_arena_block *kept;
static _Thread_local size_t kept_bytes, keep_limit = ARENA_KEEP;

static void block_free(struct df_arena_block *b)
{
	if (b->size >= ARENA_KEEP_MIN && kept_bytes + b->size <= keep_limit) {
		b->next = kept;
		kept = b;
		kept_bytes += b->size;
		return;
	}
	free(b);
}

/* A kept block of at least `size` bytes (and not much more), or NULL. */
static struct df_arena_block *block_reuse(size_t size)
{
	struct df_arena_block **pp, *b;

	if (size < ARENA_KEEP_MIN)
		return NULL;
	for (pp = &kept; (b = *pp); pp = &b->next)
		if (b->size >= size && b->size / 2 < size) {
			*pp = b->next;
			kept_bytes -= b->size;
			return b;
		}
	return NULL;
}

void df_arena_release(struct df_arena *a)
{
	struct df_arena_block *b = a->head, *next;
	size_t total = 0;

	for (; b; b = b->next)
		total += b->size;
	if (total > ARENA_KEEP && total != keep_limit) {
		keep_limit = total;
		while (kept && kept_bytes > keep_limit) { /* a smaller document now */
			next = kept->next;
			kept_bytes -= kept->size;
			free(kept);
			kept = next;
		}
	}
	b = a->head;

	for (; b; b = next) {
		next = b->next;
		block_free(b);
	}
	a->head = NULL;
}

void df_arena_rewind(struct df_arena *a)
{
	struct df_arena_block *b, *next;

	if (!a->head)
		return;
	for (b = a->head->next; b; b = next) {
		next = b->next;
		block_free(b);
	}
	a->head->next = NULL;
	a->head->used = 0;
}

void *df_arena_alloc_raw(struct df_arena *a, size_t n)
{
	struct df_arena_block *b = a->head;
	size_t size;
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (!b || b->size - b->used < n) {
		/* the first block as expected (small by default: fragments of a
		 * few lines make many arenas), then doubling */
		size = b ? b->size * 2 : a->first ? a->first : 2048;
		if (size > ((size_t)1 << 24))
			size = (size_t)1 << 24;
		if (size < n)
			size = n;
		b = block_reuse(size);
		if (!b) {
			b = df_xmalloc(sizeof(*b) + size);
			b->size = size;
		}
		b->used = 0;
		b->next = a->head;
		a->head = b;
	}
	p = b->data + b->used;
	b->used += n;
	return p;
}

void *df_arena_alloc(struct df_arena *a, size_t n)
{
	void *p = df_arena_alloc_raw(a, n);

	memset(p, 0, n);
	return p;
}

char *df_arena_dup(struct df_arena *a, const void *p, size_t n)
{
	char *d = df_arena_alloc_raw(a, n + 1);

	if (n)
		memcpy(d, p, n);
	d[n] = '\0';
	return d;
}

/* ---- spans ---- */

int df_span_same(struct df_span a, struct df_span b)
{
	return a.len == b.len && (a.ptr == b.ptr || a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

int df_spans_same(const struct df_span *a, const struct df_span *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!df_span_same(a[i], b[i]))
			return 0;
	return 1;
}

int df_span_digits(struct df_span s)
{
	size_t i;

	for (i = 0; i < s.len; i++)
		if (s.ptr[i] < '0' || s.ptr[i] > '9')
			return 0;
	return s.len > 0;
}

size_t df_hash_str(size_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

int df_mem_has(const char *p, size_t n, const char *lit)
{
	size_t k = strlen(lit);
	const char *q = p, *last;

	if (!k)
		return 1;
	if (n < k)
		return 0;
	last = p + n - k; /* the last place lit may start */
	while (q <= last && (q = memchr(q, lit[0], (size_t)(last - q) + 1))) {
		if (memcmp(q, lit, k) == 0)
			return 1;
		q++;
	}
	return 0;
}

/* The next byte in [q, last] that is c, or NULL. */
static const char *next_at(const char *q, const char *last, int c)
{
	return q <= last ? memchr(q, c, (size_t)(last - q) + 1) : NULL;
}

int df_mem_ihas(const char *p, size_t n, const char *lit)
{
	size_t k = strlen(lit), i;
	unsigned char c = (unsigned char)lit[0];
	int lo = c >= 'A' && c <= 'Z' ? c + 32 : c, up = lo >= 'a' && lo <= 'z' ? lo - 32 : lo;
	const char *last, *a, *b;

	if (!k)
		return 1;
	if (n < k)
		return 0;
	if (n <= 64) { /* a word (an image name...): one look at each byte */
		for (i = 0; i + k <= n; i++)
			if ((p[i] == lo || p[i] == up) && df_mem_ieq(p + i, lit, k))
				return 1;
		return 0;
	}
	last = p + n - k;
	a = next_at(p, last, lo);
	b = up != lo ? next_at(p, last, up) : NULL;
	while (a || b) {
		const char *q = !b || (a && a < b) ? a : b;

		if (df_mem_ieq(q, lit, k))
			return 1;
		if (q == a)
			a = next_at(a + 1, last, lo);
		else
			b = next_at(b + 1, last, up);
	}
	return 0;
}

int df_mem_ieq(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];

		if (x >= 'A' && x <= 'Z')
			x += 32;
		if (y >= 'A' && y <= 'Z')
			y += 32;
		if (x != y)
			return 0;
	}
	return 1;
}

int df_span_eq(struct df_span s, const char *lit)
{
	size_t n = strlen(lit);

	return s.len == n && memcmp(s.ptr, lit, n) == 0;
}

int df_span_ieq(struct df_span s, const char *lit)
{
	size_t n = strlen(lit);

	return s.len == n && df_mem_ieq(s.ptr, lit, n);
}

/* ---- files ---- */

char *df_read_stream(FILE *f, size_t *len, const char **err)
{
	struct df_buf b = DF_BUF_INIT;
	size_t n;

	for (;;) {
		df_buf_grow(&b, 65536);
		n = fread(b.ptr + b.len, 1, b.cap - b.len - 1, f);
		b.len += n;
		if (n == 0)
			break;
	}
	b.ptr[b.len] = '\0';
	if (ferror(f)) {
		*err = strerror(errno ? errno : EIO);
		df_buf_release(&b);
		return NULL;
	}
	return df_buf_detach(&b, len);
}

char *df_read_file(const char *path, size_t *len, const char **err)
{
	struct stat st;
	FILE *f;
	char *p;

	f = fopen(path, "rb");
	if (!f) {
		*err = strerror(errno);
		return NULL;
	}
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(f);
		*err = "is a directory";
		return NULL;
	}
	p = df_read_stream(f, len, err);
	fclose(f);
	return p;
}
