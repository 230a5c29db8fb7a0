/* SPDX-License-Identifier: Apache-2.0 */
/*
 * See capath.h.  Names: HEX.pem for a certificate (HEX its SHA-256), and
 * for each subject hash H the links H.0, H.1, ... in the order of the
 * certificates' names, as `openssl rehash` numbers certificates that share
 * a subject.  Folders this module made are .BASE.XXXXXX beside DIR (BASE
 * its last component); older ones, and those a crash left behind, are
 * removed after a swap.
 */
#include "capath.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto.h"
#include "fileio.h"
#include "manifest.h"
#include "pem.h"
#include "x509name.h"

#define NAME_LEN (2 * CRYPTO_SHA256_LEN + 5) /* HEX.pem */
#define PATH_LEN 4096

struct entry {
	char name[NAME_LEN + 1];
	char link[16]; /* H.N */
	const uint8_t *der;
	size_t len;
};

/* a/b into out; -1 when it does not fit. */
static int
join(char *out, size_t cap, const char *a, const char *b)
{
	int n = snprintf(out, cap, "%s/%s", a, b);

	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(
	    ((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

static int
by_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether base is one of our folders: ".PREFIX." and six characters. */
static int
ours(const char *name, const char *base)
{
	size_t bl = strlen(base);

	return name[0] == '.' && strncmp(name + 1, base, bl) == 0 &&
	       name[1 + bl] == '.' && strlen(name + 2 + bl) == 6 &&
	       strchr(name + 2 + bl, '/') == NULL;
}

/* Removes a flat folder and what it holds; errors are ignored. */
static void
remove_flat(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;

	if (d != NULL) {
		while ((de = readdir(d)) != NULL)
			if (strcmp(de->d_name, ".") != 0 &&
			    strcmp(de->d_name, "..") != 0)
				(void)unlinkat(dirfd(d), de->d_name, 0);
		closedir(d);
	}
	(void)rmdir(path);
}

/* The names dir holds now, sorted; *n 0 and RK_OK when it is missing. */
static int
list_names(const char *dir, char ***out, size_t *n)
{
	char **v = NULL, **nv;
	size_t cnt = 0, cap = 0;
	struct dirent *de;
	DIR *d;

	*out = NULL;
	*n = 0;
	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT || errno == ENOTDIR ? RK_OK : RK_EIO;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (cnt == cap) {
			cap = cap ? 2 * cap : 64;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL)
				goto oom;
			v = nv;
		}
		if ((v[cnt] = strdup(de->d_name)) == NULL)
			goto oom;
		cnt++;
	}
	closedir(d);
	qsort(v, cnt, sizeof(*v), by_str);
	*out = v;
	*n = cnt;
	return RK_OK;
oom:
	closedir(d);
	while (cnt > 0)
		free(v[--cnt]);
	free(v);
	return RK_ENOMEM;
}

/* Whether dir holds exactly the names of e (files and links). */
static int
same_names(const char *dir, const struct entry *e, size_t n)
{
	char **have = NULL, **want = NULL;
	size_t nh = 0, i, k = 0;
	int same = 0;

	if (list_names(dir, &have, &nh) != RK_OK)
		return 0;
	if (nh != 2 * n || (want = calloc(2 * n + 1, sizeof(*want))) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		want[k++] = (char *)e[i].name;
		want[k++] = (char *)e[i].link;
	}
	qsort(want, k, sizeof(*want), by_str);
	same = 1;
	for (i = 0; i < k; i++)
		if (strcmp(want[i], have[i]) != 0)
			same = 0;
out:
	free(want);
	for (i = 0; i < nh; i++)
		free(have[i]);
	free(have);
	return same;
}

static int
fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return -1;
	if (fsync(fd) != 0)
		rc = -1;
	close(fd);
	return rc;
}

/* Writes the files and links of e into the fresh folder tmp. */
static int
fill(const char *tmp, const struct entry *e, size_t n, struct rk_why *why)
{
	char path[PATH_LEN], *pem = NULL;
	size_t i, plen;
	int rc;

	for (i = 0; i < n; i++) {
		if (join(path, sizeof(path), tmp, e[i].name) != 0)
			return rk_fail(why, RK_EINVAL, "%s: too long", tmp);
		if ((rc = pem_encode("CERTIFICATE", e[i].der, e[i].len, &pem,
			 &plen)) != RK_OK)
			return rk_fail(why, rc, "cannot encode a certificate");
		rc = fileio_write_new(path, pem, plen, 0644);
		free(pem);
		if (rc != RK_OK)
			return rk_fail(
			    why, RK_EIO, "%s: %s", path, strerror(errno));
		if (join(path, sizeof(path), tmp, e[i].link) != 0)
			return rk_fail(why, RK_EINVAL, "%s: too long", tmp);
		if (symlink(e[i].name, path) != 0)
			return rk_fail(
			    why, RK_EIO, "%s: %s", path, strerror(errno));
	}
	if (fsync_path(tmp) != 0)
		return rk_fail(why, RK_EIO, "%s: %s", tmp, strerror(errno));
	return RK_OK;
}

/*
 * Points dir at the folder new (a name in parent) by renaming a fresh
 * link over it.  dir may be missing, an empty folder, or our link.
 */
static int
swap(const char *dir, const char *parent, const char *base, const char *new,
    struct rk_why *why)
{
	char lnk[PATH_LEN], target[PATH_LEN];
	struct stat st;
	ssize_t tl;

	if (lstat(dir, &st) == 0) {
		if (S_ISLNK(st.st_mode)) {
			tl = readlink(dir, target, sizeof(target) - 1);
			if (tl < 0)
				return rk_fail(why, RK_EIO, "%s: %s", dir,
				    strerror(errno));
			target[tl] = '\0';
			if (!ours(target, base))
				return rk_fail(why, RK_EEXIST,
				    "%s: a link rootkeeper did not make; "
				    "remove it first",
				    dir);
		} else if (S_ISDIR(st.st_mode)) {
			/* An empty folder, made for us: replaced once. */
			if (rmdir(dir) != 0)
				return rk_fail(why, RK_EEXIST,
				    "%s: a folder rootkeeper did not make "
				    "(%s); remove it first",
				    dir, strerror(errno));
		} else {
			return rk_fail(why, RK_EEXIST,
			    "%s: exists and is not a folder", dir);
		}
	} else if (errno != ENOENT) {
		return rk_fail(why, RK_EIO, "%s: %s", dir, strerror(errno));
	}
	snprintf(lnk, sizeof(lnk), "%s/.%s.lnk", parent, base);
	if ((unlink(lnk) != 0 && errno != ENOENT) || symlink(new, lnk) != 0 ||
	    rename(lnk, dir) != 0) {
		int saved = errno;

		(void)unlink(lnk);
		return rk_fail(why, RK_EIO, "%s: %s", dir, strerror(saved));
	}
	if (fsync_path(parent) != 0)
		return rk_fail(why, RK_EIO, "%s: %s", parent, strerror(errno));
	return RK_OK;
}

/* Removes our folders in parent other than keep. */
static void
sweep(const char *parent, const char *base, const char *keep)
{
	char path[PATH_LEN];
	struct dirent *de;
	DIR *d = opendir(parent);

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (!ours(de->d_name, base) || strcmp(de->d_name, keep) == 0)
			continue;
		if (join(path, sizeof(path), parent, de->d_name) == 0)
			remove_flat(path);
	}
	closedir(d);
}

int
capath_write(const char *dir, const uint8_t *const *der, const size_t *len,
    size_t n, int *changed, struct rk_why *why)
{
	struct entry *e = NULL;
	char *pcopy = NULL, *bcopy = NULL, *parent, *base;
	char tmp[PATH_LEN];
	uint8_t fp[CRYPTO_SHA256_LEN];
	uint32_t *hash = NULL;
	size_t i, j, k, m = 0;
	int rc, made = 0;

	*changed = 0;
	if (strlen(dir) + 16 >= PATH_LEN)
		return rk_fail(why, RK_EINVAL, "%s: path too long", dir);
	if ((e = calloc(n + 1, sizeof(*e))) == NULL ||
	    (hash = calloc(n + 1, sizeof(*hash))) == NULL ||
	    (pcopy = strdup(dir)) == NULL || (bcopy = strdup(dir)) == NULL) {
		rc = rk_fail(why, RK_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((rc = crypto_sha256(der[i], len[i], NULL, 0, fp)) !=
		    RK_OK) {
			rk_fail(why, rc, "cannot hash a certificate");
			goto out;
		}
		for (j = 0; j < m; j++) /* a set has no duplicates; be sure */
			if (e[j].len == len[i] &&
			    memcmp(e[j].der, der[i], len[i]) == 0)
				break;
		if (j < m)
			continue;
		hex_encode(fp, CRYPTO_SHA256_LEN, e[m].name);
		memcpy(e[m].name + 2 * CRYPTO_SHA256_LEN, ".pem", 5);
		e[m].der = der[i];
		e[m].len = len[i];
		m++;
	}
	qsort(e, m, sizeof(*e), by_name);
	for (i = 0; i < m; i++) {
		if ((rc = x509name_subject_hash(
			 e[i].der, e[i].len, &hash[i])) != RK_OK) {
			rk_fail(
			    why, rc, "%s: cannot read its subject", e[i].name);
			goto out;
		}
		for (k = 0, j = 0; j < i; j++)
			k += hash[j] == hash[i];
		snprintf(e[i].link, sizeof(e[i].link), "%08x.%zu",
		    (unsigned)hash[i], k);
	}
	if (same_names(dir, e, m)) {
		rc = RK_OK;
		goto out;
	}
	parent = dirname(pcopy);
	base = basename(bcopy);
	if (base[0] == '\0' || strcmp(base, "/") == 0 ||
	    strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
		rc = rk_fail(why, RK_EINVAL, "%s: not a folder name", dir);
		goto out;
	}
	if ((rc = fileio_mkdirs(parent, 0755)) != RK_OK) {
		rk_fail(why, rc == RK_EINVAL ? RK_EEXIST : RK_EIO,
		    "%s: cannot make the folder", parent);
		rc = rc == RK_EINVAL ? RK_EEXIST : RK_EIO;
		goto out;
	}
	snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", parent, base);
	if (mkdtemp(tmp) == NULL || chmod(tmp, 0755) != 0) {
		rc = rk_fail(why, RK_EIO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	made = 1;
	if ((rc = fill(tmp, e, m, why)) != RK_OK)
		goto out;
	if ((rc = swap(dir, parent, base, strrchr(tmp, '/') + 1, why)) != RK_OK)
		goto out;
	made = 0;
	*changed = 1;
	sweep(parent, base, strrchr(tmp, '/') + 1);
out:
	if (made)
		remove_flat(tmp);
	free(e);
	free(hash);
	free(pcopy);
	free(bcopy);
	return rc;
}
