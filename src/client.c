/*
 * client.c: how the control commands reach a running daemon. The URL is
 * --url, else the one the daemon wrote into the state file; the token
 * goes with it: HOSTSWAP_TOKEN with --url, STATE.token (mode 0600,
 * written by the daemon) with the state file. A state file that does not
 * exist is exit 66; a daemon that does not answer is exit 69, with one
 * line saying so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "buf.h"
#include "client.h"
#include "exitcode.h"
#include "store.h"
#include "xmalloc.h"

/*
 * Find the daemon: --url (may be NULL) or the state file's newest run.
 * Returns EXIT_OK, or an exit status with the reason printed. The token
 * is the one of the daemon found: HOSTSWAP_TOKEN belongs to --url (it
 * never overrides the state file's own token, which is that daemon's).
 */
int
client_open(const char *url, const char *state, struct client *c)
{
	struct store_run_info ri;
	struct store *st;
	char *err = NULL, *path, *tok;
	const char *env = getenv("HOSTSWAP_TOKEN");
	int rc;

	memset(c, 0, sizeof *c);
	if (url != NULL && *url == '\0') {
		fprintf(stderr,
		    "hostswap: --url is empty: give the daemon's "
		    "endpoint, or --state\n");
		return EXIT_USAGE;
	}
	if (url == NULL) {
		if ((rc = store_open(state, STORE_READ, &st, &err)) !=
		    STORE_OK) {
			fprintf(stderr, "hostswap: %s\n", err);
			free(err);
			return rc == STORE_NOFILE ? EXIT_NOINPUT : EXIT_REFUSED;
		}
		if (store_newest_run(st, &ri) != STORE_OK ||
		    (c->url = store_run_url(st, ri.id)) == NULL) {
			fprintf(stderr,
			    "hostswap: %s names no running daemon's "
			    "endpoint\n",
			    state);
			if (ri.state != NULL)
				store_run_info_free(&ri);
			store_free(st);
			return EXIT_UNAVAILABLE;
		}
		store_run_info_free(&ri);
		store_free(st);
	} else if (url[strlen(url) - 1] == '/')
		c->url = xstrdup(url);
	else
		xasprintf(&c->url, "%s/", url);
	if (url != NULL) {
		if (env != NULL && *env != '\0')
			c->token = xstrdup(env);
	} else {
		xasprintf(&path, "%s.token", state);
		if ((tok = buf_read_file(path)) != NULL) {
			tok[strcspn(tok, "\r\n")] = '\0';
			c->token = tok;
		}
		free(path);
	}
	return EXIT_OK;
}

/* libcurl: the answer's body. */
static size_t
client_write_cb(char *data, size_t size, size_t n, void *arg)
{
	buf_add(arg, data, size * n);
	return size * n;
}

/*
 * One request (body NULL: GET). The answer's body in *out, its status in
 * *status. Returns EXIT_OK, or EXIT_UNAVAILABLE with the reason printed.
 */
int
client_request(struct client *c, const char *method, const char *path,
    const char *body, struct buf *out, long *status)
{
	struct curl_slist *h = NULL;
	char *url, *auth = NULL;
	CURLcode cc;
	CURL *e;

	if ((e = curl_easy_init()) == NULL) {
		fprintf(stderr, "hostswap: cannot start libcurl\n");
		return EXIT_SOFTWARE;
	}
	xasprintf(&url, "%s%s", c->url, path[0] == '/' ? path + 1 : path);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, client_write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, ""); /* gzip if served */
	if (c->token != NULL) {
		xasprintf(&auth, "Authorization: Bearer %s", c->token);
		h = curl_slist_append(h, auth);
	}
	if (body != NULL) {
		h = curl_slist_append(h, "Content-Type: application/json");
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	cc = curl_easy_perform(e);
	*status = 0;
	if (cc == CURLE_OK)
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, status);
	curl_slist_free_all(h);
	if (auth != NULL) {
		explicit_bzero(auth, strlen(auth));
		free(auth);
	}
	curl_easy_cleanup(e);
	if (cc != CURLE_OK) {
		fprintf(stderr, "hostswap: no daemon answers at %s: %s\n",
		    c->url, curl_easy_strerror(cc));
		free(url);
		return EXIT_UNAVAILABLE;
	}
	free(url);
	return EXIT_OK;
}

/* Forget the daemon. */
void
client_close(struct client *c)
{
	free(c->url);
	if (c->token != NULL) {
		explicit_bzero(c->token, strlen(c->token));
		free(c->token);
	}
	memset(c, 0, sizeof *c);
}
