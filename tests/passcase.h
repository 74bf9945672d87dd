/* passcase.h - what the tests of one pass share: the pass run alone through
 * df_fix (to its fixpoint), its output and findings, and a build context
 * in a temporary directory. A test sets `passcase_pass` (the pass id) and
 * `passcase_dir` (the mkdtemp template) before it runs anything. */
#ifndef DFIX_TESTS_PASSCASE_H
#define DFIX_TESTS_PASSCASE_H

struct result {
	char *text;        /* malloc'ed output */
	char notes[4096];  /* the findings, one per line: "LINE: message" */
	int nfindings;
};

extern const char *passcase_pass; /* the id of the pass under test */
extern const char *passcase_dir;  /* e.g. "/tmp/dfix-manifests-XXXXXX" */
extern char ctxdir[64];           /* the build context setup_ctx made */

void result_free(struct result *r);
/* Run the pass alone with `context` (NULL: stdin, no context). */
int fix(const char *src, const char *context, struct result *r);
/* The pass turns src into want, and leaves want alone. */
void check(const char *src, const char *context, const char *want, struct result *r);
void check_same(const char *src, const char *context, struct result *r);
void assert_has(const char *hay, const char *needle);
/* Write a file of the build context (directories made as needed). */
void put(const char *rel, const char *text);
int setup_ctx(void **state);
int teardown_ctx(void **state);

#endif
