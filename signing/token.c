/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The PKCS#11 client of token.h, over the standard pkcs11.h (p11-kit's
 * copy) and dlopen.  wolfSSL's own PKCS#11 layer is not used: the Debian
 * build (5.5.4) has no EdDSA in it and cannot read a public key out of a
 * token, and this module needs little of PKCS#11.  Every length a module
 * returns is checked before its bytes are used.
 */
#include "token.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include <p11-kit/pkcs11.h>

#define MAX_SLOTS 64

struct token {
	void *dl;
	CK_FUNCTION_LIST *f;
	int initialized;
	CK_SESSION_HANDLE session;
	int open;
	int logged_in;
	CK_OBJECT_HANDLE key;
	enum crypto_alg alg;
	int have_key;
};

/* DER of the curve OIDs as CKA_EC_PARAMS holds them. */
static const uint8_t p256_params[] = {
    0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const uint8_t ed25519_params[] = {0x06, 0x03, 0x2b, 0x65, 0x70};
/* PKCS#11 3.0 also allows the curve's name as a PrintableString. */
static const uint8_t ed25519_name[] = {
    0x13, 0x0c, 'e', 'd', 'w', 'a', 'r', 'd', 's', '2', '5', '5', '1', '9'};

void
token_close(struct token *t)
{
	if (t == NULL)
		return;
	if (t->logged_in)
		t->f->C_Logout(t->session);
	if (t->open)
		t->f->C_CloseSession(t->session);
	if (t->initialized)
		t->f->C_Finalize(NULL);
	if (t->dl != NULL)
		dlclose(t->dl);
	free(t);
}

/* A blank-padded CK_UTF8CHAR[32] label equal to want? */
static int
label_eq(const CK_UTF8CHAR label[32], const char *want)
{
	size_t n = strlen(want), i;

	if (n > 32 || memcmp(label, want, n) != 0)
		return 0;
	for (i = n; i < 32; i++)
		if (label[i] != ' ')
			return 0;
	return 1;
}

/* The slot whose token is labelled want. */
static int
find_slot(
    struct token *t, const char *want, CK_SLOT_ID *slot, struct rk_why *why)
{
	CK_SLOT_ID slots[MAX_SLOTS];
	CK_ULONG n = MAX_SLOTS, i;
	CK_TOKEN_INFO info;
	CK_RV rv;

	rv = t->f->C_GetSlotList(CK_TRUE, slots, &n);
	if (rv != CKR_OK)
		return rk_fail(why, RK_ECRYPTO,
		    "PKCS#11: C_GetSlotList failed (0x%lx)", rv);
	for (i = 0; i < n && i < MAX_SLOTS; i++) {
		if (t->f->C_GetTokenInfo(slots[i], &info) != CKR_OK)
			continue;
		if (label_eq(info.label, want)) {
			*slot = slots[i];
			return RK_OK;
		}
	}
	return rk_fail(why, RK_ENOENT, "PKCS#11: no token labelled '%s'", want);
}

int
token_open(const struct p11uri *u, const char *pin, size_t pin_len,
    struct token **out, struct rk_why *why)
{
	CK_C_GetFunctionList getfl;
	CK_C_INITIALIZE_ARGS args;
	CK_SLOT_ID slot;
	struct token *t;
	CK_RV rv;
	int rc;

	if (u->module[0] == '\0')
		return rk_fail(why, RK_EINVAL,
		    "PKCS#11 URI: needs module-path= (the token's module, "
		    "e.g. /usr/lib/softhsm/libsofthsm2.so)");
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return RK_ENOMEM;
	if ((t->dl = dlopen(u->module, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		rc = rk_fail(
		    why, RK_EIO, "PKCS#11: cannot load module %s", u->module);
		goto out;
	}
	*(void **)&getfl = dlsym(t->dl, "C_GetFunctionList");
	if (getfl == NULL || getfl(&t->f) != CKR_OK || t->f == NULL) {
		rc = rk_fail(why, RK_EIO, "PKCS#11: %s is not a PKCS#11 module",
		    u->module);
		goto out;
	}
	memset(&args, 0, sizeof(args));
	args.flags = CKF_OS_LOCKING_OK;
	rv = t->f->C_Initialize(&args);
	if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		rc = rk_fail(why, RK_ECRYPTO,
		    "PKCS#11: C_Initialize failed (0x%lx)", rv);
		goto out;
	}
	t->initialized = rv == CKR_OK;
	if ((rc = find_slot(t, u->token, &slot, why)) != RK_OK)
		goto out;
	rv = t->f->C_OpenSession(
	    slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &t->session);
	if (rv != CKR_OK) {
		rc = rk_fail(why, RK_ECRYPTO,
		    "PKCS#11: C_OpenSession failed (0x%lx)", rv);
		goto out;
	}
	t->open = 1;
	rv = t->f->C_Login(t->session, CKU_USER, (CK_UTF8CHAR *)pin, pin_len);
	if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LEN_RANGE ||
	    rv == CKR_PIN_LOCKED || rv == CKR_ARGUMENTS_BAD) {
		rc = rk_fail(why, RK_EKEY,
		    "PKCS#11: token '%s' refused the PIN%s", u->token,
		    rv == CKR_PIN_LOCKED ? " (PIN locked)" : "");
		goto out;
	}
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
		rc = rk_fail(
		    why, RK_ECRYPTO, "PKCS#11: C_Login failed (0x%lx)", rv);
		goto out;
	}
	t->logged_in = rv == CKR_OK;
	*out = t;
	return RK_OK;
out:
	token_close(t);
	return rc;
}

/*
 * Up to two objects of class cls labelled label; *n says how many there
 * were (2 meaning "more than one").
 */
static int
find_objects(struct token *t, CK_OBJECT_CLASS cls, const char *label,
    CK_OBJECT_HANDLE found[2], CK_ULONG *n)
{
	CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &cls, sizeof(cls)},
	    {CKA_LABEL, (void *)label, strlen(label)}};
	CK_RV rv;

	if (t->f->C_FindObjectsInit(t->session, tmpl, 2) != CKR_OK)
		return RK_ECRYPTO;
	rv = t->f->C_FindObjects(t->session, found, 2, n);
	t->f->C_FindObjectsFinal(t->session);
	return rv == CKR_OK && *n <= 2 ? RK_OK : RK_ECRYPTO;
}

/* One attribute of at most cap bytes. */
static int
get_attr(struct token *t, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type, void *buf,
    size_t cap, size_t *len)
{
	CK_ATTRIBUTE a = {type, NULL, 0};

	if (t->f->C_GetAttributeValue(t->session, o, &a, 1) != CKR_OK ||
	    a.ulValueLen == CK_UNAVAILABLE_INFORMATION || a.ulValueLen > cap)
		return RK_EKEY;
	a.pValue = buf;
	if (t->f->C_GetAttributeValue(t->session, o, &a, 1) != CKR_OK)
		return RK_EKEY;
	*len = a.ulValueLen;
	return RK_OK;
}

/*
 * The raw public key of a public-key object: CKA_EC_POINT is a DER OCTET
 * STRING of the point (some modules give the bare point; both are taken).
 */
static int
read_pub(struct token *t, CK_OBJECT_HANDLE o, enum crypto_alg *alg,
    uint8_t pub[TOKEN_PUB_MAX], size_t *pub_len, struct rk_why *why)
{
	uint8_t params[32], point[TOKEN_PUB_MAX + 2];
	size_t plen = 0, n = 0, want;
	CK_KEY_TYPE kt = 0;
	size_t ktlen = 0;
	const uint8_t *p = point;

	if (get_attr(t, o, CKA_KEY_TYPE, &kt, sizeof(kt), &ktlen) ||
	    ktlen != sizeof(kt) ||
	    get_attr(t, o, CKA_EC_PARAMS, params, sizeof(params), &plen))
		return rk_fail(why, RK_EKEY,
		    "PKCS#11: the key is neither ECDSA P-256 nor Ed25519");
	if (kt == CKK_EC && plen == sizeof(p256_params) &&
	    memcmp(params, p256_params, plen) == 0) {
		*alg = CRYPTO_ECDSA_P256;
		want = 65;
	} else if (kt == CKK_EC_EDWARDS &&
		   ((plen == sizeof(ed25519_params) &&
			memcmp(params, ed25519_params, plen) == 0) ||
		       (plen == sizeof(ed25519_name) &&
			   memcmp(params, ed25519_name, plen) == 0))) {
		*alg = CRYPTO_ED25519;
		want = 32;
	} else {
		return rk_fail(why, RK_EKEY,
		    "PKCS#11: the key is neither ECDSA P-256 nor Ed25519");
	}
	if (get_attr(t, o, CKA_EC_POINT, point, sizeof(point), &n))
		return rk_fail(why, RK_EKEY,
		    "PKCS#11: cannot read the "
		    "public key");
	if (n == want + 2 && point[0] == 0x04 && point[1] == want) {
		p += 2;
		n -= 2;
	}
	if (n != want || (want == 65 && p[0] != 0x04))
		return rk_fail(why, RK_EKEY,
		    "PKCS#11: the public key is not in a known form");
	memcpy(pub, p, n);
	*pub_len = n;
	return RK_OK;
}

int
token_find_key(struct token *t, const char *label, enum crypto_alg *alg,
    uint8_t pub[TOKEN_PUB_MAX], size_t *pub_len, struct rk_why *why)
{
	CK_OBJECT_HANDLE priv[2], pubo[2];
	CK_ULONG npriv = 0, npub = 0;
	CK_KEY_TYPE kt = 0;
	size_t ktlen = 0;
	int rc;

	if (find_objects(t, CKO_PRIVATE_KEY, label, priv, &npriv) ||
	    find_objects(t, CKO_PUBLIC_KEY, label, pubo, &npub))
		return rk_fail(why, RK_ECRYPTO,
		    "PKCS#11: C_FindObjects "
		    "failed");
	if (npriv == 0)
		return rk_fail(why, RK_ENOENT,
		    "PKCS#11: no private key labelled '%s'", label);
	if (npriv > 1 || npub > 1)
		return rk_fail(why, RK_EEXIST,
		    "PKCS#11: more than one key labelled '%s'", label);
	if (npub == 0)
		return rk_fail(why, RK_ENOENT,
		    "PKCS#11: no public key labelled '%s' next to the "
		    "private one",
		    label);
	if ((rc = read_pub(t, pubo[0], alg, pub, pub_len, why)) != RK_OK)
		return rc;
	/* The private half must be of the same kind as the public one. */
	if (get_attr(t, priv[0], CKA_KEY_TYPE, &kt, sizeof(kt), &ktlen) ||
	    kt != (*alg == CRYPTO_ED25519 ? CKK_EC_EDWARDS : CKK_EC))
		return rk_fail(why, RK_EKEY,
		    "PKCS#11: private and public key '%s' differ in kind",
		    label);
	t->key = priv[0];
	t->alg = *alg;
	t->have_key = 1;
	return RK_OK;
}

int
token_generate(struct token *t, const char *label, enum crypto_alg alg,
    uint8_t pub[TOKEN_PUB_MAX], size_t *pub_len, struct rk_why *why)
{
	CK_OBJECT_HANDLE found[2], hpub, hpriv;
	CK_ULONG n = 0;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_MECHANISM mech = {alg == CRYPTO_ED25519 ? CKM_EC_EDWARDS_KEY_PAIR_GEN
						   : CKM_EC_KEY_PAIR_GEN,
	    NULL, 0};
	const uint8_t *params =
	    alg == CRYPTO_ED25519 ? ed25519_params : p256_params;
	size_t plen = alg == CRYPTO_ED25519 ? sizeof(ed25519_params)
					    : sizeof(p256_params);
	size_t llen = strlen(label);
	CK_ATTRIBUTE pubt[] = {{CKA_TOKEN, &yes, sizeof(yes)},
	    {CKA_VERIFY, &yes, sizeof(yes)}, {CKA_LABEL, (void *)label, llen},
	    {CKA_EC_PARAMS, (void *)params, plen}};
	CK_ATTRIBUTE privt[] = {{CKA_TOKEN, &yes, sizeof(yes)},
	    {CKA_PRIVATE, &yes, sizeof(yes)}, {CKA_SIGN, &yes, sizeof(yes)},
	    {CKA_SENSITIVE, &yes, sizeof(yes)},
	    {CKA_EXTRACTABLE, &no, sizeof(no)},
	    {CKA_LABEL, (void *)label, llen}};
	CK_RV rv;

	if (find_objects(t, CKO_PRIVATE_KEY, label, found, &n))
		return rk_fail(why, RK_ECRYPTO,
		    "PKCS#11: C_FindObjects "
		    "failed");
	if (n == 0 && find_objects(t, CKO_PUBLIC_KEY, label, found, &n))
		return rk_fail(why, RK_ECRYPTO,
		    "PKCS#11: C_FindObjects "
		    "failed");
	if (n > 0)
		return rk_fail(why, RK_EEXIST,
		    "PKCS#11: a key labelled '%s' is already in the token; "
		    "refusing to make another",
		    label);
	rv = t->f->C_GenerateKeyPair(t->session, &mech, pubt,
	    sizeof(pubt) / sizeof(pubt[0]), privt,
	    sizeof(privt) / sizeof(privt[0]), &hpub, &hpriv);
	if (rv == CKR_MECHANISM_INVALID || rv == CKR_DOMAIN_PARAMS_INVALID ||
	    rv == CKR_CURVE_NOT_SUPPORTED)
		return rk_fail(why, RK_EINVAL,
		    "PKCS#11: the token cannot make %s keys",
		    alg == CRYPTO_ED25519 ? "Ed25519" : "ECDSA P-256");
	if (rv != CKR_OK)
		return rk_fail(why, RK_ECRYPTO,
		    "PKCS#11: C_GenerateKeyPair failed (0x%lx)", rv);
	return token_find_key(t, label, &alg, pub, pub_len, why);
}

int
token_sign(struct token *t, const uint8_t *in, size_t len,
    uint8_t sig[TOKEN_SIG_MAX], size_t *sig_len)
{
	CK_MECHANISM mech = {
	    t->alg == CRYPTO_ED25519 ? CKM_EDDSA : CKM_ECDSA, NULL, 0};
	CK_ULONG n = TOKEN_SIG_MAX;

	if (!t->have_key)
		return RK_EINVAL;
	if (t->f->C_SignInit(t->session, &mech, t->key) != CKR_OK)
		return RK_ECRYPTO;
	if (t->f->C_Sign(t->session, (CK_BYTE *)in, len, sig, &n) != CKR_OK ||
	    n != TOKEN_SIG_MAX)
		return RK_ECRYPTO;
	*sig_len = n;
	return RK_OK;
}
