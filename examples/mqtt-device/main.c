/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rk-mqtt-device: an example device application to copy.  It connects to
 * an MQTT broker over TLS with wolfSSL, trusting exactly the root CAs that
 * the rootkeeper agent keeps active on the device, read through
 * librootkeeper (<rootkeeper.h>).  It shows the three things a device must
 * get right: refresh the trust set before each connection, build a new
 * WOLFSSL_CTX when the set changed, and check the broker's host name.  It
 * is not an MQTT client: each attempt sends CONNECT, reads CONNACK and
 * disconnects; no subscriptions, no pings, no backoff.
 *
 * One line per attempt on stdout; exit 0 when the last attempt connected,
 * 1 when it was refused for a certificate reason, 2 usage error, 3 network,
 * MQTT or other failure.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <rootkeeper.h> /* includes wolfssl/options.h and wolfssl/ssl.h */
#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

#define EXIT_CERT 1
#define EXIT_USAGE 2
#define EXIT_OTHER 3

#define IO_TIMEOUT_S 10	  /* connect, and each read or write after it */
#define MQTT_KEEPALIVE 30 /* seconds */
/* MQTT 3.1.1 section 3.1.3.1: every broker accepts 1 to 23 bytes. */
#define CLIENT_ID_MAX 23

enum outcome {
	CONNECTED,
	REFUSED_CERT,  /* the broker's certificate was not accepted */
	REFUSED_OTHER, /* network, TLS, MQTT */
};

struct target {
	const char *host;      /* where to connect */
	const char *port;      /* decimal, checked */
	const char *name;      /* the name the certificate must carry */
	const char *client_id; /* 1 to CLIENT_ID_MAX bytes */
};

static const char usage_text[] =
    "usage: rk-mqtt-device --db STORE.db --host HOST --port PORT\n"
    "           [--name HOSTNAME] [--client-id ID] [--count N]\n"
    "           [--interval SECONDS]\n"
    "\n"
    "Connect to an MQTT broker over TLS N times (default 1), SECONDS apart\n"
    "(default 5), trusting the root CAs rootkeeper keeps in STORE.db.\n"
    "HOSTNAME (default HOST) is the SNI and the name the broker's\n"
    "certificate must carry; ID (default rk-mqtt-device) is 1 to 23 bytes.\n"
    "\n"
    "exit status: 0 the last attempt connected, 1 it was refused for a\n"
    "certificate reason, 2 usage error, 3 network, MQTT or other failure\n";

/* Parses a decimal in [min, max]; 0 on success. */
static int
parse_ulong(
    const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (s[0] < '0' || s[0] > '9') /* strtoul takes "-1" and " 1" */
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/*
 * A TCP connection to host:port, or -1 with the reason in why.  The
 * timeouts bound connect() (on Linux) and every read and write after it:
 * a broker that stops answering must not hang the device.
 */
static int
tcp_connect(const char *host, const char *port, char *why, size_t n)
{
	struct addrinfo hints = {
	    .ai_family = AF_UNSPEC,
	    .ai_socktype = SOCK_STREAM,
	};
	struct addrinfo *res = NULL, *ai;
	struct timeval tv = {.tv_sec = IO_TIMEOUT_S};
	int fd = -1, err, saved = 0;

	err = getaddrinfo(host, port, &hints, &res);
	if (err != 0) {
		snprintf(why, n, "resolve %s: %s", host, gai_strerror(err));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ==
			0 &&
		    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ==
			0 &&
		    connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		snprintf(why, n, "connect: %s",
		    saved == EINPROGRESS ? "timed out" : strerror(saved));
	return fd;
}

/*
 * wolfSSL's reasons for refusing the peer's certificate, as opposed to the
 * network or TLS itself failing.
 */
static int
is_cert_error(const WOLFSSL *ssl, int err)
{
	switch (err) {
	case ASN_NO_SIGNER_E:
	case ASN_SIG_CONFIRM_E:
	case ASN_AFTER_DATE_E:
	case ASN_BEFORE_DATE_E:
	case ASN_PATHLEN_INV_E:
	case ASN_NAME_INVALID_E:
	case ASN_SELF_SIGNED_E:
	case DOMAIN_NAME_MISMATCH:
	case IPADDR_MISMATCH:
	case VERIFY_CERT_ERROR:
	case NO_PEER_CERT:
		return 1;
	default:
		return wolfSSL_get_verify_result(ssl) != X509_V_OK;
	}
}

/*
 * wolfSSL's text for err, where it says what went wrong.  This build
 * (OPENSSL_EXTRA) calls a missing signer "certificate verify failed".  A
 * refusal by the verify callback of a chain wolfSSL found valid is
 * "verify problem on certificate": this program sets no callback of its
 * own, so it is librootkeeper's.
 */
static const char *
tls_error_text(int err)
{
	switch (err) {
	case ASN_NO_SIGNER_E:
		return "no trusted root signed the chain";
	case VERIFY_CERT_ERROR:
		return "rejected by rootkeeper (its root is distrusted for "
		       "leaves issued after a date, or is not valid now)";
	default:
		return wolfSSL_ERR_reason_error_string((unsigned long)err);
	}
}

/* Sets why for a failed wolfSSL call that returned ret. */
static enum outcome
tls_failure(WOLFSSL *ssl, int ret, const char *what, char *why, size_t n)
{
	int err = wolfSSL_get_error(ssl, ret);

	if (is_cert_error(ssl, err)) {
		snprintf(why, n, "certificate verify failed: %s (wolfSSL %d)",
		    tls_error_text(err), err);
		return REFUSED_CERT;
	}
	if (err == WOLFSSL_ERROR_WANT_READ || err == WOLFSSL_ERROR_WANT_WRITE)
		snprintf(why, n, "%s: timed out", what);
	else if (err == WOLFSSL_ERROR_ZERO_RETURN ||
		 err == SOCKET_PEER_CLOSED_E)
		snprintf(why, n, "%s: connection closed by the broker", what);
	else
		snprintf(why, n, "%s: %s", what, tls_error_text(err));
	return REFUSED_OTHER;
}

/* Writes all of buf; 0 on success. */
static int
tls_write_all(WOLFSSL *ssl, const uint8_t *buf, size_t len, char *why, size_t n)
{
	int ret = wolfSSL_write(ssl, buf, (int)len);

	/* A blocking wolfSSL_write() sends all of it or fails. */
	if (ret != (int)len) {
		(void)tls_failure(ssl, ret, "send", why, n);
		return -1;
	}
	return 0;
}

/* Reads exactly len bytes into buf; 0 on success. */
static int
tls_read_exact(WOLFSSL *ssl, uint8_t *buf, size_t len, char *why, size_t n)
{
	size_t got = 0;
	int ret;

	while (got < len) {
		/* Never asks for more than what is left of buf. */
		ret = wolfSSL_read(ssl, buf + got, (int)(len - got));
		if (ret <= 0) {
			(void)tls_failure(ssl, ret, "receive", why, n);
			return -1;
		}
		got += (size_t)ret;
	}
	return 0;
}

/*
 * An MQTT 3.1.1 CONNECT with a clean session (section 3.1): its size.  buf
 * holds at least 14 + CLIENT_ID_MAX bytes; the client id is at most
 * CLIENT_ID_MAX bytes, so that the remaining length fits in one byte.
 */
static size_t
mqtt_connect_packet(uint8_t *buf, const char *client_id)
{
	static const uint8_t head[] = {
	    0x00, 0x04, 'M', 'Q', 'T', 'T', /* protocol name */
	    0x04,			    /* protocol level: 3.1.1 */
	    0x02,			    /* flags: clean session */
	    0x00, MQTT_KEEPALIVE,	    /* keep alive, seconds */
	};
	size_t idlen = strlen(client_id), n = 0;

	buf[n++] = 0x10; /* CONNECT */
	buf[n++] = (uint8_t)(sizeof(head) + 2 + idlen);
	memcpy(buf + n, head, sizeof(head));
	n += sizeof(head);
	buf[n++] = 0x00; /* client id: 16-bit length, then the bytes */
	buf[n++] = (uint8_t)idlen;
	memcpy(buf + n, client_id, idlen);
	return n + idlen;
}

static const char *
connack_text(unsigned rc)
{
	static const char *const text[] = {
	    "accepted",
	    "unacceptable protocol version",
	    "identifier rejected",
	    "server unavailable",
	    "bad user name or password",
	    "not authorized",
	};

	return rc < sizeof(text) / sizeof(text[0]) ? text[rc] : "unknown";
}

/* One connection: TLS handshake, CONNECT, CONNACK, DISCONNECT. */
static enum outcome
attempt(WOLFSSL_CTX *ctx, const struct target *tg, char *why, size_t n)
{
	static const uint8_t disconnect[] = {0xe0, 0x00};
	uint8_t pkt[14 + CLIENT_ID_MAX], ack[4];
	unsigned char ip[sizeof(struct in6_addr)];
	enum outcome rc = REFUSED_OTHER;
	WOLFSSL *ssl = NULL;
	int fd, ret;

	fd = tcp_connect(tg->host, tg->port, why, n);
	if (fd < 0)
		goto out;
	ssl = wolfSSL_new(ctx);
	if (ssl == NULL) {
		snprintf(why, n, "wolfSSL_new failed");
		goto out;
	}
	/*
	 * SNI lets one address serve several names (RFC 6066 forbids it
	 * for an IP address).  Without the domain check wolfSSL accepts any
	 * certificate a trusted root signed, whatever name it carries.
	 */
	if ((inet_pton(AF_INET, tg->name, ip) != 1 &&
		inet_pton(AF_INET6, tg->name, ip) != 1 &&
		wolfSSL_UseSNI(ssl, WOLFSSL_SNI_HOST_NAME, tg->name,
		    (unsigned short)strlen(tg->name)) != WOLFSSL_SUCCESS) ||
	    wolfSSL_check_domain_name(ssl, tg->name) != WOLFSSL_SUCCESS ||
	    wolfSSL_set_fd(ssl, fd) != WOLFSSL_SUCCESS) {
		snprintf(why, n, "cannot set up the TLS connection");
		goto out;
	}
	ret = wolfSSL_connect(ssl);
	if (ret != WOLFSSL_SUCCESS) {
		rc = tls_failure(ssl, ret, "TLS handshake", why, n);
		goto out;
	}

	if (tls_write_all(ssl, pkt, mqtt_connect_packet(pkt, tg->client_id),
		why, n) != 0 ||
	    tls_read_exact(ssl, ack, sizeof(ack), why, n) != 0)
		goto out;
	/* CONNACK: type 2, remaining length 2, flags (session present). */
	if (ack[0] != 0x20 || ack[1] != 0x02 || (ack[2] & 0xfe) != 0) {
		snprintf(why, n, "MQTT: not a CONNACK: %02x %02x %02x %02x",
		    ack[0], ack[1], ack[2], ack[3]);
		goto out;
	}
	if (ack[3] != 0) {
		snprintf(
		    why, n, "CONNACK %u (%s)", ack[3], connack_text(ack[3]));
		goto out;
	}
	/* Connected.  A real device would now publish and subscribe. */
	rc = CONNECTED;
	if (tls_write_all(ssl, disconnect, sizeof(disconnect), why, n) == 0)
		(void)wolfSSL_shutdown(ssl); /* close_notify; no wait */
out:
	wolfSSL_free(ssl);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* A client context trusting exactly t's set, or NULL with why. */
static WOLFSSL_CTX *
new_ctx(struct rk_trust *t, char *why, size_t n)
{
	WOLFSSL_CTX *ctx;
	int rc;

	ctx = wolfSSL_CTX_new(wolfSSLv23_client_method());
	if (ctx == NULL) {
		snprintf(why, n, "wolfSSL_CTX_new failed");
		return NULL;
	}
	if (wolfSSL_CTX_SetMinVersion(ctx, WOLFSSL_TLSV1_2) !=
	    WOLFSSL_SUCCESS) {
		snprintf(why, n, "cannot require TLS 1.2");
		wolfSSL_CTX_free(ctx);
		return NULL;
	}
	/*
	 * The CAs and peer verification with rootkeeper's callback.  Do not
	 * call wolfSSL_CTX_set_verify() after this: it would replace the
	 * callback (see rk_trust_set_verify_cb()).
	 */
	rc = rk_trust_load_wolfssl(t, ctx);
	if (rc != 0) {
		snprintf(
		    why, n, "cannot load the trust set: %s", rk_strerror(rc));
		wolfSSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"db", required_argument, NULL, 'd'},
	    {"host", required_argument, NULL, 'H'},
	    {"port", required_argument, NULL, 'p'},
	    {"name", required_argument, NULL, 'n'},
	    {"client-id", required_argument, NULL, 'c'},
	    {"count", required_argument, NULL, 'N'},
	    {"interval", required_argument, NULL, 'i'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct target tg = {.client_id = "rk-mqtt-device"};
	const char *db = NULL;
	unsigned long count = 1, interval = 5, k, v;
	struct rk_trust *trust = NULL;
	WOLFSSL_CTX *ctx = NULL, *fresh;
	uint64_t ctx_version = 0;
	enum outcome last = REFUSED_OTHER;
	char why[256];
	int c, changed, rc;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			db = optarg;
			break;
		case 'H':
			tg.host = optarg;
			break;
		case 'p':
			if (parse_ulong(optarg, 1, 65535, &v) != 0)
				goto usage;
			tg.port = optarg;
			break;
		case 'n':
			tg.name = optarg;
			break;
		case 'c':
			tg.client_id = optarg;
			break;
		case 'N':
			if (parse_ulong(optarg, 1, 1000000, &count) != 0)
				goto usage;
			break;
		case 'i':
			if (parse_ulong(optarg, 0, 86400, &interval) != 0)
				goto usage;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			goto usage;
		}
	}
	if (optind != argc || db == NULL || tg.host == NULL ||
	    tg.port == NULL || strlen(tg.client_id) < 1 ||
	    strlen(tg.client_id) > CLIENT_ID_MAX)
		goto usage;
	if (tg.name == NULL)
		tg.name = tg.host;

	/* A broker that drops the connection must not kill us on a write. */
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	rc = rk_trust_open(db, &trust);
	if (rc != 0) {
		fprintf(
		    stderr, "rk-mqtt-device: %s: %s\n", db, rk_strerror(rc));
		return EXIT_OTHER;
	}
	if (wolfSSL_Init() != WOLFSSL_SUCCESS) {
		fprintf(stderr, "rk-mqtt-device: wolfSSL_Init failed\n");
		rk_trust_close(trust);
		return EXIT_OTHER;
	}

	for (k = 1; k <= count; k++) {
		if (k > 1)
			sleep((unsigned)interval);
		/*
		 * The agent may have activated another set since the last
		 * connection: an update, a rollback, a root distrusted.
		 * Refreshing costs one indexed read when nothing changed,
		 * so do it before every connect, not on a timer.
		 */
		changed = 0;
		rc = rk_trust_refresh(trust, &changed);
		if (rc != 0)
			fprintf(stderr,
			    "rk-mqtt-device: refresh failed, keeping trust "
			    "set v%" PRIu64 ": %s\n",
			    rk_trust_version(trust), rk_strerror(rc));
		/*
		 * A new context, not the old one reloaded: wolfSSL can add
		 * CAs to a context but not drop one, and a root that left
		 * the set must stop being trusted.
		 */
		if (ctx == NULL || changed) {
			fresh = new_ctx(trust, why, sizeof(why));
			if (fresh != NULL) {
				wolfSSL_CTX_free(ctx);
				ctx = fresh;
				ctx_version = rk_trust_version(trust);
			} else if (ctx == NULL) {
				printf("attempt %lu: refused: %s\n", k, why);
				last = REFUSED_OTHER;
				continue;
			} else {
				fprintf(stderr,
				    "rk-mqtt-device: %s; keeping trust set "
				    "v%" PRIu64 "\n",
				    why, ctx_version);
			}
		}

		last = attempt(ctx, &tg, why, sizeof(why));
		if (last == CONNECTED)
			printf("attempt %lu: connected (CONNACK 0) with trust "
			       "set v%" PRIu64 "\n",
			    k, ctx_version);
		else
			printf("attempt %lu: refused: %s\n", k, why);
	}

	/* The context first: its verify callback reads the handle. */
	wolfSSL_CTX_free(ctx);
	rk_trust_close(trust);
	wolfSSL_Cleanup();
	switch (last) {
	case CONNECTED:
		return 0;
	case REFUSED_CERT:
		return EXIT_CERT;
	default:
		return EXIT_OTHER;
	}

usage:
	fputs(usage_text, stderr);
	return EXIT_USAGE;
}
