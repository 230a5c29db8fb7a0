/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The secret readers of secret.h.  The terminal's settings are restored
 * before returning, also when reading fails; a signal that stops the
 * program while echo is off leaves it off, as with passwd(1).  Every
 * temporary copy of a secret is wiped.
 */
#include "secret.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "fileio.h"

/* The first line of text[0..n) into buf; see secret_from_file(). */
static int
first_line(const char *text, size_t n, char *buf, size_t cap, size_t *len)
{
	size_t i;

	for (i = 0; i < n && text[i] != '\n'; i++)
		if (text[i] == '\0')
			return RK_EFORMAT;
	if (i > 0 && text[i - 1] == '\r')
		i--;
	if (i == 0)
		return RK_EFORMAT;
	if (i >= cap)
		return RK_ELIMIT;
	memcpy(buf, text, i);
	buf[i] = '\0';
	*len = i;
	return RK_OK;
}

int
secret_from_file(const char *path, char *buf, size_t cap, size_t *len)
{
	uint8_t *text = NULL;
	size_t n = 0;
	int rc;

	if ((rc = fileio_read(path, 4 * SECRET_MAX, &text, &n)) != RK_OK)
		return rc;
	rc = first_line((const char *)text, n, buf, cap, len);
	explicit_bzero(text, n);
	free(text);
	return rc;
}

int
secret_from_tty(const char *prompt, char *buf, size_t cap, size_t *len)
{
	struct termios old, quiet;
	char line[SECRET_MAX + 2];
	size_t n = 0;
	ssize_t r;
	char c;
	int fd, rc = RK_OK, restore = 0;

	if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
		return RK_ENOENT;
	if (tcgetattr(fd, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		quiet.c_lflag |= ICANON;
		restore = tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
	}
	if (write(fd, prompt, strlen(prompt)) < 0)
		rc = RK_EIO;
	while (rc == RK_OK) {
		r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = n > 0 ? RK_OK : RK_EIO;
			break;
		}
		if (c == '\n')
			break;
		if (n < sizeof(line) - 1)
			line[n++] = c;
		else
			rc = RK_ELIMIT;
	}
	if (restore)
		tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0 && rc == RK_OK)
		rc = RK_EIO;
	close(fd);
	if (rc == RK_OK)
		rc = first_line(line, n, buf, cap, len);
	explicit_bzero(line, sizeof(line));
	explicit_bzero(&c, sizeof(c));
	return rc;
}
