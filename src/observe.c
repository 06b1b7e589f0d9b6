/*
 * observe.c: the listeners of a run and the emit that calls them (see
 * observe.h). A run has a handful of listeners, added once when it is set
 * up; each event walks them in order.
 */
#include <stdlib.h>

#include "observe.h"
#include "xmalloc.h"

/* Add a listener; it is called after those added before it. */
void
observe_add(struct run *r, const struct run_listener *l)
{
	r->listeners = xreallocarray(
	    r->listeners, r->nlisteners + 1, sizeof *r->listeners);
	r->listeners[r->nlisteners++] = *l;
}

/* Forget the listeners (the run is freed). */
void
observe_free(struct run *r)
{
	free(r->listeners);
	r->listeners = NULL;
	r->nlisteners = 0;
}

/* A task changed state, was recorded again, or failed an attempt. */
void
observe_task(const struct run_task *t, enum observe_task what)
{
	const struct run *r = t->phase->run;
	size_t i;

	for (i = 0; i < r->nlisteners; i++)
		if (r->listeners[i].on_task != NULL)
			r->listeners[i].on_task(r->listeners[i].arg, t, what);
}

/* A phase changed state, or was recorded again. */
void
observe_phase(const struct run_phase *ph, enum observe_phase what)
{
	const struct run *r = ph->run;
	size_t i;

	for (i = 0; i < r->nlisteners; i++)
		if (r->listeners[i].on_phase != NULL)
			r->listeners[i].on_phase(r->listeners[i].arg, ph, what);
}

/* The run started, changed state (it was in old), resumed or ended. */
void
observe_run(struct run *r, enum observe_run what, enum run_state old)
{
	size_t i;

	for (i = 0; i < r->nlisteners; i++)
		if (r->listeners[i].on_run != NULL)
			r->listeners[i].on_run(
			    r->listeners[i].arg, r, what, old);
}

/* A note for the operator; kept in the audit trail too when keep is set. */
void
observe_note(const struct run *r, const char *msg, int keep)
{
	size_t i;

	for (i = 0; i < r->nlisteners; i++)
		if (r->listeners[i].on_note != NULL)
			r->listeners[i].on_note(
			    r->listeners[i].arg, r, msg, keep);
}

/* A host's key was learnt or completed, or it moved in the swap. */
void
observe_host(const struct run_host *rh)
{
	const struct run *r = rh->run;
	size_t i;

	for (i = 0; i < r->nlisteners; i++)
		if (r->listeners[i].on_host != NULL)
			r->listeners[i].on_host(r->listeners[i].arg, rh);
}
