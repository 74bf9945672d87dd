/*
 * multi_stage_java.c - the Java ecosystem of the multi-stage pass (maven,
 * gradle, and their wrappers).
 *
 * The container must run `java ... -jar JAR`. The jar is the one CMD names
 * when it names one (target/x.jar, build/libs/x.jar, or a file a cp/mv in
 * the build writes); for a wildcard name it comes from the build
 * files: pom.xml <build><finalName> or artifactId-version.packaging, or
 * gradle's rootProject.name and version. It is copied to /app/app.jar in
 * the runtime, eclipse-temurin:<JDK major>-jre (-jre-alpine when the
 * builder is alpine), and CMD/ENTRYPOINT point at it. The JDK major comes
 * from the builder's tag (maven:3.9-eclipse-temurin-17, gradle:8-jdk21,
 * eclipse-temurin:17-jdk...) or from the build files (java.version,
 * maven.compiler.release, sourceCompatibility, jvmToolchain).
 */
#include <fnmatch.h>
#include <string.h>

#include "multi_stage.h"

#define JAR "/app/app.jar"

static const char *base_name(const char *w)
{
	const char *b = strrchr(w, '/');

	return b ? b + 1 : w;
}

static int is_maven(const char *n)
{
	return !strcmp(n, "mvn") || !strcmp(n, "mvnw") || !strcmp(n, "mvnw.cmd");
}

static int is_gradle(const char *n)
{
	return !strcmp(n, "gradle") || !strcmp(n, "gradlew");
}

/* Maven/gradle options that take the next word as their value. */
static int opt_value(const char *a)
{
	static const char *const v[] = {
		"-f", "--file", "-s", "--settings", "-gs", "--global-settings", "-P",
		"--activate-profiles", "-pl", "--projects", "-T", "--threads", "-rf",
		"--resume-from", "-l", "--log-file", "-t", "--toolchains", "-x", "--exclude-task",
		"-p", "--project-dir", "-b", "--build-file", "-c", "--settings-file", "-g",
		"--gradle-user-home", "-I", "--init-script", "--max-workers", NULL
	};
	size_t i;

	for (i = 0; v[i]; i++)
		if (strcmp(a, v[i]) == 0)
			return 1;
	return 0;
}

unsigned ms_java_kind(struct ms *ms, struct ms_item *it, struct ms_cmd *c)
{
	const char *n = base_name(c->argv[0]);
	size_t i = 1;
	unsigned k = MS_K_DEPS;

	(void)ms;
	(void)it;
	if (ms_is_shell(n) && c->argc > 1 && c->argv[1] &&
	    (is_maven(base_name(c->argv[1])) || is_gradle(base_name(c->argv[1])))) {
		n = base_name(c->argv[1]);
		i = 2;
	}
	if (is_maven(n) || is_gradle(n)) {
		for (; i < c->argc; i++) {
			const char *a = c->argv[i];

			if (!a)
				continue;
			if (a[0] == '-') {
				if (opt_value(a))
					i++;
				continue;
			}
			if (is_maven(n) && (!strcmp(a, "package") || !strcmp(a, "install") ||
					    !strcmp(a, "verify") || !strcmp(a, "deploy") ||
					    ms_starts(a, "spring-boot:repackage") ||
					    ms_starts(a, "assembly:single") || !strcmp(a, "jar:jar")))
				k = MS_K_BUILD;
			if (is_gradle(n) && (!strcmp(a, "build") || !strcmp(a, "assemble") ||
					     !strcmp(a, "bootJar") || !strcmp(a, "jar") ||
					     !strcmp(a, "shadowJar") || ms_ends(a, ":bootJar") ||
					     ms_ends(a, ":build") || !strcmp(a, "installDist")))
				k = MS_K_BUILD;
		}
		return k;
	}
	if ((!strcmp(n, "cp") || !strcmp(n, "mv")) && c->argc >= 3) {
		for (i = 1; i < c->argc; i++)
			if (c->argv[i] && ms_ends(c->argv[i], ".jar"))
				return MS_K_BUILD; /* gives the jar its final name */
	}
	return 0;
}

/* ---------------------------------------------------------------- build files */

/* The text of the first element <tag> at depth `depth` below <project>,
 * outside <parent>, <dependencies>, <plugins>, <profiles>... */
static const char *pom_get(struct ms *ms, const char *pom, const char *path)
{
	char stack[8][48];
	int depth = 0;
	const char *p = pom;

	while ((p = strchr(p, '<')) != NULL) {
		const char *e;
		size_t n;

		if (p[1] == '!' || p[1] == '?') {
			const char *end = p[1] == '!' && p[2] == '-' ? strstr(p, "-->") : strchr(p, '>');

			if (!end)
				return NULL;
			p = end + 1;
			continue;
		}
		e = strchr(p, '>');
		if (!e)
			return NULL;
		if (p[1] == '/') {
			if (depth > 0)
				depth--;
			p = e + 1;
			continue;
		}
		n = strcspn(p + 1, " \t\r\n/>");
		if (e[-1] == '/') { /* <empty/> */
			p = e + 1;
			continue;
		}
		if (depth < 8 && n < sizeof(stack[0])) {
			char cur[8 * 49] = "";
			int i;

			memcpy(stack[depth], p + 1, n);
			stack[depth][n] = '\0';
			depth++;
			for (i = 0; i < depth; i++) {
				if (i)
					strcat(cur, "/");
				strcat(cur, stack[i]);
			}
			if (strcmp(cur, path) == 0) {
				const char *end = strchr(e + 1, '<');

				if (!end)
					return NULL;
				{
					const char *s = e + 1, *t = end;

					while (s < t && strchr(" \t\r\n", *s))
						s++;
					while (t > s && strchr(" \t\r\n", t[-1]))
						t--;
					return ms_strndup(ms, s, (size_t)(t - s));
				}
			}
		} else {
			depth++;
		}
		p = e + 1;
	}
	return NULL;
}

/* ${prop} in a pom value from <properties>; NULL when not static. */
static const char *pom_resolve(struct ms *ms, const char *pom, const char *v)
{
	int guard = 0;

	while (v && strstr(v, "${") && guard++ < 4) {
		const char *s = strstr(v, "${"), *e = strchr(s, '}');
		const char *name, *val;

		if (!e)
			return NULL;
		name = ms_strndup(ms, s + 2, (size_t)(e - s - 2));
		if (!strcmp(name, "project.artifactId"))
			val = pom_get(ms, pom, "project/artifactId");
		else if (!strcmp(name, "project.version"))
			val = pom_get(ms, pom, "project/version");
		else
			val = pom_get(ms, pom, ms_printf(ms, "project/properties/%s", name));
		if (!val)
			return NULL;
		v = ms_printf(ms, "%.*s%s%s", (int)(s - v), v, val, e + 1);
	}
	return v && !strstr(v, "${") ? v : NULL;
}

static const char *maven_jar(struct ms *ms, const char **why)
{
	char *pom = ms_read(ms, "pom.xml", NULL);
	const char *id, *ver, *pack, *fin, *r = NULL;

	if (!pom) {
		*why = "no pom.xml in the build context";
		return NULL;
	}
	if (pom_get(ms, pom, "project/modules/module")) {
		*why = "pom.xml has modules: dfix cannot tell which jar runs";
		goto out;
	}
	pack = pom_get(ms, pom, "project/packaging");
	if (pack && strcmp(pack, "jar") != 0) {
		*why = ms_printf(ms, "pom.xml packages a %s, not a jar", pack);
		goto out;
	}
	fin = pom_resolve(ms, pom, pom_get(ms, pom, "project/build/finalName"));
	id = pom_resolve(ms, pom, pom_get(ms, pom, "project/artifactId"));
	ver = pom_get(ms, pom, "project/version");
	if (!ver)
		ver = pom_get(ms, pom, "project/parent/version");
	ver = pom_resolve(ms, pom, ver);
	if (pom_get(ms, pom, "project/build/directory")) {
		*why = "pom.xml sets its own build directory";
		goto out;
	}
	if (fin)
		r = ms_printf(ms, "target/%s.jar", fin);
	else if (id && ver)
		r = ms_printf(ms, "target/%s-%s.jar", id, ver);
	else
		*why = "no artifactId/version in pom.xml";
out:
	free(pom);
	return r;
}

/* A quoted value after `key` ("rootProject.name = 'x'", "version = \"1\""). */
static const char *gradle_value(struct ms *ms, const char *text, const char *key)
{
	const char *p = text;

	while (text && (p = strstr(p, key)) != NULL) {
		const char *s = p + strlen(key), *e;

		if (p > text && !strchr("\n \t;{", p[-1])) {
			p = s;
			continue;
		}
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s != '=') {
			p = s;
			continue;
		}
		s++;
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s != '"' && *s != '\'')
			return NULL;
		e = strchr(s + 1, *s);
		if (!e || memchr(s, '\n', (size_t)(e - s)) || memchr(s, '$', (size_t)(e - s)))
			return NULL;
		return ms_strndup(ms, s + 1, (size_t)(e - s - 1));
	}
	return NULL;
}

static const char *gradle_jar(struct ms *ms, const char *wd, const char **why)
{
	char *settings = ms_read(ms, "settings.gradle", NULL);
	char *build = ms_read(ms, "build.gradle", NULL);
	const char *name, *ver, *r = NULL;

	if (!settings)
		settings = ms_read(ms, "settings.gradle.kts", NULL);
	if (!build)
		build = ms_read(ms, "build.gradle.kts", NULL);
	if (!build) {
		*why = "no build.gradle in the build context";
		goto out;
	}
	if (strstr(build, "archiveFileName") || strstr(build, "archiveBaseName") ||
	    strstr(build, "archiveVersion") || strstr(build, "archiveClassifier") ||
	    strstr(build, "archivesBaseName") || (settings && strstr(settings, "include"))) {
		*why = "the gradle build names its jar itself";
		goto out;
	}
	name = gradle_value(ms, settings, "rootProject.name");
	if (!name)
		name = wd && strcmp(wd, "/") ? base_name(wd) : NULL;
	ver = gradle_value(ms, build, "version");
	if (!name)
		*why = "no rootProject.name in settings.gradle";
	else
		r = ver && strcmp(ver, "unspecified") ? ms_printf(ms, "build/libs/%s-%s.jar", name, ver)
						      : ms_printf(ms, "build/libs/%s.jar", name);
out:
	free(settings);
	free(build);
	return r;
}

/* The JDK major of the builder's tag, or from the build files; 0 unknown. */
static int jdk_major(struct ms *ms)
{
	static const char *const marks[] = {
		"eclipse-temurin-", "temurin-", "openjdk-", "amazoncorretto-", "corretto-",
		"sapmachine-", "ibm-semeru-", "ibmjava-", "graalvm-community-", "graalvm-ce-",
		"jdk-", "jdk", NULL
	};
	const char *t = ms->tag, *h;
	size_t i;
	int v = 0;
	char *f;

	if (!strcmp(ms->repo, "eclipse-temurin") || !strcmp(ms->repo, "openjdk") ||
	    !strcmp(ms->repo, "amazoncorretto") || !strcmp(ms->repo, "sapmachine") ||
	    !strcmp(ms->repo, "ibm-semeru-runtimes")) {
		h = t;
		if (ms_starts(h, "open-"))
			h += 5;
		while (*h >= '0' && *h <= '9')
			v = v * 10 + (*h++ - '0');
		if (v == 1 && *h == '.' && h[1] == '8')
			v = 8;
		if (v)
			return v;
	}
	for (i = 0; marks[i] && !v; i++)
		if ((h = strstr(t, marks[i])) != NULL) {
			h += strlen(marks[i]);
			while (*h >= '0' && *h <= '9')
				v = v * 10 + (*h++ - '0');
		}
	if (v)
		return v;
	/* the build files */
	f = ms_read(ms, "pom.xml", NULL);
	if (f) {
		static const char *const props[] = {
			"project/properties/java.version", "project/properties/maven.compiler.release",
			"project/properties/maven.compiler.target", "project/properties/maven.compiler.source",
			NULL
		};
		const char *val = NULL;

		for (i = 0; props[i] && !val; i++)
			val = pom_get(ms, f, props[i]);
		if (val) {
			if (ms_starts(val, "1."))
				val += 2;
			v = (int)strtol(val, NULL, 10);
		}
		free(f);
		return v;
	}
	f = ms_read(ms, "build.gradle", NULL);
	if (!f)
		f = ms_read(ms, "build.gradle.kts", NULL);
	if (f) {
		static const char *const keys[] = {
			"JavaLanguageVersion.of(", "jvmToolchain(", "JavaVersion.VERSION_", NULL
		};

		for (i = 0; keys[i] && !v; i++)
			if ((h = strstr(f, keys[i])) != NULL) {
				h += strlen(keys[i]);
				if (ms_starts(h, "1_"))
					h += 2;
				v = (int)strtol(h, NULL, 10);
			}
		if (!v && (h = strstr(f, "sourceCompatibility")) != NULL) {
			h += strlen("sourceCompatibility");
			h += strspn(h, " \t=\"'");
			if (ms_starts(h, "1."))
				h += 2;
			v = (int)strtol(h, NULL, 10);
		}
		free(f);
	}
	return v;
}

/* ---------------------------------------------------------------- plan */

/* Index in the item's words of the jar after -jar, or -1. */
static int jar_arg(char **w, int n)
{
	int i;

	for (i = 1; i + 1 < n; i++)
		if (ms_word_is(w[i], "-jar"))
			return i + 1;
	return -1;
}

/* Point the CMD/ENTRYPOINT item's jar argument at /app/app.jar. */
static int point_at_jar(struct ms *ms, struct ms_item *it)
{
	char **w;
	int n = ms_item_words_loose(ms, it, &w), j, k;

	if (n <= 0 || (j = jar_arg(w, n)) < 0)
		return -1;
	if (it->inst->json) {
		struct df_buf b = DF_BUF_INIT;

		df_buf_addf(&b, "%s [", it->cmd == DF_CMD_CMD ? "CMD" : "ENTRYPOINT");
		for (k = 0; k < n; k++) {
			if (k)
				df_buf_adds(&b, ", ");
			ms_json(&b, k == j ? JAR : w[k]);
		}
		df_buf_addc(&b, ']');
		df_buf_adds(&b, ms->eol);
		it->rtext = ms_strndup(ms, b.ptr, b.len);
		df_buf_release(&b);
	} else {
		struct ms_edit ed;
		const struct df_sh_word *sw = &it->sh.cmds[0].words[j];

		ed.off = ms_word_off(it, sw);
		ed.end = ed.off + sw->len;
		ed.text = JAR;
		it->rtext = ms_edit_node(ms, (size_t)(it - ms->items), &ed, 1);
		if (!it->rtext)
			return -1;
	}
	return 0;
}

int ms_java_plan(struct ms *ms)
{
	char **argv;
	long entry, cmd, which;
	int argc, j, major, maven = 0, gradle = 0;
	size_t i, k, L = ms->last_build;
	const char *wd = ms_final_wd(ms), *bwd = ms->items[L].wd, *jar, *abs = NULL, *why = NULL;
	const char *built = NULL;

	for (i = 0; i <= L; i++)
		for (k = 0; k < ms->items[i].ncmds; k++) {
			struct ms_cmd *c = &ms->items[i].cmds[k];

			if (!c->argc || !c->argv[0] || !(ms_java_kind(ms, &ms->items[i], c) & MS_K_BUILD))
				continue;
			if (ms->items[i].kind & MS_K_CD)
				return ms_skip(ms, "the build at line %u changes directory",
					       ms->doc->nodes[ms->items[i].idx].line);
			if (is_maven(base_name(c->argv[0])) ||
			    (c->argc > 1 && c->argv[1] && is_maven(base_name(c->argv[1]))))
				maven = 1;
			else if (is_gradle(base_name(c->argv[0])) ||
				 (c->argc > 1 && c->argv[1] && is_gradle(base_name(c->argv[1]))))
				gradle = 1;
		}
	if (!maven && !gradle)
		return ms_skip(ms, "no maven or gradle build");
	if (maven && gradle)
		return ms_skip(ms, "maven and gradle both build");
	if (!bwd)
		return ms_skip(ms, "the WORKDIR of the build is not known");
	argc = ms_command_loose(ms, &argv, &entry, &cmd);
	if (argc == 0)
		return ms_skip(ms, "no CMD or ENTRYPOINT says what the container runs");
	if (argc < 0)
		return ms_skip(ms, "CMD/ENTRYPOINT is not a plain command");
	if (argc > 1 && ms_word_is(argv[0], "exec")) {
		argv++;
		argc--;
	}
	if (strcmp(base_name(argv[0]), "java") != 0 || (j = jar_arg(argv, argc)) < 0 || !argv[j])
		return ms_skip(ms, "the container does not run `java -jar` (it runs %s)", argv[0]);
	/* the item that holds -jar */
	which = -1;
	if (entry >= 0) {
		char **w;
		int n = ms_item_words_loose(ms, &ms->items[entry], &w);

		which = n > 0 && jar_arg(w, n) >= 0 ? entry : -1;
	}
	if (which < 0)
		which = cmd;
	if (which < 0)
		return ms_skip(ms, "no CMD runs the jar");
	jar = argv[j];
	built = maven ? maven_jar(ms, &why) : gradle_jar(ms, bwd, &why);
	if (strpbrk(jar, "*?[")) {
		if (!built)
			return ms_skip(ms, "%s", why);
		if (fnmatch(ms_abs(ms, wd, jar), ms_abs(ms, bwd, built), FNM_PATHNAME) != 0)
			return ms_skip(ms, "%s does not match the jar the build writes (%s)", jar, built);
		abs = ms_abs(ms, bwd, built);
	} else {
		const char *dir;

		abs = ms_abs(ms, wd, jar);
		if (!abs)
			return ms_skip(ms, "the jar %s is not at a known path", jar);
		dir = maven ? ms_abs(ms, bwd, "target") : ms_abs(ms, bwd, "build/libs");
		if (strncmp(abs, dir, strlen(dir)) != 0 || abs[strlen(dir)] != '/') {
			/* a copy the build made: cp/mv target/x.jar app.jar */
			int made = 0;

			for (i = 0; i <= L && !made; i++)
				for (k = 0; k < ms->items[i].ncmds; k++) {
					struct ms_cmd *c = &ms->items[i].cmds[k];
					const char *n = c->argc ? c->argv[0] : NULL;

					if (n && (!strcmp(base_name(n), "cp") || !strcmp(base_name(n), "mv")) &&
					    c->argv[c->argc - 1] && ms->items[i].wd &&
					    strcmp(ms_abs(ms, ms->items[i].wd, c->argv[c->argc - 1]), abs) == 0)
						made = 1;
				}
			if (!made)
				return ms_skip(ms, "the jar %s is not one the build writes", jar);
		}
	}
	major = jdk_major(ms);
	if (major < 8)
		return ms_skip(ms, "the JDK version of %s is not known", ms->from.resolved);
	ms->runtime_image = strstr(ms->tag, "alpine") ? ms_printf(ms, "eclipse-temurin:%d-jre-alpine", major)
						      : ms_printf(ms, "eclipse-temurin:%d-jre", major);
	/* packages the runtime needs: only ones the JRE image can install */
	for (i = 0; i < ms->nitems; i++) {
		struct ms_item *it = &ms->items[i];

		if (it->cmd != DF_CMD_RUN || !(it->kind & MS_K_PKG))
			continue;
		if (!it->pkgs.manager || it->pkgs.unknown) {
			if (i > L)
				return ms_skip(ms, "the package install at line %u is not one dfix reads",
					       ms->doc->nodes[it->idx].line);
			continue;
		}
		for (k = 0; k < it->pkgs.n; k++) {
			const char *p = it->pkgs.names[k];

			if (i <= L && (ms_build_tool_pkg(p) || ms_ends(p, "-dev")))
				continue;
			if (i <= L)
				return ms_skip(ms, "the runtime may need %s (installed at line %u)", p,
					       ms->doc->nodes[it->idx].line);
			if (strcmp(it->pkgs.manager, strstr(ms->tag, "alpine") ? "apk" : "apt") != 0)
				return ms_skip(ms, "%s packages at line %u on %s", it->pkgs.manager,
					       ms->doc->nodes[it->idx].line, ms->runtime_image);
		}
	}
	for (i = 0; i < ms->nitems; i++)
		if (ms->items[i].cmd == DF_CMD_HEALTHCHECK && ms->items[i].inst->nargs &&
		    !df_span_ieq(ms->items[i].inst->args[0], "NONE"))
			return ms_skip(ms, "the HEALTHCHECK at line %u may need tools the JRE image lacks",
				       ms->doc->nodes[ms->items[i].idx].line);
	if (ms_plan_compiled(ms, 1) < 0)
		return -1;
	if (point_at_jar(ms, &ms->items[which]) < 0)
		return ms_skip(ms, "cannot point CMD at %s", JAR);
	ms_ship(ms, abs, JAR);
	ms->ship[ms->nship - 1].dst = ms_strdup(ms, JAR); /* written as is */
	argv[j] = "";
	ms_ship_command_files(ms, argv, argc, wd, 1);
	{
		const char *rel = ms_rel(ms, bwd, abs);

		df_buf_addf(&ms->note, "the jar %s runs as %s", ms_starts(rel, "./") ? rel + 2 : rel, JAR);
	}
	return 0;
}
