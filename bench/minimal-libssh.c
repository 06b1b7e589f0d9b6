/*
 * minimal-libssh.c: the baseline for hostswap's engine benchmark. Two
 * persistent libssh sessions (TCP_NODELAY), PHASES phases of TASKS_PER_HOST
 * exec channels per host all open at once, a barrier between phases, each
 * channel running COMMAND (default `true`) and waiting for its exit status.
 * No wrapper, no scheduling, no output kept: the least a tool can do.
 *
 * usage: minimal-libssh KEY ADDR1 PORT1 ADDR2 PORT2 [PHASES TASKS CMD]
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libssh/libssh.h>

struct job {
	ssh_channel ch;
	int stage; /* 0 open, 1 exec, 2 eof, 3 wait, 4 done */
};

static ssh_session
connect_host(const char *addr, int port, ssh_key key)
{
	ssh_session s = ssh_new();
	int one = 1, nodelay = 1;
	bool no = false;

	ssh_options_set(s, SSH_OPTIONS_HOST, addr);
	ssh_options_set(s, SSH_OPTIONS_PORT, &port);
	ssh_options_set(s, SSH_OPTIONS_USER, "root");
	ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &no);
	ssh_options_set(s, SSH_OPTIONS_NODELAY, &nodelay);
	if (ssh_connect(s) != SSH_OK ||
	    ssh_userauth_publickey(s, NULL, key) != SSH_AUTH_SUCCESS) {
		fprintf(stderr, "%s:%d: %s\n", addr, port, ssh_get_error(s));
		exit(1);
	}
	(void)one;
	ssh_set_blocking(s, 0);
	return s;
}

/* Advance a job; returns 1 once done. */
static int
step(ssh_session s, struct job *j, const char *cmd)
{
	int rc;

	switch (j->stage) {
	case 0:
		if (j->ch == NULL)
			j->ch = ssh_channel_new(s);
		rc = ssh_channel_open_session(j->ch);
		if (rc == SSH_AGAIN)
			return 0;
		if (rc != SSH_OK)
			goto fail;
		j->stage = 1;
		/* FALLTHROUGH */
	case 1:
		rc = ssh_channel_request_exec(j->ch, cmd);
		if (rc == SSH_AGAIN)
			return 0;
		if (rc != SSH_OK)
			goto fail;
		j->stage = 2;
		/* FALLTHROUGH */
	case 2:
		if (ssh_channel_send_eof(j->ch) == SSH_ERROR)
			goto fail;
		j->stage = 3;
		/* FALLTHROUGH */
	case 3: {
		char buf[4096];

		while ((rc = ssh_channel_read_nonblocking(
			    j->ch, buf, sizeof buf, 0)) > 0)
			;
		while (
		    ssh_channel_read_nonblocking(j->ch, buf, sizeof buf, 1) > 0)
			;
		if (!ssh_channel_is_eof(j->ch) ||
		    ssh_channel_get_exit_status(j->ch) == -1)
			return 0;
		if (ssh_channel_get_exit_status(j->ch) != 0) {
			fprintf(stderr, "exit status %d\n",
			    ssh_channel_get_exit_status(j->ch));
			exit(1);
		}
		ssh_channel_close(j->ch);
		ssh_channel_free(j->ch);
		j->ch = NULL;
		j->stage = 4;
		return 1;
	}
	default:
		return 1;
	}
fail:
	fprintf(stderr, "channel: %s\n", ssh_get_error(s));
	exit(1);
}

int
main(int argc, char **argv)
{
	ssh_session s[2];
	ssh_key key;
	int phases = argc > 6 ? atoi(argv[6]) : 10;
	int per = argc > 7 ? atoi(argv[7]) : 10;
	const char *cmd = argc > 8 ? argv[8] : "true";
	struct job *jobs;
	struct pollfd pfd[2];
	int p, h, i, left;

	if (argc < 6) {
		fprintf(stderr,
		    "usage: minimal-libssh KEY ADDR1 PORT1 ADDR2 "
		    "PORT2 [PHASES TASKS CMD]\n");
		return 64;
	}
	if (ssh_pki_import_privkey_file(argv[1], NULL, NULL, NULL, &key) !=
	    SSH_OK)
		return 1;
	s[0] = connect_host(argv[2], atoi(argv[3]), key);
	s[1] = connect_host(argv[4], atoi(argv[5]), key);
	jobs = calloc((size_t)(2 * per), sizeof *jobs);
	for (p = 0; p < phases; p++) {
		memset(jobs, 0, (size_t)(2 * per) * sizeof *jobs);
		left = 2 * per;
		while (left > 0) {
			left = 0;
			for (h = 0; h < 2; h++)
				for (i = 0; i < per; i++)
					if (!step(
						s[h], &jobs[h * per + i], cmd))
						left++;
			if (left == 0)
				break;
			for (h = 0; h < 2; h++) {
				pfd[h].fd = ssh_get_fd(s[h]);
				pfd[h].events = POLLIN;
				if (ssh_get_poll_flags(s[h]) &
				    SSH_WRITE_PENDING)
					pfd[h].events |= POLLOUT;
			}
			poll(pfd, 2, 100);
		}
	}
	free(jobs);
	for (h = 0; h < 2; h++) {
		ssh_disconnect(s[h]);
		ssh_free(s[h]);
	}
	ssh_key_free(key);
	return 0;
}
