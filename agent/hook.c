/* SPDX-License-Identifier: Apache-2.0 */
/*
 * See hook.h.  The environment is the agent's (environ) less any RK_
 * variables of the three names, plus those three; the child's stdout is
 * its stderr.  Waiting polls waitpid(WNOHANG) every 50 ms so that a hook
 * that hangs cannot hold the daemon forever.
 */
#include "hook.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define HOOK_ENV_EXTRA 3

static int
ours(const char *kv)
{
	return strncmp(kv, "RK_VERSION=", 11) == 0 ||
	       strncmp(kv, "RK_EXPORT=", 10) == 0 ||
	       strncmp(kv, "RK_EXPORT_DIR=", 14) == 0;
}

/* "KEY=value", malloc'ed. */
static char *
kv(const char *key, const char *value)
{
	size_t n = strlen(key) + 1 + strlen(value) + 1;
	char *s = malloc(n);

	if (s != NULL)
		snprintf(s, n, "%s=%s", key, value);
	return s;
}

int
hook_run(const char *cmd, uint64_t version, const char *export_pem,
    const char *export_dir, int timeout, int *wstatus, int *timed_out)
{
	char *argv[] = {"sh", "-c", (char *)cmd, NULL};
	char **env = NULL, *extra[HOOK_ENV_EXTRA] = {NULL, NULL, NULL};
	char ver[32];
	posix_spawn_file_actions_t fa;
	size_t n = 0, i, k = 0;
	struct timespec nap = {0, 50 * 1000 * 1000};
	long waited_ms = 0;
	pid_t pid, w;
	int rc = RK_ENOMEM, st = 0, fa_ok = 0, err;

	*timed_out = 0;
	while (environ != NULL && environ[n] != NULL)
		n++;
	snprintf(ver, sizeof(ver), "%" PRIu64, version);
	if ((env = calloc(n + HOOK_ENV_EXTRA + 1, sizeof(*env))) == NULL ||
	    (extra[0] = kv("RK_VERSION", ver)) == NULL ||
	    (extra[1] = kv("RK_EXPORT", export_pem)) == NULL ||
	    (export_dir != NULL &&
		(extra[2] = kv("RK_EXPORT_DIR", export_dir)) == NULL))
		goto out;
	for (i = 0; i < n; i++)
		if (!ours(environ[i]))
			env[k++] = environ[i];
	for (i = 0; i < HOOK_ENV_EXTRA; i++)
		if (extra[i] != NULL)
			env[k++] = extra[i];
	env[k] = NULL;
	if (posix_spawn_file_actions_init(&fa) != 0)
		goto out;
	fa_ok = 1;
	if (posix_spawn_file_actions_adddup2(&fa, 2, 1) != 0)
		goto out;
	rc = RK_EIO;
	if ((err = posix_spawn(&pid, "/bin/sh", &fa, NULL, argv, env)) != 0) {
		errno = err;
		goto out;
	}
	for (;;) {
		w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			goto out;
		if (!*timed_out && waited_ms >= (long)timeout * 1000) {
			*timed_out = 1;
			kill(pid, SIGKILL);
		}
		nanosleep(&nap, NULL);
		waited_ms += 50;
	}
	*wstatus = st;
	rc = RK_OK;
out:
	if (fa_ok)
		posix_spawn_file_actions_destroy(&fa);
	for (i = 0; i < HOOK_ENV_EXTRA; i++)
		free(extra[i]);
	free(env);
	return rc;
}
