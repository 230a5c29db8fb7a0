/* SPDX-License-Identifier: Apache-2.0 */
/*
 * librootkeeper: the device's active trust set, as rootkeeper keeps it, for
 * the device's own TLS code.  A snapshot is read from the agent's store
 * (read-only: the application needs only read access to the database
 * file) and handed to wolfSSL, or as PEM to anything that takes a PEM
 * string (the Azure IoT C SDK's "TrustedCerts" option, say).
 *
 * All functions return 0 on success and a positive rootkeeper error code
 * otherwise (RK_ENOENT: no store or no active set, RK_ESTORE: the store
 * cannot be read, RK_ENOMEM, RK_ECRYPTO: wolfSSL failed, RK_EINVAL: a bad
 * argument); rk_strerror() says what it means.  A handle is for one thread
 * at a time; the WOLFSSL_CTXs loaded from it may be used from any number
 * of threads, as wolfSSL allows.
 *
 * Build with `pkg-config --cflags --libs rootkeeper` (it brings wolfSSL's
 * flags: this header includes wolfSSL's).
 */
#ifndef ROOTKEEPER_H
#define ROOTKEEPER_H

#include <stddef.h>
#include <stdint.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#ifdef __cplusplus
extern "C" {
#endif

struct rk_trust;

/*
 * Opens the store at db_path read-only and takes a consistent snapshot of
 * the active set (the certificates, the partial-distrust dates, the time
 * floor).  Certificates that the device distrusts for good are left out.
 * Fails when there is no store or no active set.  Free with
 * rk_trust_close().
 */
int rk_trust_open(const char *db_path, struct rk_trust **out);

/* NULL is fine. */
void rk_trust_close(struct rk_trust *t);

/* The version of the snapshot (0 never happens after a successful open). */
uint64_t rk_trust_version(const struct rk_trust *t);

/*
 * Cheap: one indexed read of the active version.  When it changed, the
 * snapshot is re-read and *changed is set to 1 (else 0); the application
 * should then build a new WOLFSSL_CTX with rk_trust_load_wolfssl().  Call
 * it before each connect.  On failure the old snapshot is kept.
 */
int rk_trust_refresh(struct rk_trust *t, int *changed);

/*
 * Loads the snapshot's CAs into ctx and turns peer verification on with
 * rootkeeper's verify callback (WOLFSSL_VERIFY_PEER): Debian's wolfSSL
 * is built with OpenSSL-compatible defaults under which a client that is
 * not told otherwise verifies nothing.  Besides wolfSSL's own checks, the
 * callback refuses a chain whose root is distrusted for leaves issued
 * after a date when the leaf's notBefore is later, refuses a chain whose
 * root is out of its own dates (which wolfSSL does not look at), and,
 * when the system clock is behind the time floor (a device without RTC
 * that boots in 1970), judges dates at the floor instead of now; it never
 * forgives anything but a date.
 *
 * The CAs already in ctx stay; give a fresh ctx to trust only this set.
 * The context keeps what the callback needs (in wolfSSL's ex_data of ctx,
 * at an index of its own; the roots are read once per snapshot, each
 * root's key the first time a chain needs it, and shared by the contexts
 * loaded from it): a later
 * rk_trust_refresh() does not change it, load a new ctx for the new set.  t
 * must outlive every connection made with ctx, and ctx should be freed before t
 * is closed.
 *
 * Calling wolfSSL_CTX_set_verify() (or wolfSSL_set_verify() on a
 * connection) afterwards REPLACES the callback and loses all of these
 * checks: use rk_trust_set_verify_cb() to add the application's own.
 * The host name is checked when the application sets it, e.g. with
 * wolfSSL_check_domain_name(ssl, "hub.example.net").
 */
int rk_trust_load_wolfssl(struct rk_trust *t, WOLFSSL_CTX *ctx);

/*
 * An application callback run after rootkeeper's checks, for each
 * certificate of the chain (the leaf last, at depth 0), with their verdict
 * as preverify and wolfSSL's store (wolfSSL_X509_STORE_CTX_get_error():
 * X509_V_ERR_CERT_REJECTED when rootkeeper refused a chain wolfSSL
 * accepted); what it returns decides.  It applies to every context
 * loaded from t.  NULL removes it.  Set it while no connection made with
 * those contexts is verifying.
 */
typedef int (*rk_verify_cb)(
    int preverify, WOLFSSL_X509_STORE_CTX *store, void *arg);
int rk_trust_set_verify_cb(struct rk_trust *t, rk_verify_cb cb, void *arg);

/*
 * The snapshot as concatenated PEM certificates, NUL-terminated; owned by
 * t and valid until the next refresh or close.  Partial distrust cannot be
 * expressed in PEM: a consumer of this string does not enforce it.
 */
int rk_trust_pem(struct rk_trust *t, const char **pem, size_t *len);

/* The message for a return value of this library; never NULL. */
const char *rk_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif
