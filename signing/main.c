/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rootkeeper-sign: the operator's tool on the signing host.  It makes keys,
 * builds and signs bundles, verifies and inspects them, and publishes them
 * into a folder that any static web server can serve.  This file turns the
 * libraries' error codes into messages and exit codes; it holds no format
 * or crypto logic of its own.  Exit codes: 0 success, 1 operational error,
 * 2 usage error, 3 bundle (or input) rejected.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "bundle.h"
#include "census.h"
#include "cli.h"
#include "crypto.h"
#include "error.h"
#include "fileio.h"
#include "help.h"
#include "jsonw.h"
#include "keys.h"
#include "manifest.h"
#include "p11uri.h"
#include "pem.h"
#include "review.h"
#include "rfc3339.h"
#include "secret.h"

#define EXIT_USAGE CLI_EXIT_USAGE
#define EXIT_REJECT CLI_EXIT_REJECT
#define MAX_ARGS 64		    /* --key, --certs, --pub, --next-keys */
#define KEY_FILE_MAX (64u << 10)    /* a key file is a few hundred bytes */
#define CERT_FILE_MAX (64u << 20)   /* a PEM file or one file of a folder */
#define BUNDLE_READ_MAX (64u << 20) /* what the tool reads; devices cap */
#define DEFAULT_EXPIRY_DAYS 90
#define FUTURE_SLACK 3600 /* how far ahead of the clock issued_at may be */
#define HEXID (2 * CRYPTO_SHA256_LEN + 1)

/* --help and per-command help, from the table the manual page is made of. */
static const struct help_entry help_table[] = {
#include "help_table.h"
#include "help.def"
};
#define HELP_N (sizeof(help_table) / sizeof(help_table[0]))

/* `rootkeeper-sign CMD --help`: that command's help, or the whole help. */
static void
print_help(const char *cmd)
{
	help_print_any(help_table, HELP_N, cmd, stdout);
}

/* Content errors mean "rejected"; the rest are operational. */
static int
exit_for(int rc)
{
	switch (rc) {
	case RK_OK:
		return 0;
	case RK_ETRUNC:
	case RK_EFORMAT:
	case RK_ETRAILING:
	case RK_ELIMIT:
	case RK_ESIG:
	case RK_EKEY:
	case RK_EMANIFEST:
	case RK_ECERT:
	case RK_EVERSION:
		return EXIT_REJECT;
	default:
		return 1;
	}
}

/* "PATH: what: reason" with errno for I/O failures. */
static int
report(const char *path, const char *what, int rc, const struct rk_why *why)
{
	if (rc == RK_EIO)
		cli_warn("%s: %s: %s", path, what, strerror(errno));
	else if (why != NULL && why->msg[0] != '\0')
		cli_warn("%s: %s: %s", path, what, why->msg);
	else
		cli_warn("%s: %s: %s", path, what, rk_strerror(rc));
	return exit_for(rc);
}

static int
parse_time_arg(const char *opt, const char *s, int64_t *out)
{
	if (rfc3339_parse(s, strlen(s), out) != RK_OK)
		return cli_usage("%s: '%s' is not an RFC 3339 UTC time "
				 "(YYYY-MM-DDTHH:MM:SSZ)",
		    opt, s);
	return 0;
}

/*
 * How a key argument is named in messages: a PKCS#11 URI only by its
 * token and object, so that a pin-value in it is never printed.
 */
static const char *
key_name(const char *arg, char *buf, size_t cap)
{
	struct p11uri u;

	if (!p11uri_is_uri(arg))
		return arg;
	if (p11uri_parse(arg, strlen(arg), &u, NULL) != RK_OK)
		snprintf(buf, cap, "pkcs11:(malformed URI)");
	else
		snprintf(
		    buf, cap, "pkcs11:token=%s;object=%s", u.token, u.object);
	p11uri_wipe(&u);
	return buf;
}

/*
 * A token's PIN: pin-value, else the first line of pin-source, else asked
 * on the terminal.  Usage error when there is no way to get one.
 */
static int
token_pin(const char *name, const struct p11uri *u, char *pin, size_t cap,
    size_t *len)
{
	char prompt[128];
	int rc;

	if (u->has_pin) {
		*len = strlen(u->pin);
		memcpy(pin, u->pin, *len + 1);
		return 0;
	}
	if (u->pin_source[0] != '\0') {
		rc = secret_from_file(u->pin_source, pin, cap, len);
		if (rc == RK_OK)
			return 0;
		cli_warn("%s: cannot read the PIN from pin-source %s: %s", name,
		    u->pin_source,
		    rc == RK_EIO || rc == RK_ENOENT ? strerror(errno)
		    : rc == RK_EFORMAT		    ? "empty first line"
						    : rk_strerror(rc));
		return 1;
	}
	snprintf(prompt, sizeof(prompt), "PIN for token '%s': ", u->token);
	rc = secret_from_tty(prompt, pin, cap, len);
	if (rc == RK_OK)
		return 0;
	if (rc == RK_ENOENT)
		return cli_usage("%s: the URI gives no PIN and there is no "
				 "terminal to ask on; add pin-source=FILE to "
				 "its query",
		    name);
	cli_warn("%s: cannot read the PIN: %s", name, rk_strerror(rc));
	return 1;
}

/* Exit code for a failure to reach a key in a token. */
static int
token_exit(int rc)
{
	switch (rc) {
	case RK_EFORMAT:
	case RK_EINVAL:
		return EXIT_USAGE;
	default:
		return 1;
	}
}

/*
 * Opens the token of uri and finds its key, or (generate) makes one of
 * alg there.
 */
static int
load_token_key(
    const char *uri, int generate, enum crypto_alg alg, struct privkey **out)
{
	char namebuf[400], pin[SECRET_MAX + 1];
	const char *name = key_name(uri, namebuf, sizeof(namebuf));
	struct rk_why why = {""};
	struct p11uri u;
	size_t pin_len = 0;
	int rc, ex;

	if ((rc = p11uri_parse(uri, strlen(uri), &u, &why)) != RK_OK)
		return cli_usage("%s: %s", name, why.msg);
	if ((ex = token_pin(name, &u, pin, sizeof(pin), &pin_len)) != 0)
		goto out;
	if (generate)
		rc =
		    privkey_generate_in_token(alg, &u, pin, pin_len, out, &why);
	else
		rc = privkey_from_token(&u, pin, pin_len, out, &why);
	if (rc != RK_OK) {
		cli_warn("%s: %s", name,
		    why.msg[0] != '\0' ? why.msg : rk_strerror(rc));
		ex = token_exit(rc);
	}
out:
	explicit_bzero(pin, sizeof(pin));
	p11uri_wipe(&u);
	return ex;
}

/* An encrypted key's passphrase: from passfile, else the terminal. */
static int
key_passphrase(
    const char *path, const char *passfile, char *pass, size_t cap, size_t *len)
{
	char prompt[256];
	int rc;

	if (passfile != NULL) {
		rc = secret_from_file(passfile, pass, cap, len);
		if (rc == RK_OK)
			return 0;
		cli_warn("%s: cannot read the passphrase: %s", passfile,
		    rc == RK_EIO || rc == RK_ENOENT ? strerror(errno)
		    : rc == RK_EFORMAT		    ? "empty first line"
						    : rk_strerror(rc));
		return 1;
	}
	snprintf(prompt, sizeof(prompt), "Passphrase for %.200s: ", path);
	rc = secret_from_tty(prompt, pass, cap, len);
	if (rc == RK_OK)
		return 0;
	if (rc == RK_ENOENT)
		return cli_usage("%s: the key is encrypted and there is no "
				 "terminal to ask for its passphrase; give "
				 "--passphrase-file FILE",
		    path);
	cli_warn("%s: cannot read the passphrase: %s", path, rk_strerror(rc));
	return 1;
}

/*
 * A signing key: a PKCS#8 PEM file (encrypted ones with a passphrase from
 * passfile or the terminal) or a key in a token named by a PKCS#11 URI.
 */
static int
load_privkey(const char *path, const char *passfile, struct privkey **out)
{
	char pass[SECRET_MAX + 1];
	size_t len = 0, pass_len = 0;
	uint8_t *buf = NULL;
	int rc, ex = 0, enc;

	if (p11uri_is_uri(path))
		return load_token_key(path, 0, CRYPTO_ED25519, out);
	if ((rc = fileio_read_stream(path, KEY_FILE_MAX, &buf, &len)) != RK_OK)
		return report(path, "cannot read key",
		    rc == RK_ENOENT ? RK_EIO : rc, NULL);
	enc = privkey_pem_encrypted((const char *)buf, len);
	if (enc && (ex = key_passphrase(
			path, passfile, pass, sizeof(pass), &pass_len)) != 0)
		goto out;
	rc = privkey_from_pem_pass(
	    (const char *)buf, len, enc ? pass : NULL, pass_len, out);
	if (rc != RK_OK && enc) {
		cli_warn("%s: wrong passphrase, or not an encrypted PKCS#8 "
			 "Ed25519 or ECDSA P-256 key (PKCS#5 v2)",
		    path);
		ex = rc == RK_EKEY || rc == RK_EFORMAT ? EXIT_USAGE : 1;
	} else if (rc != RK_OK) {
		cli_warn("%s: not a PKCS#8 Ed25519 or ECDSA P-256 private key "
			 "(\"PRIVATE KEY\" or \"ENCRYPTED PRIVATE KEY\" "
			 "PEM, or a pkcs11: URI)",
		    path);
		ex = rc == RK_EKEY || rc == RK_EFORMAT ? EXIT_USAGE : 1;
	}
out:
	explicit_bzero(pass, sizeof(pass));
	explicit_bzero(buf, len);
	free(buf);
	return ex;
}

static int
load_pubkey(const char *path, struct pubkey **out)
{
	struct rk_why why = {""};
	int rc = pubkey_from_file(path, out, &why);

	if (rc == RK_OK)
		return 0;
	cli_warn("%s", why.msg);
	return rc == RK_EKEY ? EXIT_USAGE : 1;
}

static void
free_pubkeys(struct pubkey **k, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		pubkey_free(k[i]);
}

static const char *
alg_name(unsigned alg)
{
	switch (alg) {
	case CRYPTO_ED25519:
		return "ed25519";
	case CRYPTO_ECDSA_P256:
		return "ecdsa-p256";
	}
	return "unknown";
}

/* ---- keygen ------------------------------------------------------- */

static int
cmd_keygen(int argc, char **argv)
{
	static const struct option opts[] = {{"alg", required_argument, 0, 'a'},
	    {"key", required_argument, 0, 'k'},
	    {"encrypt", no_argument, 0, 'e'},
	    {"passphrase-file", required_argument, 0, 'P'},
	    {"out", required_argument, 0, 'o'}, {"help", no_argument, 0, 'h'},
	    {0, 0, 0, 0}};
	enum crypto_alg alg = CRYPTO_ED25519;
	const char *name = NULL, *uri = NULL, *passfile = NULL;
	char namebuf[400], pass[SECRET_MAX + 1], again[SECRET_MAX + 1];
	size_t pass_len = 0, again_len = 0;
	int encrypt = 0;
	struct privkey *k = NULL;
	struct pubkey *pub = NULL;
	char *keypath = NULL, *pubpath = NULL, *pem = NULL, *pubpem = NULL;
	char hex[HEXID];
	const uint8_t *spki;
	size_t n, pemlen = 0, publen = 0, spki_len;
	struct stat st;
	int c, rc, ex = 1;

	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (strcmp(optarg, "ed25519") == 0)
				alg = CRYPTO_ED25519;
			else if (strcmp(optarg, "ecdsa-p256") == 0)
				alg = CRYPTO_ECDSA_P256;
			else
				return cli_usage("keygen: unknown --alg '%s' "
						 "(ed25519 or ecdsa-p256)",
				    optarg);
			break;
		case 'k':
			if (!p11uri_is_uri(optarg))
				return cli_usage("keygen: --key takes a "
						 "pkcs11: URI (a key file is "
						 "named by -o)");
			uri = optarg;
			break;
		case 'e':
			encrypt = 1;
			break;
		case 'P':
			passfile = optarg;
			break;
		case 'o':
			name = optarg;
			break;
		case 'h':
			print_help(argv[0]);
			return 0;
		default:
			return cli_usage("keygen: bad option");
		}
	}
	if (name == NULL || optind != argc)
		return cli_usage("keygen: needs -o NAME and nothing else");
	if (uri != NULL && (encrypt || passfile != NULL))
		return cli_usage("keygen: --encrypt is for key files; a key in "
				 "a token is protected by the token");
	if (passfile != NULL && !encrypt)
		return cli_usage("keygen: --passphrase-file needs --encrypt");
	n = strlen(name) + 5;
	if ((keypath = malloc(n)) == NULL || (pubpath = malloc(n)) == NULL)
		goto nomem;
	snprintf(keypath, n, "%s.key", name);
	snprintf(pubpath, n, "%s.pub", name);
	/* Check both before writing either, so a refusal leaves nothing. */
	if ((uri == NULL && lstat(keypath, &st) == 0) ||
	    lstat(pubpath, &st) == 0) {
		cli_warn("%s: refusing to overwrite an existing key",
		    lstat(pubpath, &st) == 0 ? pubpath : keypath);
		goto out;
	}
	if (uri != NULL) {
		/* The private key is made in the token and stays there. */
		if ((ex = load_token_key(uri, 1, alg, &k)) != 0)
			goto out;
		ex = 1;
		if ((rc = privkey_public(k, &pub)) != RK_OK) {
			cli_warn("keygen: %s", rk_strerror(rc));
			goto out;
		}
		spki = pubkey_spki(pub, &spki_len);
		if ((rc = pem_encode("PUBLIC KEY", spki, spki_len, &pubpem,
			 &publen)) != RK_OK)
			goto nomem;
		if ((rc = fileio_write_new(pubpath, pubpem, publen, 0644)) !=
		    RK_OK) {
			report(pubpath, "cannot create", rc, NULL);
			goto out;
		}
		hex_encode(pubkey_id(pub), CRYPTO_SHA256_LEN, hex);
		printf("private key: %s (in the token)\npublic key:  %s\n"
		       "key id:      %s\n",
		    key_name(uri, namebuf, sizeof(namebuf)), pubpath, hex);
		ex = 0;
		goto out;
	}
	if (encrypt) {
		/* Asked before the key exists: a typo costs nothing. */
		if (passfile == NULL) {
			rc = secret_from_tty(
			    "New passphrase: ", pass, sizeof(pass), &pass_len);
			if (rc == RK_OK)
				rc = secret_from_tty("Repeat it: ", again,
				    sizeof(again), &again_len);
			if (rc == RK_ENOENT) {
				ex = cli_usage("keygen: no terminal to ask "
					       "for the passphrase; give "
					       "--passphrase-file FILE");
				goto out;
			}
			if (rc == RK_OK &&
			    (pass_len != again_len ||
				memcmp(pass, again, pass_len) != 0)) {
				cli_warn("keygen: the passphrases differ");
				goto out;
			}
		} else {
			rc = secret_from_file(
			    passfile, pass, sizeof(pass), &pass_len);
		}
		if (rc != RK_OK) {
			cli_warn("keygen: cannot read the passphrase: %s",
			    rc == RK_EFORMAT ? "empty" : rk_strerror(rc));
			goto out;
		}
	}
	if ((rc = privkey_generate(alg, &k)) != RK_OK ||
	    (rc = encrypt ? privkey_to_pem_encrypted(
				k, pass, pass_len, &pem, &pemlen)
			  : privkey_to_pem(k, &pem, &pemlen)) != RK_OK ||
	    (rc = privkey_public(k, &pub)) != RK_OK) {
		cli_warn("keygen: %s", rk_strerror(rc));
		goto out;
	}
	spki = pubkey_spki(pub, &spki_len);
	if ((rc = pem_encode("PUBLIC KEY", spki, spki_len, &pubpem, &publen)) !=
	    RK_OK)
		goto nomem;
	if ((rc = fileio_write_new(keypath, pem, pemlen, 0600)) != RK_OK) {
		report(keypath, "cannot create", rc, NULL);
		goto out;
	}
	if ((rc = fileio_write_new(pubpath, pubpem, publen, 0644)) != RK_OK) {
		report(pubpath, "cannot create", rc, NULL);
		unlink(keypath);
		goto out;
	}
	hex_encode(pubkey_id(pub), CRYPTO_SHA256_LEN, hex);
	printf("private key: %s\npublic key:  %s\nkey id:      %s\n", keypath,
	    pubpath, hex);
	ex = 0;
	goto out;
nomem:
	cli_warn("keygen: %s", rk_strerror(RK_ENOMEM));
out:
	explicit_bzero(pass, sizeof(pass));
	explicit_bzero(again, sizeof(again));
	if (pem != NULL)
		explicit_bzero(pem, pemlen);
	free(pem);
	free(pubpem);
	free(keypath);
	free(pubpath);
	privkey_free(k);
	pubkey_free(pub);
	return ex;
}

/* ---- create ------------------------------------------------------- */

struct certlist {
	uint8_t *der[BUNDLE_MAX_CERTS];
	size_t len[BUNDLE_MAX_CERTS];
	uint8_t sha[BUNDLE_MAX_CERTS][CRYPTO_SHA256_LEN];
	size_t n;
	size_t duplicates;
	size_t expired;
	size_t distrusted;
};

static void
certlist_free(struct certlist *cl)
{
	size_t i;

	for (i = 0; i < cl->n; i++)
		free(cl->der[i]);
	cl->n = 0;
}

struct collect {
	int64_t now;
	int keep_expired;
	const struct distrust *distrust;
	size_t n_distrust;
};

/* Adds the certificates of one PEM text; takes ownership of nothing. */
static int
add_pem_file(
    struct certlist *cl, const char *path, const struct collect *co, int in_dir)
{
	uint8_t *buf = NULL, *der = NULL;
	size_t len = 0, pos = 0, der_len = 0, i, found = 0, j;
	struct certinfo ci;
	char when[RFC3339_LEN + 1];
	int rc, ex = 0;

	if ((rc = fileio_read_stream(path, CERT_FILE_MAX, &buf, &len)) != RK_OK)
		return report(
		    path, "cannot read", rc == RK_ENOENT ? RK_EIO : rc, NULL);
	for (;;) {
		rc = pem_next((const char *)buf, len, &pos, "CERTIFICATE", NULL,
		    &der, &der_len);
		if (rc == RK_ENOENT)
			break;
		if (rc != RK_OK) {
			ex = report(path, "bad PEM",
			    rc == RK_ENOMEM ? rc : RK_ECERT, NULL);
			goto out;
		}
		found++;
		if ((rc = crypto_cert_info(der, der_len, &ci)) != RK_OK) {
			cli_warn("%s: certificate %zu: not a valid X.509 "
				 "certificate",
			    path, found);
			ex = exit_for(rc == RK_ENOMEM ? rc : RK_ECERT);
			goto out;
		}
		if (!ci.is_ca && !(ci.version == 1 && ci.self_signed)) {
			cli_warn("%s: certificate %zu (%s): not a CA "
				 "(basicConstraints CA:TRUE, or a v1 "
				 "self-signed root)",
			    path, found, ci.subject);
			ex = EXIT_REJECT;
			goto out;
		}
		for (i = 0; i < cl->n; i++)
			if (memcmp(cl->sha[i], ci.sha256, CRYPTO_SHA256_LEN) ==
			    0)
				break;
		if (i < cl->n) {
			cl->duplicates++;
			free(der);
			der = NULL;
			continue;
		}
		for (j = 0; j < co->n_distrust; j++)
			if (manifest_distrust_full(&co->distrust[j]) &&
			    memcmp(co->distrust[j].sha256, ci.sha256,
				CRYPTO_SHA256_LEN) == 0)
				break;
		if (j < co->n_distrust) {
			cli_warn("warning: %s: leaving out %s: it is on the "
				 "distrust list",
			    path, ci.subject);
			cl->distrusted++;
			free(der);
			der = NULL;
			continue;
		}
		if (ci.not_after <= co->now && !co->keep_expired) {
			if (rfc3339_format(ci.not_after, when) != RK_OK)
				snprintf(when, sizeof(when), "?");
			cli_warn("warning: %s: dropping expired %s (expired "
				 "%s; --keep-expired keeps it)",
			    path, ci.subject, when);
			cl->expired++;
			free(der);
			der = NULL;
			continue;
		}
		if (cl->n >= BUNDLE_MAX_CERTS) {
			cli_warn("%s: more than %u certificates", path,
			    BUNDLE_MAX_CERTS);
			ex = EXIT_REJECT;
			goto out;
		}
		memcpy(cl->sha[cl->n], ci.sha256, CRYPTO_SHA256_LEN);
		cl->der[cl->n] = der;
		cl->len[cl->n] = der_len;
		cl->n++;
		der = NULL;
	}
	if (found == 0 && !in_dir) {
		cli_warn("%s: no PEM certificate in it", path);
		ex = EXIT_REJECT;
	}
out:
	free(der);
	free(buf);
	return ex;
}

static int
cert_name_filter(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 4 &&
	       (strcmp(d->d_name + n - 4, ".pem") == 0 ||
		   strcmp(d->d_name + n - 4, ".crt") == 0 ||
		   strcmp(d->d_name + n - 4, ".cer") == 0);
}

/* A folder: every *.pem, *.crt, *.cer file in it, in name order. */
static int
add_cert_dir(struct certlist *cl, const char *dir, const struct collect *co)
{
	struct dirent **names = NULL;
	struct stat st;
	char *path;
	int i, n, ex = 0;
	size_t plen;

	if ((n = scandir(dir, &names, cert_name_filter, alphasort)) < 0)
		return report(dir, "cannot read folder", RK_EIO, NULL);
	for (i = 0; i < n; i++) {
		plen = strlen(dir) + strlen(names[i]->d_name) + 2;
		if (ex == 0 && (path = malloc(plen)) != NULL) {
			snprintf(path, plen, "%s/%s", dir, names[i]->d_name);
			if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
				ex = add_pem_file(cl, path, co, 1);
			free(path);
		} else if (ex == 0) {
			ex = 1;
		}
		free(names[i]);
	}
	free(names);
	return ex;
}

static int
collect_certs(
    struct certlist *cl, char **paths, size_t n, const struct collect *co)
{
	struct stat st;
	size_t i;
	int ex;

	for (i = 0; i < n; i++) {
		if (stat(paths[i], &st) != 0)
			return report(paths[i], "cannot read", RK_EIO, NULL);
		ex = S_ISDIR(st.st_mode) ? add_cert_dir(cl, paths[i], co)
					 : add_pem_file(cl, paths[i], co, 0);
		if (ex != 0)
			return ex;
	}
	if (cl->n == 0) {
		cli_warn("no certificate left to put in the bundle");
		return EXIT_REJECT;
	}
	return 0;
}

/*
 * Signs b with every key; refuses two keys with one id (one signature
 * each is all a key can count for).
 */
static int
sign_with(struct bundle *b, struct privkey *const *keys, size_t n)
{
	const uint8_t *msg;
	uint8_t sig[KEYS_MAX_SIG];
	size_t msglen, siglen = 0, i;
	struct pubkey *pub;
	int rc;

	msg = bundle_message(b, &msglen);
	for (i = 0; i < n; i++) {
		if ((rc = privkey_public(keys[i], &pub)) != RK_OK)
			return rc;
		rc = privkey_sign(keys[i], msg, msglen, sig, &siglen);
		if (rc == RK_OK)
			rc = bundle_add_sig(b, pubkey_id(pub),
			    (uint8_t)privkey_alg(keys[i]), sig, siglen);
		pubkey_free(pub);
		if (rc != RK_OK)
			return rc;
	}
	return RK_OK;
}

/*
 * The bundle as a device will see it: re-parsed from the bytes, every
 * signature checked against the signers' public keys, manifest and
 * certificates checked.  Missing next_keys signatures are only a warning:
 * they may be added later with `sign`.
 */
static int
self_check(const char *path, const uint8_t *buf, size_t len,
    struct pubkey *const *pubs, size_t npubs)
{
	struct bundle *b = NULL;
	struct manifest *m = NULL;
	struct rk_why why = {""};
	unsigned valid = 0;
	int rc;

	if ((rc = bundle_open(buf, len, len, pubs, npubs, (unsigned)npubs, &b,
		 &m, &why)) == RK_OK) {
		bundle_free(b);
		manifest_free(m);
		return 0;
	}
	if (rc != RK_ESIG || bundle_parse(buf, len, &b, NULL) != RK_OK)
		return report(path, "self-check failed", rc, &why);
	rc = bundle_verify_sigs(b, pubs, npubs, (unsigned)npubs, NULL, &why);
	bundle_free(b);
	b = NULL;
	if (rc != RK_OK)
		return report(path, "self-check failed", rc, &why);
	/* Only the next_keys threshold is missing. */
	if (bundle_parse(buf, len, &b, NULL) == RK_OK) {
		const uint8_t *man;
		size_t man_len;

		man = bundle_manifest(b, &man_len);
		if (manifest_parse(man, man_len, &m, NULL) == RK_OK) {
			if (bundle_verify_sigs(b, m->next_keys, m->n_next_keys,
				1, &valid, NULL) == RK_EINVAL)
				valid = 0;
			cli_warn(
			    "warning: %s: signed by %u of the %u next keys "
			    "it needs; devices refuse it until `sign` adds "
			    "the rest",
			    path, valid, m->next_threshold);
		}
	}
	manifest_free(m);
	bundle_free(b);
	return 0;
}

/* What `create` was asked for: its command line, parsed and checked. */
struct create_opts {
	char *keypaths[MAX_ARGS], *certpaths[MAX_ARGS], *nextpaths[MAX_ARGS];
	size_t nkeys, ncerts, nnext;
	const char *channel, *out, *distrust_path, *passfile, *seed;
	char *note; /* the manifest's note */
	uint64_t version, thr, pct;
	int64_t issued, expires;
	int keep_expired;
};

/*
 * Parses create's command line into o: -1 when the bundle is to be
 * built, else the exit code (0 after --help, EXIT_USAGE after a message).
 */
static int
create_args(int argc, char **argv, struct create_opts *o)
{
	static const struct option opts[] = {{"key", required_argument, 0, 'k'},
	    {"channel", required_argument, 0, 'c'},
	    {"version", required_argument, 0, 'v'},
	    {"certs", required_argument, 0, 'C'},
	    {"expires-in", required_argument, 0, 'E'},
	    {"expires-at", required_argument, 0, 'e'},
	    {"issued-at", required_argument, 0, 'i'},
	    {"distrust", required_argument, 0, 'd'},
	    {"next-keys", required_argument, 0, 'n'},
	    {"next-threshold", required_argument, 0, 't'},
	    {"note", required_argument, 0, 'N'},
	    {"rollout", required_argument, 0, 'r'},
	    {"rollout-seed", required_argument, 0, 'R'},
	    {"keep-expired", no_argument, 0, 'K'},
	    {"passphrase-file", required_argument, 0, 'P'},
	    {"allow-future", no_argument, 0, 'F'},
	    {"out", required_argument, 0, 'o'}, {"help", no_argument, 0, 'h'},
	    {0, 0, 0, 0}};
	uint64_t days = DEFAULT_EXPIRY_DAYS;
	int have_expires_in = 0, have_expires_at = 0, have_thr = 0;
	int allow_future = 0, c;

	memset(o, 0, sizeof(*o));
	o->issued = (int64_t)time(NULL);
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
		case 'C':
		case 'n': {
			char **arr = c == 'k'	? o->keypaths
				     : c == 'C' ? o->certpaths
						: o->nextpaths;
			size_t *cnt = c == 'k'	 ? &o->nkeys
				      : c == 'C' ? &o->ncerts
						 : &o->nnext;

			if (*cnt >= MAX_ARGS)
				return cli_usage("create: too many --%s",
				    c == 'k'   ? "key"
				    : c == 'C' ? "certs"
					       : "next-keys");
			arr[(*cnt)++] = optarg;
			break;
		}
		case 'c':
			o->channel = optarg;
			break;
		case 'v':
			if (args_u64(optarg, 1, MANIFEST_VERSION_MAX,
				&o->version) != 0)
				return cli_usage("create: --version must be "
						 "an integer from 1 to "
						 "2^53-1, not '%s'",
				    optarg);
			break;
		case 'E':
			if (args_u64(optarg, 1, 36500, &days) != 0)
				return cli_usage("create: --expires-in must "
						 "be 1 to 36500 days, not "
						 "'%s'",
				    optarg);
			have_expires_in = 1;
			break;
		case 'e':
			if (parse_time_arg("--expires-at", optarg, &o->expires))
				return EXIT_USAGE;
			have_expires_at = 1;
			break;
		case 'i':
			if (parse_time_arg("--issued-at", optarg, &o->issued))
				return EXIT_USAGE;
			break;
		case 'd':
			o->distrust_path = optarg;
			break;
		case 't':
			if (args_u64(
				optarg, 1, MANIFEST_MAX_NEXT_KEYS, &o->thr))
				return cli_usage("create: --next-threshold "
						 "must be 1 to %d",
				    MANIFEST_MAX_NEXT_KEYS);
			have_thr = 1;
			break;
		case 'N':
			o->note = optarg;
			break;
		case 'r':
			if (args_u64(optarg, 1, 100, &o->pct) != 0)
				return cli_usage("create: --rollout must be a "
						 "percentage from 1 to 100, "
						 "not '%s'",
				    optarg);
			break;
		case 'R':
			if (!manifest_seed_ok(optarg))
				return cli_usage("create: --rollout-seed must "
						 "match [a-z0-9._-]{1,64}, "
						 "not '%s'",
				    optarg);
			o->seed = optarg;
			break;
		case 'K':
			o->keep_expired = 1;
			break;
		case 'P':
			o->passfile = optarg;
			break;
		case 'F':
			allow_future = 1;
			break;
		case 'o':
			o->out = optarg;
			break;
		case 'h':
			print_help(argv[0]);
			return 0;
		default:
			return cli_usage("create: bad option");
		}
	}
	if (optind != argc)
		return cli_usage(
		    "create: unexpected argument '%s'", argv[optind]);
	if (o->nkeys == 0 || o->channel == NULL || o->version == 0 ||
	    o->ncerts == 0 || o->out == NULL)
		return cli_usage("create: needs --key, --channel, --version, "
				 "--certs and -o");
	if (!manifest_channel_ok(o->channel))
		return cli_usage("create: --channel must match "
				 "[a-z0-9._-]{1,64}, not '%s'",
		    o->channel);
	if (have_expires_in && have_expires_at)
		return cli_usage("create: --expires-in and --expires-at "
				 "exclude each other");
	if (o->nnext > 0 && !have_thr)
		return cli_usage("create: --next-keys needs "
				 "--next-threshold");
	if ((o->pct > 0) != (o->seed != NULL))
		return cli_usage("create: --rollout and --rollout-seed go "
				 "together");
	if (have_thr && o->thr > o->nnext)
		return cli_usage("create: --next-threshold %" PRIu64
				 " is more than the %zu --next-keys",
		    o->thr, o->nnext);
	/*
	 * A device with a sane clock refuses a bundle issued more than a day
	 * ahead of it, and one that takes it lifts its time floor there: a
	 * typo in --issued-at could brick a fleet's updates.
	 */
	if (!allow_future && o->issued > (int64_t)time(NULL) + FUTURE_SLACK)
		return cli_usage("create: --issued-at is more than one hour "
				 "ahead of this host's clock (give "
				 "--allow-future if that is meant)");
	if (!have_expires_at)
		o->expires = o->issued + (int64_t)days * 86400;
	if (o->expires <= o->issued)
		return cli_usage("create: the expiry is not after issued_at");
	return -1;
}

static int
cmd_create(int argc, char **argv)
{
	struct create_opts o;
	char namebuf[400];
	size_t i, enc_len = 0, man_len = 0;
	struct privkey *keys[MAX_ARGS];
	struct pubkey *pubs[MAX_ARGS], *next[MAX_ARGS];
	struct certlist *cl = NULL;
	struct collect co = {0};
	struct manifest m;
	struct bundle *b = NULL;
	struct rk_why why = {""};
	uint8_t *man = NULL, *enc = NULL, *dbuf = NULL;
	size_t dlen = 0;
	char when[RFC3339_LEN + 1];
	int rc, ex;

	if ((ex = create_args(argc, argv, &o)) >= 0)
		return ex;
	memset(&m, 0, sizeof(m));
	m.note = o.note;
	co.keep_expired = o.keep_expired;
	for (i = 0; i < o.nkeys; i++)
		keys[i] = NULL, pubs[i] = NULL;
	for (i = 0; i < o.nnext; i++)
		next[i] = NULL;
	for (i = 0; i < o.nkeys; i++) {
		if ((ex = load_privkey(o.keypaths[i], o.passfile, &keys[i])) !=
		    0)
			goto out;
		if ((rc = privkey_public(keys[i], &pubs[i])) != RK_OK) {
			ex = report(
			    key_name(o.keypaths[i], namebuf, sizeof(namebuf)),
			    "cannot use key", rc, NULL);
			goto out;
		}
	}
	for (i = 0; i < o.nnext; i++)
		if ((ex = load_pubkey(o.nextpaths[i], &next[i])) != 0)
			goto out;
	ex = 1;
	if (o.distrust_path != NULL) {
		if ((rc = fileio_read_stream(o.distrust_path,
			 BUNDLE_MAX_MANIFEST, &dbuf, &dlen)) != RK_OK) {
			ex = report(o.distrust_path, "cannot read",
			    rc == RK_ENOENT ? RK_EIO : rc, NULL);
			goto out;
		}
		if ((rc = manifest_parse_distrust(dbuf, dlen, &m.distrust,
			 &m.n_distrust, &why)) != RK_OK) {
			ex = report(
			    o.distrust_path, "bad distrust list", rc, &why);
			goto out;
		}
	}
	if ((cl = calloc(1, sizeof(*cl))) == NULL)
		goto out;
	co.now = (int64_t)time(NULL);
	co.distrust = m.distrust;
	co.n_distrust = m.n_distrust;
	if ((ex = collect_certs(cl, o.certpaths, o.ncerts, &co)) != 0)
		goto out;
	ex = 1;
	if (cl->duplicates > 0)
		cli_warn("note: %zu duplicate certificate%s skipped",
		    cl->duplicates, cl->duplicates == 1 ? "" : "s");

	memcpy(m.channel, o.channel, strlen(o.channel) + 1);
	m.version = o.version;
	m.issued_at = o.issued;
	m.expires_at = o.expires;
	m.next_keys = next;
	m.n_next_keys = o.nnext;
	m.next_threshold = (unsigned)o.thr;
	if (o.seed != NULL) {
		m.rollout.percent = (unsigned)o.pct;
		memcpy(m.rollout.seed, o.seed, strlen(o.seed) + 1);
	}
	if ((rc = manifest_encode(&m, &man, &man_len, &why)) != RK_OK) {
		ex = report(o.out, "cannot build the manifest", rc, &why);
		goto out;
	}
	if ((rc = bundle_new(man, man_len, (const uint8_t *const *)cl->der,
		 cl->len, cl->n, &b, &why)) != RK_OK ||
	    (rc = sign_with(b, keys, o.nkeys)) != RK_OK ||
	    (rc = bundle_encode(b, &enc, &enc_len)) != RK_OK) {
		if (rc == RK_EEXIST)
			ex = cli_usage("create: the same key is given twice");
		else
			ex = report(o.out, "cannot build the bundle", rc, &why);
		goto out;
	}
	if ((ex = self_check(o.out, enc, enc_len, pubs, o.nkeys)) != 0)
		goto out;
	if ((rc = fileio_write_atomic(o.out, enc, enc_len, 0644)) != RK_OK) {
		ex = report(o.out, "cannot write", rc, NULL);
		goto out;
	}
	if (enc_len > BUNDLE_DEFAULT_MAX_SIZE)
		cli_warn("warning: %s is %zu bytes, over the devices' default "
			 "cap of %u (max_bundle_size)",
		    o.out, enc_len, BUNDLE_DEFAULT_MAX_SIZE);
	if (rfc3339_format(o.expires, when) != RK_OK)
		snprintf(when, sizeof(when), "?");
	printf("%s: channel %s, version %" PRIu64 ", %zu certificate%s, %zu "
	       "signature%s, expires %s (%zu bytes)\n",
	    o.out, o.channel, o.version, cl->n, cl->n == 1 ? "" : "s", o.nkeys,
	    o.nkeys == 1 ? "" : "s", when, enc_len);
	ex = 0;
out:
	for (i = 0; i < o.nkeys; i++) {
		privkey_free(keys[i]);
		pubkey_free(pubs[i]);
	}
	free_pubkeys(next, o.nnext);
	manifest_free_distrust(m.distrust, m.n_distrust);
	if (cl != NULL)
		certlist_free(cl);
	free(cl);
	free(dbuf);
	free(man);
	free(enc);
	bundle_free(b);
	return ex;
}

/* ---- reading a bundle --------------------------------------------- */

static int
read_bundle(const char *path, uint8_t **buf, size_t *len)
{
	int rc = fileio_read_stream(path, BUNDLE_READ_MAX, buf, len);

	if (rc == RK_ELIMIT)
		return report(path, "cannot read", rc, NULL);
	if (rc != RK_OK)
		return report(
		    path, "cannot read", rc == RK_ENOENT ? RK_EIO : rc, NULL);
	return 0;
}

/* Framing, manifest and certificates, without signature checks. */
static int
open_unverified(const char *path, const uint8_t *buf, size_t len,
    struct bundle **b, struct manifest **m)
{
	struct rk_why why = {""};
	const uint8_t *man;
	size_t man_len;
	int rc;

	if ((rc = bundle_parse(buf, len, b, &why)) != RK_OK)
		return report(path, "rejected", rc, &why);
	man = bundle_manifest(*b, &man_len);
	if ((rc = manifest_parse(man, man_len, m, &why)) != RK_OK ||
	    (rc = bundle_check_certs(*b, *m, NULL, &why)) != RK_OK) {
		bundle_free(*b);
		*b = NULL;
		return report(path, "rejected", rc, &why);
	}
	return 0;
}

/* ---- sign --------------------------------------------------------- */

struct loaded;
static int load_for_review(const char *path, struct loaded *l);
static void loaded_free(struct loaded *l);
static int review_before_signing(const char *in, const char *against);

static int
cmd_sign(int argc, char **argv)
{
	static const struct option opts[] = {{"key", required_argument, 0, 'k'},
	    {"passphrase-file", required_argument, 0, 'P'},
	    {"against", required_argument, 0, 'A'},
	    {"out", required_argument, 0, 'o'}, {"help", no_argument, 0, 'h'},
	    {0, 0, 0, 0}};
	const char *keypath = NULL, *in, *out = NULL, *passfile = NULL;
	const char *against = NULL;
	struct privkey *k = NULL;
	struct bundle *b = NULL;
	struct manifest *m = NULL;
	uint8_t *buf = NULL, *enc = NULL;
	size_t len = 0, enc_len = 0;
	char hex[HEXID];
	int c, rc, ex;

	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			keypath = optarg;
			break;
		case 'P':
			passfile = optarg;
			break;
		case 'A':
			against = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'h':
			print_help(argv[0]);
			return 0;
		default:
			return cli_usage("sign: bad option");
		}
	}
	if (keypath == NULL || optind != argc - 1)
		return cli_usage("sign: needs --key K.key and one IN.rkb");
	in = argv[optind];
	if (out == NULL)
		out = in;
	/* What is signed is shown before any key is touched. */
	if ((ex = review_before_signing(in, against)) != 0)
		return ex;
	if ((ex = load_privkey(keypath, passfile, &k)) != 0)
		return ex;
	if ((ex = read_bundle(in, &buf, &len)) != 0 ||
	    (ex = open_unverified(in, buf, len, &b, &m)) != 0)
		goto out;
	ex = 1;
	rc = sign_with(b, &k, 1);
	if (rc == RK_EEXIST) {
		struct pubkey *pub = NULL;

		if (privkey_public(k, &pub) == RK_OK) {
			hex_encode(pubkey_id(pub), CRYPTO_SHA256_LEN, hex);
			printf("%s: already signed by key %s; unchanged\n", in,
			    hex);
		}
		pubkey_free(pub);
		if (out != in &&
		    (rc = fileio_write_atomic(out, buf, len, 0644)) != RK_OK) {
			ex = report(out, "cannot write", rc, NULL);
			goto out;
		}
		ex = 0;
		goto out;
	}
	if (rc == RK_ELIMIT) {
		cli_warn("%s: already has %u signatures, the most a bundle "
			 "holds",
		    in, BUNDLE_MAX_SIGS);
		ex = EXIT_REJECT;
		goto out;
	}
	if (rc != RK_OK || (rc = bundle_encode(b, &enc, &enc_len)) != RK_OK) {
		ex = report(in, "cannot sign", rc, NULL);
		goto out;
	}
	if ((rc = fileio_write_atomic(out, enc, enc_len, 0644)) != RK_OK) {
		ex = report(out, "cannot write", rc, NULL);
		goto out;
	}
	printf("%s: %zu signature%s\n", out, bundle_nsigs(b),
	    bundle_nsigs(b) == 1 ? "" : "s");
	ex = 0;
out:
	privkey_free(k);
	bundle_free(b);
	manifest_free(m);
	free(buf);
	free(enc);
	return ex;
}

/* ---- verify ------------------------------------------------------- */

static int
cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {{"pub", required_argument, 0, 'p'},
	    {"threshold", required_argument, 0, 't'},
	    {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
	char *pubpaths[MAX_ARGS];
	struct pubkey *pubs[MAX_ARGS];
	size_t npubs = 0, i, distinct = 0, len = 0;
	uint64_t thr = 1;
	const char *path;
	struct bundle *b = NULL;
	struct manifest *m = NULL;
	struct rk_why why = {""};
	uint8_t *buf = NULL;
	unsigned valid = 0;
	char when[RFC3339_LEN + 1];
	int c, rc, ex = 0;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (npubs >= MAX_ARGS)
				return cli_usage("verify: too many --pub");
			pubpaths[npubs++] = optarg;
			break;
		case 't':
			if (args_u64(optarg, 1, BUNDLE_MAX_SIGS, &thr) != 0)
				return cli_usage("verify: --threshold must "
						 "be 1 to %u",
				    BUNDLE_MAX_SIGS);
			break;
		case 'h':
			print_help(argv[0]);
			return 0;
		default:
			return cli_usage("verify: bad option");
		}
	}
	if (npubs == 0 || optind != argc - 1)
		return cli_usage("verify: needs --pub P.pub and one FILE.rkb");
	path = argv[optind];
	for (i = 0; i < npubs; i++)
		pubs[i] = NULL;
	for (i = 0; i < npubs; i++)
		if ((ex = load_pubkey(pubpaths[i], &pubs[i])) != 0)
			goto out;
	distinct = pubkey_count_distinct(pubs, npubs);
	if (thr > distinct) {
		ex = cli_usage("verify: --threshold %" PRIu64
			       " is more than the %zu distinct keys given",
		    thr, distinct);
		goto out;
	}
	if ((ex = read_bundle(path, &buf, &len)) != 0)
		goto out;
	rc = bundle_open(
	    buf, len, len, pubs, npubs, (unsigned)thr, &b, &m, &why);
	if (rc != RK_OK) {
		ex = report(path, "rejected", rc, &why);
		goto out;
	}
	if (bundle_verify_sigs(b, pubs, npubs, 1, &valid, NULL) != RK_OK)
		valid = (unsigned)thr; /* bundle_open counted them already */
	if (rfc3339_format(m->expires_at, when) != RK_OK)
		snprintf(when, sizeof(when), "?");
	printf("%s: OK: channel %s, version %" PRIu64 ", %zu certificate%s, "
	       "%u of %zu key%s signed (threshold %" PRIu64 "), expires %s\n",
	    path, m->channel, m->version, bundle_ncerts(b),
	    bundle_ncerts(b) == 1 ? "" : "s", valid, distinct,
	    distinct == 1 ? "" : "s", thr, when);
	if (m->expires_at <= (int64_t)time(NULL))
		cli_warn("warning: %s expired at %s: devices will refuse it",
		    path, when);
	if (len > BUNDLE_DEFAULT_MAX_SIZE)
		cli_warn("warning: %s is %zu bytes, over the devices' default "
			 "cap of %u",
		    path, len, BUNDLE_DEFAULT_MAX_SIZE);
	ex = 0;
out:
	free_pubkeys(pubs, npubs);
	bundle_free(b);
	manifest_free(m);
	free(buf);
	return ex;
}

/*
 * The options of a command that takes only --json and --help: -1 when the
 * command goes on (*json set, optind at its operands), else its exit code
 * (0 after the help, a usage error).
 */
static int
json_opts(const char *cmd, int argc, char **argv, int *json)
{
	static const struct option opts[] = {{"json", no_argument, 0, 'j'},
	    {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
	int c;

	*json = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			*json = 1;
			break;
		case 'h':
			print_help(argv[0]);
			return 0;
		default:
			return cli_usage("%s: bad option", cmd);
		}
	}
	return -1;
}

/* ---- inspect ------------------------------------------------------ */

static void
inspect_json(const char *path, size_t len, const uint8_t *sha,
    const struct bundle *b, const struct manifest *m, const struct certinfo *ci)
{
	struct jsonw w;
	char hex[HEXID], t[RFC3339_LEN + 1];
	size_t i, slen;
	const struct bundle_sig *s;

	jsonw_init(&w, stdout, 1);
	jsonw_obj_open(&w, NULL);
	jsonw_str(&w, "file", path);
	jsonw_uint(&w, "size", len);
	hex_encode(sha, CRYPTO_SHA256_LEN, hex);
	jsonw_str(&w, "sha256", hex);
	jsonw_int(&w, "format", MANIFEST_FORMAT);
	jsonw_str(&w, "channel", m->channel);
	jsonw_uint(&w, "version", m->version);
	rfc3339_show(m->issued_at, t);
	jsonw_str(&w, "issued_at", t);
	rfc3339_show(m->expires_at, t);
	jsonw_str(&w, "expires_at", t);
	jsonw_str(&w, "note", m->note);
	jsonw_arr_open(&w, "distrust");
	for (i = 0; i < m->n_distrust; i++) {
		jsonw_obj_open(&w, NULL);
		hex_encode(m->distrust[i].sha256, CRYPTO_SHA256_LEN, hex);
		jsonw_str(&w, "sha256", hex);
		if (m->distrust[i].has_after) {
			rfc3339_show(m->distrust[i].after, t);
			jsonw_str(&w, "after", t);
		} else {
			jsonw_null(&w, "after");
		}
		jsonw_bool(&w, "lift", m->distrust[i].lift);
		jsonw_str(&w, "reason", m->distrust[i].reason);
		jsonw_obj_close(&w);
	}
	jsonw_arr_close(&w);
	if (m->rollout.percent > 0) {
		jsonw_obj_open(&w, "rollout");
		jsonw_uint(&w, "percent", m->rollout.percent);
		jsonw_str(&w, "seed", m->rollout.seed);
		jsonw_obj_close(&w);
	} else {
		jsonw_null(&w, "rollout");
	}
	if (m->n_next_keys > 0) {
		jsonw_obj_open(&w, "next_keys");
		jsonw_uint(&w, "threshold", m->next_threshold);
		jsonw_arr_open(&w, "key_ids");
		for (i = 0; i < m->n_next_keys; i++) {
			hex_encode(
			    pubkey_id(m->next_keys[i]), CRYPTO_SHA256_LEN, hex);
			jsonw_str(&w, NULL, hex);
		}
		jsonw_arr_close(&w);
		jsonw_obj_close(&w);
	} else {
		jsonw_null(&w, "next_keys");
	}
	jsonw_arr_open(&w, "certs");
	for (i = 0; i < bundle_ncerts(b); i++) {
		jsonw_obj_open(&w, NULL);
		jsonw_str(&w, "subject", ci[i].subject);
		hex_encode(ci[i].sha256, CRYPTO_SHA256_LEN, hex);
		jsonw_str(&w, "sha256", hex);
		rfc3339_show(ci[i].not_before, t);
		jsonw_str(&w, "not_before", t);
		rfc3339_show(ci[i].not_after, t);
		jsonw_str(&w, "not_after", t);
		jsonw_obj_close(&w);
	}
	jsonw_arr_close(&w);
	jsonw_arr_open(&w, "signatures");
	for (i = 0; i < bundle_nsigs(b); i++) {
		s = bundle_sig(b, i);
		jsonw_obj_open(&w, NULL);
		hex_encode(s->key_id, CRYPTO_SHA256_LEN, hex);
		jsonw_str(&w, "key_id", hex);
		jsonw_str(&w, "alg", alg_name(s->alg));
		slen = s->len;
		jsonw_uint(&w, "length", slen);
		jsonw_obj_close(&w);
	}
	jsonw_arr_close(&w);
	jsonw_bool(&w, "signatures_verified", 0);
	jsonw_obj_close(&w);
	jsonw_end(&w);
}

static void
inspect_text(const char *path, size_t len, const uint8_t *sha,
    const struct bundle *b, const struct manifest *m, const struct certinfo *ci)
{
	char hex[HEXID], t[RFC3339_LEN + 1];
	int64_t now = (int64_t)time(NULL);
	const struct bundle_sig *s;
	size_t i;

	hex_encode(sha, CRYPTO_SHA256_LEN, hex);
	printf("file:        %s (%zu bytes)\n", path, len);
	printf("sha256:      %s\n", hex);
	printf("channel:     %s\n", m->channel);
	printf("version:     %" PRIu64 "\n", m->version);
	rfc3339_show(m->issued_at, t);
	printf("issued_at:   %s\n", t);
	rfc3339_show(m->expires_at, t);
	printf(
	    "expires_at:  %s%s\n", t, m->expires_at <= now ? " (EXPIRED)" : "");
	if (m->note != NULL)
		printf("note:        %s\n", m->note);
	printf("distrust:    %zu\n", m->n_distrust);
	for (i = 0; i < m->n_distrust; i++) {
		hex_encode(m->distrust[i].sha256, CRYPTO_SHA256_LEN, hex);
		if (m->distrust[i].has_after) {
			rfc3339_show(m->distrust[i].after, t);
			printf("  %s  leaves issued after %s", hex, t);
		} else if (m->distrust[i].lift) {
			printf("  %s  lifted (trusted again)", hex);
		} else {
			printf("  %s  never trusted", hex);
		}
		if (m->distrust[i].reason != NULL &&
		    m->distrust[i].reason[0] != '\0')
			printf(": %s", m->distrust[i].reason);
		putchar('\n');
	}
	if (m->rollout.percent > 0)
		printf("rollout:     %u%% (seed %s)\n", m->rollout.percent,
		    m->rollout.seed);
	if (m->n_next_keys > 0) {
		printf("next_keys:   %u of %zu\n", m->next_threshold,
		    m->n_next_keys);
		for (i = 0; i < m->n_next_keys; i++) {
			hex_encode(
			    pubkey_id(m->next_keys[i]), CRYPTO_SHA256_LEN, hex);
			printf("  %s\n", hex);
		}
	}
	printf("certs:       %zu\n", bundle_ncerts(b));
	for (i = 0; i < bundle_ncerts(b); i++) {
		rfc3339_show(ci[i].not_after, t);
		hex_encode(ci[i].sha256, CRYPTO_SHA256_LEN, hex);
		printf("  %s\n    not_after %s%s  sha256 %s\n", ci[i].subject,
		    t, ci[i].not_after <= now ? " (EXPIRED)" : "", hex);
	}
	printf("signatures:  %zu (not verified here; use verify --pub)\n",
	    bundle_nsigs(b));
	for (i = 0; i < bundle_nsigs(b); i++) {
		s = bundle_sig(b, i);
		hex_encode(s->key_id, CRYPTO_SHA256_LEN, hex);
		printf("  %s  %s\n", hex, alg_name(s->alg));
	}
}

static int
cmd_inspect(int argc, char **argv)
{
	struct bundle *b = NULL;
	struct manifest *m = NULL;
	struct certinfo *ci = NULL;
	struct rk_why why = {""};
	uint8_t *buf = NULL, sha[CRYPTO_SHA256_LEN];
	size_t len = 0;
	const char *path;
	int json = 0, rc, ex;

	if ((ex = json_opts("inspect", argc, argv, &json)) >= 0)
		return ex;
	if (optind != argc - 1)
		return cli_usage("inspect: needs one FILE.rkb");
	path = argv[optind];
	if ((ex = read_bundle(path, &buf, &len)) != 0 ||
	    (ex = open_unverified(path, buf, len, &b, &m)) != 0)
		goto out;
	ex = 1;
	if ((ci = calloc(bundle_ncerts(b), sizeof(*ci))) == NULL ||
	    crypto_sha256(buf, len, NULL, 0, sha) != RK_OK)
		goto out;
	if ((rc = bundle_check_certs(b, m, ci, &why)) != RK_OK) {
		ex = report(path, "rejected", rc, &why);
		goto out;
	}
	if (json)
		inspect_json(path, len, sha, b, m, ci);
	else
		inspect_text(path, len, sha, b, m, ci);
	ex = fflush(stdout) == 0 ? 0 : 1;
out:
	free(ci);
	bundle_free(b);
	manifest_free(m);
	free(buf);
	return ex;
}

/* ---- diff --------------------------------------------------------- */

/* A bundle read and parsed for review (signatures not checked). */
struct loaded {
	uint8_t *buf;
	size_t len;
	struct bundle *b;
	struct manifest *m;
	struct certinfo *ci;
	struct review_side side;
};

static void
loaded_free(struct loaded *l)
{
	free(l->ci);
	bundle_free(l->b);
	manifest_free(l->m);
	free(l->buf);
	memset(l, 0, sizeof(*l));
}

static int
load_for_review(const char *path, struct loaded *l)
{
	struct rk_why why = {""};
	int rc, ex;

	memset(l, 0, sizeof(*l));
	if ((ex = read_bundle(path, &l->buf, &l->len)) != 0 ||
	    (ex = open_unverified(path, l->buf, l->len, &l->b, &l->m)) != 0)
		goto out;
	if ((l->ci = calloc(bundle_ncerts(l->b), sizeof(*l->ci))) == NULL ||
	    crypto_sha256(l->buf, l->len, NULL, 0, l->side.sha256) != RK_OK) {
		ex = report(path, "cannot read", RK_ENOMEM, NULL);
		goto out;
	}
	if ((rc = bundle_check_certs(l->b, l->m, l->ci, &why)) != RK_OK) {
		ex = report(path, "rejected", rc, &why);
		goto out;
	}
	l->side.path = path;
	l->side.m = l->m;
	l->side.ci = l->ci;
	l->side.n = bundle_ncerts(l->b);
	return 0;
out:
	loaded_free(l);
	return ex;
}

static int
cmd_diff(int argc, char **argv)
{
	struct loaded o, n;
	int json = 0, ex;

	if ((ex = json_opts("diff", argc, argv, &json)) >= 0)
		return ex;
	if (optind != argc - 2)
		return cli_usage("diff: needs OLD.rkb and NEW.rkb");
	if ((ex = load_for_review(argv[optind], &o)) != 0)
		return ex;
	if ((ex = load_for_review(argv[optind + 1], &n)) != 0) {
		loaded_free(&o);
		return ex;
	}
	if (json)
		review_diff_json(stdout, &o.side, &n.side);
	else
		review_diff_text(stdout, &o.side, &n.side);
	ex = fflush(stdout) == 0 ? 0 : 1;
	loaded_free(&o);
	loaded_free(&n);
	return ex;
}

/*
 * sign's preview on stderr: the bundle in brief and, given the published
 * latest, what changes from it.
 */
static int
review_before_signing(const char *in, const char *against)
{
	struct loaded n, o;
	int ex;

	if ((ex = load_for_review(in, &n)) != 0)
		return ex;
	review_summary(stderr, &n.side);
	if (against != NULL) {
		if ((ex = load_for_review(against, &o)) != 0) {
			loaded_free(&n);
			return ex;
		}
		review_diff_text(stderr, &o.side, &n.side);
		loaded_free(&o);
	}
	loaded_free(&n);
	return 0;
}

/* ---- census ------------------------------------------------------- */

struct census_stats {
	size_t lines, agents, other, malformed;
};

/* Feeds every line of one log ("-": standard input) to the census. */
static int
census_file(const char *path, struct census *c, struct census_stats *st)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, len;
	ssize_t n;
	int rc, ex = 0, first = 1;

	if (f == NULL)
		return report(path, "cannot read", RK_EIO, NULL);
	while ((n = getline(&line, &cap, f)) >= 0) {
		len = (size_t)n;
		if (first && len >= 2 && (uint8_t)line[0] == 0x1f &&
		    (uint8_t)line[1] == 0x8b) {
			cli_warn("%s: a compressed log; give it uncompressed "
				 "(zcat %s | rootkeeper-sign census -)",
			    path, path);
			ex = EXIT_USAGE;
			goto out;
		}
		first = 0;
		if (len > 0 && line[len - 1] == '\n')
			len--;
		if (len > 0 && line[len - 1] == '\r')
			len--;
		if (len == 0)
			continue;
		st->lines++;
		rc = census_add(c, line, len);
		if (rc == RK_OK)
			st->agents++;
		else if (rc == RK_ENOENT)
			st->other++;
		else if (rc == RK_EFORMAT)
			st->malformed++;
		else {
			ex = report(path, "census", rc, NULL);
			goto out;
		}
	}
	if (ferror(f))
		ex = report(path, "cannot read", RK_EIO, NULL);
out:
	free(line);
	if (f != stdin)
		fclose(f);
	return ex;
}

static const char *const census_kinds[] = {"active", "deferred", "agents"};

static int
census_json(const struct census *c)
{
	struct census_count *cnt = NULL;
	size_t i, k, j, n = 0;
	struct jsonw w;

	jsonw_init(&w, stdout, 1);
	jsonw_obj_open(&w, NULL);
	jsonw_uint(&w, "devices", census_devices(c));
	jsonw_obj_open(&w, "channels");
	for (i = 0; i < census_nchannels(c); i++) {
		jsonw_obj_open(&w, census_channel(c, i));
		for (k = 0; k < 3; k++) {
			if (census_tally(c, i, (enum census_kind)k, &cnt, &n) !=
			    RK_OK)
				return 1;
			jsonw_obj_open(&w, census_kinds[k]);
			for (j = 0; j < n; j++)
				jsonw_uint(&w, cnt[j].key, cnt[j].count);
			jsonw_obj_close(&w);
			free(cnt);
		}
		jsonw_obj_close(&w);
	}
	jsonw_obj_close(&w);
	jsonw_obj_close(&w);
	jsonw_end(&w);
	return 0;
}

static int
census_text(const struct census *c, const struct census_stats *st)
{
	static const char *const heads[] = {"active version",
	    "deferred version (held back by a staged rollout)",
	    "agent version"};
	struct census_count *cnt = NULL;
	size_t i, k, j, n = 0, total;

	printf("devices: %zu\n", census_devices(c));
	for (i = 0; i < census_nchannels(c); i++) {
		if (census_tally(c, i, CENSUS_DEVICES, &cnt, &n) != RK_OK)
			return 1;
		total = n > 0 ? cnt[0].count : 0;
		free(cnt);
		printf("\nchannel %s: %zu device%s\n", census_channel(c, i),
		    total, total == 1 ? "" : "s");
		for (k = 0; k < 3; k++) {
			if (census_tally(c, i, (enum census_kind)k, &cnt, &n) !=
			    RK_OK)
				return 1;
			if (n > 0)
				printf("  %s:\n", heads[k]);
			for (j = 0; j < n; j++)
				printf("    %-20s %6zu  %5.1f%%\n", cnt[j].key,
				    cnt[j].count,
				    100.0 * (double)cnt[j].count /
					(double)(total > 0 ? total : 1));
			free(cnt);
		}
	}
	printf("\n%zu log lines: %zu from agents, %zu from other clients (or "
	       "agents without a census id), %zu malformed\n",
	    st->lines, st->agents, st->other, st->malformed);
	return 0;
}

static int
cmd_census(int argc, char **argv)
{
	struct census_stats st = {0, 0, 0, 0};
	struct census *c = NULL;
	int json = 0, ex = 0, i;

	if ((ex = json_opts("census", argc, argv, &json)) >= 0)
		return ex;
	ex = 0;
	if (optind >= argc)
		return cli_usage("census: needs at least one ACCESS_LOG");
	if (census_new(&c) != RK_OK)
		return report("census", "cannot start", RK_ENOMEM, NULL);
	for (i = optind; i < argc && ex == 0; i++)
		ex = census_file(argv[i], c, &st);
	if (ex == 0) {
		ex = json ? census_json(c) : census_text(c, &st);
		if (ex == 0 && fflush(stdout) != 0)
			ex = 1;
	}
	if (ex == 0 && st.malformed > 0)
		cli_warn("warning: %zu malformed log line%s skipped (not the "
			 "\"combined\" format, or a broken rootkeeper "
			 "User-Agent)",
		    st.malformed, st.malformed == 1 ? "" : "s");
	census_free(c);
	return ex;
}

/* ---- publish ------------------------------------------------------ */

static char *
join(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 2;
	char *s = malloc(n);

	if (s != NULL)
		snprintf(s, n, "%s/%s", a, b);
	return s;
}

/* The highest N of the N.rkb files in dir (0 when none). */
static int
highest_published(const char *dir, uint64_t *top)
{
	struct dirent *d;
	DIR *dp;
	uint64_t v;
	size_t n;
	char num[32];

	*top = 0;
	if ((dp = opendir(dir)) == NULL)
		return report(dir, "cannot read folder", RK_EIO, NULL);
	while ((d = readdir(dp)) != NULL) {
		n = strlen(d->d_name);
		if (n <= 4 || n - 4 >= sizeof(num) ||
		    strcmp(d->d_name + n - 4, ".rkb") != 0)
			continue;
		memcpy(num, d->d_name, n - 4);
		num[n - 4] = '\0';
		if (args_u64(num, 1, MANIFEST_VERSION_MAX, &v) == 0 && v > *top)
			*top = v;
	}
	closedir(dp);
	return 0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Rewrites rdir/index.txt: the versions of the N.rkb files in rdir, in
 * ascending order, one a line.  A device whose pinned keys are behind
 * reads it to walk the rotations it missed (README, "Key rotation").
 */
static int
write_rotation_index(const char *rdir)
{
	struct dirent *d;
	DIR *dp;
	uint64_t v, *vs = NULL, *nv;
	size_t n = 0, cap = 0, i, used = 0, len;
	char num[32], *text = NULL, *ipath = NULL;
	int rc, ex = 1;

	if ((dp = opendir(rdir)) == NULL)
		return report(rdir, "cannot read folder", RK_EIO, NULL);
	while ((d = readdir(dp)) != NULL) {
		len = strlen(d->d_name);
		if (len <= 4 || len - 4 >= sizeof(num) ||
		    strcmp(d->d_name + len - 4, ".rkb") != 0)
			continue;
		memcpy(num, d->d_name, len - 4);
		num[len - 4] = '\0';
		if (args_u64(num, 1, MANIFEST_VERSION_MAX, &v) != 0)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			if ((nv = realloc(vs, cap * sizeof(*vs))) == NULL)
				goto out;
			vs = nv;
		}
		vs[n++] = v;
	}
	if (n > 0)
		qsort(vs, n, sizeof(*vs), cmp_u64);
	if ((text = malloc(n * 21 + 1)) == NULL ||
	    (ipath = join(rdir, "index.txt")) == NULL)
		goto out;
	text[0] = '\0';
	for (i = 0; i < n; i++)
		if (i == 0 || vs[i] != vs[i - 1])
			used += (size_t)snprintf(text + used, n * 21 + 1 - used,
			    "%" PRIu64 "\n", vs[i]);
	if ((rc = fileio_write_atomic(ipath, text, used, 0644)) != RK_OK) {
		report(ipath, "cannot write", rc, NULL);
		goto out;
	}
	ex = 0;
out:
	closedir(dp);
	free(vs);
	free(text);
	free(ipath);
	return ex;
}

static int
cmd_publish(int argc, char **argv)
{
	static const struct option opts[] = {{"to", required_argument, 0, 'T'},
	    {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
	const char *dir = NULL, *path;
	char *chdir_ = NULL, *vpath = NULL, *lpath = NULL, vname[32];
	char *rdir = NULL, *rpath = NULL;
	struct bundle *b = NULL, *lb = NULL;
	struct manifest *m = NULL, *lm = NULL;
	uint8_t *buf = NULL, *old = NULL;
	size_t len = 0, old_len = 0;
	uint64_t top = 0;
	int c, rc, ex;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'T':
			dir = optarg;
			break;
		case 'h':
			print_help(argv[0]);
			return 0;
		default:
			return cli_usage("publish: bad option");
		}
	}
	if (dir == NULL || optind != argc - 1)
		return cli_usage("publish: needs one FILE.rkb and --to DIR");
	path = argv[optind];
	if ((ex = read_bundle(path, &buf, &len)) != 0 ||
	    (ex = open_unverified(path, buf, len, &b, &m)) != 0)
		goto out;
	ex = 1;
	/* A first publish makes the folder the web server will serve. */
	if ((rc = fileio_mkdirs(dir, 0755)) != RK_OK) {
		if (rc == RK_EINVAL)
			cli_warn("%s: not a folder", dir);
		else
			report(dir, "cannot create", rc, NULL);
		goto out;
	}
	snprintf(vname, sizeof(vname), "%" PRIu64 ".rkb", m->version);
	if ((chdir_ = join(dir, m->channel)) == NULL ||
	    (vpath = join(chdir_, vname)) == NULL ||
	    (lpath = join(chdir_, "latest.rkb")) == NULL)
		goto out;
	if (mkdir(chdir_, 0755) != 0 && errno != EEXIST) {
		report(chdir_, "cannot create", RK_EIO, NULL);
		goto out;
	}
	rc = fileio_read(lpath, BUNDLE_READ_MAX, &old, &old_len);
	if (rc == RK_OK) {
		/* Fail closed: an unreadable latest is not "no latest". */
		if ((ex = open_unverified(lpath, old, old_len, &lb, &lm)) !=
		    0) {
			cli_warn(
			    "%s: cannot tell the published version; fix or "
			    "remove it first",
			    lpath);
			ex = 1;
			goto out;
		}
		ex = 1;
		if (m->version <= lm->version) {
			cli_warn("%s: refusing to publish version %" PRIu64
				 ": not above the published latest %" PRIu64,
			    path, m->version, lm->version);
			ex = EXIT_REJECT;
			goto out;
		}
	} else if (rc != RK_ENOENT) {
		report(lpath, "cannot read", rc, NULL);
		goto out;
	}
	free(old);
	old = NULL;
	rc = fileio_read(vpath, BUNDLE_READ_MAX, &old, &old_len);
	if (rc == RK_OK && (old_len != len || memcmp(old, buf, len) != 0)) {
		cli_warn("%s: exists with other content; refusing to publish "
			 "two bundles under one version",
		    vpath);
		ex = EXIT_REJECT;
		goto out;
	}
	/*
	 * latest.rkb may be gone (deleted, or a crash between the two
	 * writes): the numbered files still say how far publishing got, and
	 * latest must never go below that.  Re-publishing the newest one,
	 * byte for byte, restores latest.
	 */
	if ((ex = highest_published(chdir_, &top)) != 0)
		goto out;
	ex = 1;
	if (m->version < top) {
		cli_warn("%s: refusing to publish version %" PRIu64
			 ": version %" PRIu64 " is already published in %s",
		    path, m->version, top, chdir_);
		ex = EXIT_REJECT;
		goto out;
	}
	/*
	 * A rotation goes under rotations/ first: a device that missed it
	 * needs it to verify every later latest.rkb.
	 */
	if (m->n_next_keys > 0) {
		if ((rdir = join(chdir_, "rotations")) == NULL ||
		    (rpath = join(rdir, vname)) == NULL)
			goto out;
		if (mkdir(rdir, 0755) != 0 && errno != EEXIST) {
			report(rdir, "cannot create", RK_EIO, NULL);
			goto out;
		}
		free(old);
		old = NULL;
		rc = fileio_read(rpath, BUNDLE_READ_MAX, &old, &old_len);
		if (rc == RK_OK &&
		    (old_len != len || memcmp(old, buf, len) != 0)) {
			cli_warn("%s: exists with other content; refusing to "
				 "publish two bundles under one version",
			    rpath);
			ex = EXIT_REJECT;
			goto out;
		}
		if ((rc = fileio_write_atomic(rpath, buf, len, 0644)) !=
		    RK_OK) {
			report(rpath, "cannot write", rc, NULL);
			goto out;
		}
		if ((ex = write_rotation_index(rdir)) != 0)
			goto out;
		ex = 1;
	}
	if ((rc = fileio_write_atomic(vpath, buf, len, 0644)) != RK_OK) {
		report(vpath, "cannot write", rc, NULL);
		goto out;
	}
	if ((rc = fileio_write_atomic(lpath, buf, len, 0644)) != RK_OK) {
		report(lpath, "cannot write", rc, NULL);
		goto out;
	}
	printf("published %s\nlatest    %s -> version %" PRIu64 "\n", vpath,
	    lpath, m->version);
	if (rpath != NULL)
		printf("rotation  %s (signing keys rotate)\n", rpath);
	ex = 0;
out:
	free(rdir);
	free(rpath);
	bundle_free(b);
	bundle_free(lb);
	manifest_free(m);
	manifest_free(lm);
	free(buf);
	free(old);
	free(chdir_);
	free(vpath);
	free(lpath);
	return ex;
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {{"keygen", cmd_keygen}, {"create", cmd_create},
	    {"sign", cmd_sign}, {"verify", cmd_verify},
	    {"inspect", cmd_inspect}, {"publish", cmd_publish},
	    {"diff", cmd_diff}, {"census", cmd_census}};
	size_t i;
	int ex;

	cli_set_name("rootkeeper-sign");
	if (argc < 2)
		return cli_usage("no command given");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		print_help(NULL);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("rootkeeper-sign %s\n", RK_VERSION_STRING);
		return 0;
	}
	if ((ex = help_dispatch(help_table, HELP_N, argc - 1, argv + 1)) >= 0)
		return ex;
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].fn(argc - 1, argv + 1);
	return cli_usage("unknown command '%s'", argv[1]);
}
