/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The smallest application of librootkeeper, built by the install suites
 * (tests/tls/install.sh, tests/packaging/install.sh) against an installed
 * copy of the library: it opens a store that does not exist, which must
 * fail with "not found", and prints that message.  It exits 0 when the
 * library answered so, 1 otherwise.
 */
#include <stdio.h>
#include <string.h>

#include <rootkeeper.h>

int
main(void)
{
	struct rk_trust *t = NULL;
	int rc = rk_trust_open("/nonexistent/store.db", &t);

	if (rc == 0 || t != NULL)
		return 1;
	printf("%s\n", rk_strerror(rc));
	return strcmp(rk_strerror(rc), "not found") != 0;
}
