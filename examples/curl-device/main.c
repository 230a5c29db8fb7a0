/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rk-curl-get: a libcurl program that trusts exactly the device's active
 * root set, read from rootkeeper's store with librootkeeper and given to
 * libcurl as a PEM blob (CURLOPT_CAINFO_BLOB), so that it never reads the
 * system store nor a file that may be mid-update.  It fetches one URL and
 * writes the body to stdout.  A long-running program would keep the
 * handle and call rk_trust_refresh() before each transfer, setting the
 * blob again when it changed.  PEM consumers cannot enforce a distrust
 * after a date (rootkeeper.h); use librootkeeper's wolfSSL loader where
 * that matters.
 *
 * usage: rk-curl-get --db STORE [--resolve HOST:PORT:ADDR] URL
 * exit: 0 fetched, 1 transfer or TLS failure, 2 usage, 3 no trust set.
 */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>
#include <rootkeeper.h>

int
main(int argc, char **argv)
{
	const char *db = NULL, *url = NULL, *resolve = NULL;
	struct curl_slist *res = NULL;
	struct rk_trust *t = NULL;
	struct curl_blob blob;
	const char *pem;
	size_t len;
	CURLcode cc;
	CURL *curl = NULL;
	int i, rc, ex = 1;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
			db = argv[++i];
		else if (strcmp(argv[i], "--resolve") == 0 && i + 1 < argc)
			resolve = argv[++i];
		else if (argv[i][0] != '-' && url == NULL)
			url = argv[i];
		else
			url = NULL, db = NULL, i = argc;
	}
	if (db == NULL || url == NULL) {
		fputs(
		    "usage: rk-curl-get --db STORE [--resolve HOST:PORT:ADDR] "
		    "URL\n",
		    stderr);
		return 2;
	}
	if ((rc = rk_trust_open(db, &t)) != 0 ||
	    (rc = rk_trust_pem(t, &pem, &len)) != 0) {
		fprintf(stderr, "rk-curl-get: %s: %s\n", db, rk_strerror(rc));
		rk_trust_close(t);
		return 3;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (curl = curl_easy_init()) == NULL)
		goto out;
	blob.data = (void *)pem;
	blob.len = len;
	blob.flags = CURL_BLOB_COPY;
	if (resolve != NULL && (res = curl_slist_append(NULL, resolve)) == NULL)
		goto out;
	/* The active set and nothing else: no default CA file or folder. */
	if (curl_easy_setopt(curl, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_CAINFO, NULL) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_CAPATH, NULL) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_CAINFO_BLOB, &blob) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_RESOLVE, res) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_FAILONERROR, 1L) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L) != CURLE_OK) {
		fputs(
		    "rk-curl-get: libcurl lacks an option it needs\n", stderr);
		goto out;
	}
	if ((cc = curl_easy_perform(curl)) != CURLE_OK) {
		fprintf(stderr, "rk-curl-get: %s: %s\n", url,
		    curl_easy_strerror(cc));
		goto out;
	}
	ex = 0;
out:
	curl_slist_free_all(res);
	curl_easy_cleanup(curl);
	curl_global_cleanup();
	rk_trust_close(t);
	return ex;
}
