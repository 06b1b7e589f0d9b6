/*
 * node.h: a YAML document read into a tree of nodes, each remembering the
 * line and column where it stands, so that every later check can point at
 * the offending key or value. The only module that knows libyaml.
 */
#ifndef HOSTSWAP_NODE_H
#define HOSTSWAP_NODE_H

#include <stddef.h>

struct diag;

enum node_type {
	NODE_SCALAR,
	NODE_MAP,
	NODE_SEQ,
};

enum node_style {
	NODE_PLAIN,
	NODE_QUOTED,
	NODE_BLOCK, /* literal | or folded > */
};

struct node {
	enum node_type type;
	unsigned line; /* 1-based, of the node's first char */
	unsigned col;  /* 1-based, in characters */
	size_t start;  /* byte offsets into the source */
	size_t end;

	/* NODE_SCALAR */
	char *value;
	size_t len;
	enum node_style style;

	/* NODE_MAP: keys[i] -> vals[i]; NODE_SEQ: vals[i] */
	struct node **keys;
	struct node **vals;
	size_t n;
};

struct node_doc {
	char *path; /* as named, for messages */
	char *text; /* the whole source */
	size_t textlen;
	size_t *lines; /* byte offset of each line's start */
	size_t nlines;
	struct node *root; /* NULL for an empty file */
};

/* What node_load() returns. */
#define NODE_OK      0
#define NODE_INVALID -1 /* reported in the diag */
#define NODE_NOFILE  -2 /* the file does not exist (reported) */

int node_load(const char *, struct node_doc **, struct diag *);
int node_parse(
    const char *, const char *, size_t, struct node_doc **, struct diag *);
void node_doc_free(struct node_doc *);
struct node *node_get(const struct node *, const char *);
struct node *node_key(const struct node *, const char *);
int node_is_null(const struct node *);
const char *node_type_name(const struct node *);
void node_pos(const struct node_doc *, size_t, unsigned *, unsigned *);

#endif
