/*
 * node.c: reads a YAML file with libyaml's event parser into a tree of
 * nodes with 1-based line and column marks and byte offsets into the kept
 * source text. Anchors and aliases, tags and multiple documents are refused:
 * a plan is a plain document and must read the same to a person.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <yaml.h>

#include "diag.h"
#include "log.h"
#include "node.h"
#include "xmalloc.h"

/* Deepest nesting accepted: plans are shallow; this bounds the recursion. */
#define NODE_MAX_DEPTH 64
/* Largest file read: a plan is text written by a person. */
#define NODE_MAX_FILE (16 * 1024 * 1024)

struct node_reader {
	yaml_parser_t parser;
	struct node_doc *doc;
	struct diag *diag;
	int failed;
};

/* Byte offset of 1-based (line, col in characters) in the source text. */
static size_t
node_offset(const struct node_doc *doc, size_t line0, size_t col0)
{
	size_t off;

	if (line0 >= doc->nlines)
		return doc->textlen;
	off = doc->lines[line0];
	while (col0 > 0 && off < doc->textlen && doc->text[off] != '\n') {
		off++;
		/* Skip UTF-8 continuation bytes: columns count characters. */
		while (off < doc->textlen &&
		    ((unsigned char)doc->text[off] & 0xc0) == 0x80)
			off++;
		col0--;
	}
	return off;
}

/* The 1-based line and column (in characters) of a byte offset. */
void
node_pos(const struct node_doc *doc, size_t off, unsigned *line, unsigned *col)
{
	size_t lo = 0, hi = doc->nlines, mid, p, c;

	while (hi - lo > 1) {
		mid = (lo + hi) / 2;
		if (doc->lines[mid] <= off)
			lo = mid;
		else
			hi = mid;
	}
	c = 1;
	for (p = doc->lines[lo]; p < off && p < doc->textlen; p++)
		if (((unsigned char)doc->text[p] & 0xc0) != 0x80)
			c++;
	*line = (unsigned)lo + 1;
	*col = (unsigned)c;
}

/* Report an error at a libyaml mark. */
static void __attribute__((format(printf, 3, 4)))
node_error_mark(struct node_reader *r, yaml_mark_t mark, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	diag_add(r->diag, r->doc->path, (unsigned)mark.line + 1,
	    (unsigned)mark.column + 1, "%s", msg);
	r->failed = 1;
}

/* Report libyaml's own complaint. */
static void
node_error_parser(struct node_reader *r)
{
	yaml_parser_t *p = &r->parser;
	yaml_mark_t mark = p->problem_mark;
	char msg[512];

	if (p->error == YAML_READER_ERROR) {
		/* The reader's mark is not set; its offset is in bytes. */
		unsigned line, col;

		node_pos(r->doc,
		    p->problem_offset < r->doc->textlen ? p->problem_offset
							: r->doc->textlen,
		    &line, &col);
		diag_add(r->diag, r->doc->path, line, col, "malformed YAML: %s",
		    p->problem ? p->problem : "bad input");
		r->failed = 1;
		return;
	}
	if (p->context != NULL)
		snprintf(msg, sizeof msg, "%s %s",
		    p->problem ? p->problem : "error", p->context);
	else
		snprintf(
		    msg, sizeof msg, "%s", p->problem ? p->problem : "error");
	node_error_mark(r, mark, "malformed YAML: %s", msg);
}

/* Fetch the next event; 0 on success, -1 after reporting the error. */
static int
node_next(struct node_reader *r, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&r->parser, ev)) {
		node_error_parser(r);
		return -1;
	}
	return 0;
}

/* A new node placed at an event's start and end marks. */
static struct node *
node_new(struct node_reader *r, enum node_type type, const yaml_event_t *ev)
{
	struct node *n = xcalloc(1, sizeof *n);

	n->type = type;
	n->line = (unsigned)ev->start_mark.line + 1;
	n->col = (unsigned)ev->start_mark.column + 1;
	n->start =
	    node_offset(r->doc, ev->start_mark.line, ev->start_mark.column);
	n->end = node_offset(r->doc, ev->end_mark.line, ev->end_mark.column);
	return n;
}

/* Free a node and everything below it. */
static void
node_free(struct node *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->n; i++) {
		if (n->keys != NULL)
			node_free(n->keys[i]);
		node_free(n->vals[i]);
	}
	free(n->keys);
	free(n->vals);
	free(n->value);
	free(n);
}

static struct node *node_read(struct node_reader *, yaml_event_t *, int);

/* Append a child (and its key, for a mapping). */
static void
node_append(struct node *parent, struct node *key, struct node *val)
{
	parent->vals =
	    xreallocarray(parent->vals, parent->n + 1, sizeof *parent->vals);
	if (parent->type == NODE_MAP) {
		parent->keys = xreallocarray(
		    parent->keys, parent->n + 1, sizeof *parent->keys);
		parent->keys[parent->n] = key;
	}
	parent->vals[parent->n++] = val;
}

/* Refuse what plans do not use: anchors, aliases and explicit tags. */
static int
node_check_props(struct node_reader *r, const yaml_event_t *ev,
    const yaml_char_t *anchor, const yaml_char_t *tag, int implicit)
{
	if (anchor != NULL) {
		node_error_mark(r, ev->start_mark,
		    "anchors are not supported (&%s): write the value out",
		    (const char *)anchor);
		return -1;
	}
	if (tag != NULL && !implicit) {
		node_error_mark(r, ev->start_mark,
		    "tags are not supported (%s)", (const char *)tag);
		return -1;
	}
	return 0;
}

/* A scalar from its event; NULL after reporting an error. */
static struct node *
node_read_scalar(struct node_reader *r, const yaml_event_t *ev)
{
	struct node *n;
	size_t i;

	if (node_check_props(r, ev, ev->data.scalar.anchor, ev->data.scalar.tag,
		ev->data.scalar.plain_implicit ||
		    ev->data.scalar.quoted_implicit) == -1)
		return NULL;
	n = node_new(r, NODE_SCALAR, ev);
	n->len = ev->data.scalar.length;
	n->value = xmalloc(n->len + 1);
	memcpy(n->value, ev->data.scalar.value, n->len);
	n->value[n->len] = '\0';
	switch (ev->data.scalar.style) {
	case YAML_PLAIN_SCALAR_STYLE:
		n->style = NODE_PLAIN;
		break;
	case YAML_LITERAL_SCALAR_STYLE:
	case YAML_FOLDED_SCALAR_STYLE:
		n->style = NODE_BLOCK;
		break;
	default:
		n->style = NODE_QUOTED;
		break;
	}
	/* A NUL inside a value would cut it short everywhere. */
	for (i = 0; i < n->len; i++) {
		if (n->value[i] == '\0') {
			node_error_mark(r, ev->start_mark, "%s",
			    "a value contains a NUL character");
			node_free(n);
			return NULL;
		}
	}
	return n;
}

/*
 * Read one key and its value into mapping n; ev is the key's event
 * (consumed). Returns -1 after reporting an error. A duplicate key is
 * reported and kept, so that reading goes on.
 */
static int
node_read_pair(
    struct node_reader *r, struct node *n, yaml_event_t *ev, int depth)
{
	struct node *key, *val;
	size_t i;

	if ((key = node_read(r, ev, depth + 1)) == NULL)
		return -1;
	if (key->type != NODE_SCALAR) {
		diag_add(r->diag, r->doc->path, key->line, key->col,
		    "a key must be a plain string, "
		    "not a %s",
		    node_type_name(key));
		r->failed = 1;
		node_free(key);
		return -1;
	}
	if (node_next(r, ev) == -1) {
		node_free(key);
		return -1;
	}
	if ((val = node_read(r, ev, depth + 1)) == NULL) {
		node_free(key);
		return -1;
	}
	for (i = 0; i < n->n; i++) {
		if (strcmp(n->keys[i]->value, key->value) == 0) {
			diag_add(r->diag, r->doc->path, key->line, key->col,
			    "duplicate key '%s' (first at "
			    "line %u)",
			    key->value, n->keys[i]->line);
			r->failed = 1;
			break;
		}
	}
	node_append(n, key, val);
	return 0;
}

/*
 * A list or a mapping from its start event, with everything up to its
 * end event; NULL after reporting an error.
 */
static struct node *
node_read_collection(struct node_reader *r, const yaml_event_t *ev, int depth)
{
	struct node *n, *val;
	yaml_event_t child;

	if (ev->type == YAML_SEQUENCE_START_EVENT) {
		if (node_check_props(r, ev, ev->data.sequence_start.anchor,
			ev->data.sequence_start.tag,
			ev->data.sequence_start.implicit) == -1)
			return NULL;
		n = node_new(r, NODE_SEQ, ev);
	} else {
		if (node_check_props(r, ev, ev->data.mapping_start.anchor,
			ev->data.mapping_start.tag,
			ev->data.mapping_start.implicit) == -1)
			return NULL;
		n = node_new(r, NODE_MAP, ev);
	}
	for (;;) {
		if (node_next(r, &child) == -1)
			goto fail;
		if (child.type == YAML_SEQUENCE_END_EVENT ||
		    child.type == YAML_MAPPING_END_EVENT) {
			n->end = node_offset(
			    r->doc, child.end_mark.line, child.end_mark.column);
			yaml_event_delete(&child);
			return n;
		}
		if (n->type == NODE_SEQ) {
			if ((val = node_read(r, &child, depth + 1)) == NULL)
				goto fail;
			node_append(n, NULL, val);
			continue;
		}
		if (node_read_pair(r, n, &child, depth) == -1)
			goto fail;
	}
fail:
	node_free(n);
	return NULL;
}

/*
 * Read the node that starts with event ev (consumed), recursing into
 * collections. Returns NULL after reporting an error.
 */
static struct node *
node_read(struct node_reader *r, yaml_event_t *ev, int depth)
{
	struct node *n = NULL;

	if (depth > NODE_MAX_DEPTH) {
		node_error_mark(r, ev->start_mark, "%s", "nesting is too deep");
		yaml_event_delete(ev);
		return NULL;
	}
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		n = node_read_scalar(r, ev);
		break;
	case YAML_ALIAS_EVENT:
		node_error_mark(r, ev->start_mark,
		    "aliases are not supported (*%s): write the value out",
		    (const char *)ev->data.alias.anchor);
		break;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		n = node_read_collection(r, ev, depth);
		break;
	default:
		node_error_mark(r, ev->start_mark, "%s",
		    "malformed YAML: unexpected event");
		break;
	}
	yaml_event_delete(ev);
	return n;
}

/* Index the start of every line of the source. */
static void
node_index_lines(struct node_doc *doc)
{
	size_t i, n = 1;

	for (i = 0; i < doc->textlen; i++)
		if (doc->text[i] == '\n')
			n++;
	doc->lines = xreallocarray(NULL, n, sizeof *doc->lines);
	doc->lines[0] = 0;
	n = 1;
	for (i = 0; i < doc->textlen; i++)
		if (doc->text[i] == '\n')
			doc->lines[n++] = i + 1;
	doc->nlines = n;
}

/*
 * Parse a YAML document from memory; name is the file name used in
 * messages. On NODE_OK *out holds the document (root NULL if empty).
 */
int
node_parse(const char *name, const char *text, size_t len,
    struct node_doc **out, struct diag *d)
{
	struct node_reader r;
	struct node_doc *doc;
	yaml_event_t ev;
	int done = 0;

	*out = NULL;
	doc = xcalloc(1, sizeof *doc);
	doc->path = xstrdup(name);
	doc->text = xmalloc(len + 1);
	memcpy(doc->text, text, len);
	doc->text[len] = '\0';
	doc->textlen = len;
	node_index_lines(doc);

	memset(&r, 0, sizeof r);
	r.doc = doc;
	r.diag = d;
	if (!yaml_parser_initialize(&r.parser))
		fatalx("yaml_parser_initialize: out of memory");
	yaml_parser_set_input_string(
	    &r.parser, (const unsigned char *)doc->text, doc->textlen);
	yaml_parser_set_encoding(&r.parser, YAML_UTF8_ENCODING);

	while (!done && !r.failed) {
		if (node_next(&r, &ev) == -1)
			break;
		switch (ev.type) {
		case YAML_STREAM_START_EVENT:
		case YAML_DOCUMENT_END_EVENT:
			yaml_event_delete(&ev);
			break;
		case YAML_STREAM_END_EVENT:
			yaml_event_delete(&ev);
			done = 1;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (doc->root != NULL) {
				node_error_mark(&r, ev.start_mark, "%s",
				    "only one YAML document is allowed in a "
				    "file");
				yaml_event_delete(&ev);
				break;
			}
			yaml_event_delete(&ev);
			if (node_next(&r, &ev) == -1)
				break;
			doc->root = node_read(&r, &ev, 0);
			break;
		default:
			yaml_event_delete(&ev);
			break;
		}
	}
	yaml_parser_delete(&r.parser);
	if (r.failed) {
		node_doc_free(doc);
		return NODE_INVALID;
	}
	*out = doc;
	return NODE_OK;
}

/* Read and parse a YAML file. */
int
node_load(const char *path, struct node_doc **out, struct diag *d)
{
	struct stat st;
	FILE *fp;
	char *text;
	size_t len;
	int rc;

	*out = NULL;
	if ((fp = fopen(path, "rb")) == NULL) {
		if (errno == ENOENT || errno == ENOTDIR) {
			diag_add(d, path, 0, 0, "no such file");
			d->missing_file = 1;
			return NODE_NOFILE;
		}
		diag_add(d, path, 0, 0, "cannot open: %s", strerror(errno));
		return NODE_INVALID;
	}
	if (fstat(fileno(fp), &st) == -1 || !S_ISREG(st.st_mode)) {
		diag_add(d, path, 0, 0, "not a regular file");
		fclose(fp);
		return NODE_INVALID;
	}
	if (st.st_size > NODE_MAX_FILE) {
		diag_add(d, path, 0, 0, "file too large (%lld bytes)",
		    (long long)st.st_size);
		fclose(fp);
		return NODE_INVALID;
	}
	text = xmalloc((size_t)st.st_size + 1);
	len = fread(text, 1, (size_t)st.st_size, fp);
	if (ferror(fp)) {
		diag_add(d, path, 0, 0, "cannot read: %s", strerror(errno));
		fclose(fp);
		free(text);
		return NODE_INVALID;
	}
	fclose(fp);
	rc = node_parse(path, text, len, out, d);
	free(text);
	return rc;
}

/* Free a document. */
void
node_doc_free(struct node_doc *doc)
{
	if (doc == NULL)
		return;
	node_free(doc->root);
	free(doc->path);
	free(doc->text);
	free(doc->lines);
	free(doc);
}

/* The value under key in a mapping, or NULL. */
struct node *
node_get(const struct node *map, const char *key)
{
	size_t i;

	if (map == NULL || map->type != NODE_MAP)
		return NULL;
	for (i = 0; i < map->n; i++)
		if (strcmp(map->keys[i]->value, key) == 0)
			return map->vals[i];
	return NULL;
}

/* The key node itself (for its position), or NULL. */
struct node *
node_key(const struct node *map, const char *key)
{
	size_t i;

	if (map == NULL || map->type != NODE_MAP)
		return NULL;
	for (i = 0; i < map->n; i++)
		if (strcmp(map->keys[i]->value, key) == 0)
			return map->keys[i];
	return NULL;
}

/* True for an empty plain scalar, "~" or "null": YAML's null. */
int
node_is_null(const struct node *n)
{
	if (n == NULL)
		return 1;
	if (n->type != NODE_SCALAR || n->style != NODE_PLAIN)
		return 0;
	return n->len == 0 || strcmp(n->value, "~") == 0 ||
	    strcmp(n->value, "null") == 0 || strcmp(n->value, "Null") == 0 ||
	    strcmp(n->value, "NULL") == 0;
}

/* A word for the node's type, for messages. */
const char *
node_type_name(const struct node *n)
{
	if (n == NULL || node_is_null(n))
		return "null";
	switch (n->type) {
	case NODE_MAP:
		return "mapping";
	case NODE_SEQ:
		return "list";
	default:
		return "string";
	}
}
