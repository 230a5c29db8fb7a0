/* SPDX-License-Identifier: Apache-2.0 */
/*
 * notify_listen: stands in for systemd's end of the sd_notify protocol in
 * the tests.  `notify_listen SOCKET OUT` binds an AF_UNIX datagram socket
 * at SOCKET and appends each datagram it receives to OUT, followed by a
 * line "--", until it receives one holding "STOPPING=1" or 120 seconds
 * pass without any.  A test helper only: nothing of the project links it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct sockaddr_un sa;
	struct timeval tv = {120, 0};
	char buf[4097];
	ssize_t n;
	FILE *out;
	int fd;

	if (argc != 3 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fputs("usage: notify_listen SOCKET OUT\n", stderr);
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, argv[1], strlen(argv[1]));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM, 0)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0) {
		perror(argv[1]);
		return 1;
	}
	if ((out = fopen(argv[2], "a")) == NULL) {
		perror(argv[2]);
		return 1;
	}
	for (;;) {
		n = recv(fd, buf, sizeof(buf) - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		buf[n] = '\0';
		fprintf(out, "%s\n--\n", buf);
		fflush(out);
		if (strstr(buf, "STOPPING=1") != NULL)
			break;
	}
	fclose(out);
	close(fd);
	unlink(argv[1]);
	return 0;
}
