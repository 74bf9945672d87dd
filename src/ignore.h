/*
 * ignore.h - .dockerignore files with Docker's own semantics.
 *
 * What Docker does, and so what this does (BuildKit's ignorefile.ReadAll,
 * moby/patternmatcher, fsutil's context walk):
 *
 * Reading a file, line by line ('\n'; one '\r' before it is dropped):
 *   - a UTF-8 BOM at the start of line 1 is dropped;
 *   - a line whose FIRST byte is '#' is a comment (" # x" is the pattern
 *     "# x": the comment test comes before trimming);
 *   - the line is trimmed of Unicode white space (Go's strings.TrimSpace);
 *     blank lines are skipped;
 *   - a leading '!' makes the line an exception; the rest is trimmed again;
 *   - the pattern is cleaned as Go's filepath.Clean does ("a//b/./c/.." ->
 *     "a/b", "./x" -> "x", "x/" -> "x"), then one leading '/' is dropped;
 *   - a line longer than 65535 bytes is an error (Go's bufio.Scanner stops
 *     there, and so does `docker build`).
 *
 * Patterns (Go's filepath.Match, as moby/patternmatcher implements it):
 *   '*'  any run of characters other than '/';   '?'  one character not '/';
 *   '[...]' a class with ranges; '^' negates it ("[!a]" is the class of '!'
 *   and 'a': Go has no '!' negation); '\' makes the next character literal;
 *   "**" any number of directories, zero included: alone it matches
 *   everything; after "a/" it matches everything under a; between "a/"
 *   and "/b" it matches a/b as well as a/x/y/b.
 *   A pattern with a syntax error ("[", "a[", "[]", "[a-]", a trailing '\',
 *   a lone "!") is an error, reported with its line number.
 *
 * Deciding (fsutil's walk, MatchesUsingParentResults): the path's
 * directories are visited from the top; a pattern that matched a directory
 * also matches everything under it; patterns are tried in order and the last
 * one that matches decides (exclude for a plain pattern, keep for an
 * exception). So "node_modules" excludes node_modules/x/y.js, and
 * "docs" + "!docs/README.md" excludes docs/a.md but keeps docs/README.md.
 * An exception is only tried while the path is excluded and a plain pattern
 * only while it is kept, and a pattern skipped for a directory is not
 * inherited by what is inside: with "a/b" then "!a", a/b/c stays excluded
 * ("!a" was skipped for "a", which nothing excluded). Docker's other entry
 * point, MatchesOrParentMatches (single-file lookups), would keep a/b/c;
 * the walk is what decides what is sent.
 *
 * Differences from Docker, all on inputs nobody writes: Docker turns the
 * pattern into a Go regexp and some '\' escapes then mean what they mean
 * in regexps. Here '\' + punctuation is literal, \d \D \s \S \w \W \a \f
 * \n \r \t \v \xHH \pX \PX \A \z \B keep their Go regexp meaning (but \s
 * also matches a vertical tab, as PCRE2's does), and any other escape
 * after '\' (letters, digits, non-ASCII) is refused as an error; so is a
 * class form Go accepts but PCRE2 rejects ("[:alpha:]" outside brackets,
 * "[[.a.]]"). Docker compiles a pattern's regexp lazily, so a bad one fails
 * the build when first used; here every pattern is compiled when added.
 *
 * Windows contexts (DF_IGNORE_WINDOWS): '\' is a path separator in patterns
 * and in paths, as it is for a Docker client on Windows, and there are no
 * escapes. Matching stays case-sensitive, as Docker's is. Drive letters
 * and UNC prefixes are not interpreted.
 *
 * Paths given to the matching calls are relative to the build context,
 * '/'-separated; they are cleaned the same way first ("./a//b/" -> "a/b").
 * The context itself (".", "") and paths outside it ("../x") are never
 * excluded.
 */
#ifndef DFIX_IGNORE_H
#define DFIX_IGNORE_H

#include <stddef.h>

struct df_ignore;

#define DF_IGNORE_WINDOWS 1u /* '\' separates paths; no escapes */

/* An empty list. Free with df_ignore_free(). */
struct df_ignore *df_ignore_new(unsigned flags);
void df_ignore_free(struct df_ignore *ig);

/* Parse the text of a .dockerignore file (not NUL-terminated). On an
 * invalid line returns NULL and sets *err (if err is not NULL) to a
 * malloc'ed "line N: message" the caller frees. */
struct df_ignore *df_ignore_parse(const char *text, size_t len, char **err);

/* Append the lines of `text` to `ig` (line numbers continue from the lines
 * already read). Returns 0, or -1 and *err as above; the lines before the
 * bad one stay added. */
int df_ignore_load(struct df_ignore *ig, const char *text, size_t len, char **err);

/* Append one line, read as the next line of the file: a trailing "\n" or
 * "\r\n" is allowed, another '\n' is an error. Returns 1 if a pattern was
 * added, 0 for a comment or blank line, -1 (and *err as above) if the line
 * is invalid. */
int df_ignore_add(struct df_ignore *ig, const char *line, size_t len, char **err);

/* 1 if the build context would leave `path` out, else 0. For a directory
 * this answers for the directory entry: BuildKit still creates an excluded
 * directory in the context when an exception keeps something inside it. */
int df_ignore_excluded(const struct df_ignore *ig, const char *path);

/* Index of the pattern that decided for `path` (the last one that matched
 * it or one of its directories), or -1 when none matched: the path is then
 * sent. Excluded iff the result is >= 0 and not an exception. */
int df_ignore_which(const struct df_ignore *ig, const char *path);

/* The patterns, in file order. df_ignore_pattern gives the cleaned text
 * without the '!' of an exception (valid until df_ignore_free);
 * df_ignore_line the 1-based line it came from. */
size_t df_ignore_count(const struct df_ignore *ig);
const char *df_ignore_pattern(const struct df_ignore *ig, size_t i);
int df_ignore_is_exception(const struct df_ignore *ig, size_t i);
unsigned df_ignore_line(const struct df_ignore *ig, size_t i);

/* 1 if a line equivalent to `line` is already in the list: same exception
 * flag and same cleaned text, so "/node_modules", "node_modules/" and
 * "./node_modules" are all "node_modules". A comment, blank or invalid
 * `line` gives 0. */
int df_ignore_has_pattern(const struct df_ignore *ig, const char *line);

#endif
