/*
 * plan-fuzzer.c: libFuzzer target for the plan loader. Any input must load
 * or be refused with diagnostics, without a crash, a leak or undefined
 * behaviour; a refused plan must carry at least one message.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "diag.h"
#include "expand.h"
#include "plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct expand_env env;
	struct plan *p = NULL;
	struct diag d;
	size_t i, j;
	char *v;

	diag_init(&d);
	if (plan_parse("fuzz.yaml", (const char *)data, size, &p, &d) !=
	    PLAN_OK) {
		if (d.n == 0)
			abort(); /* refused without saying why */
	} else {
		/* A valid plan must expand for every task. */
		expand_env_show(&env, p);
		for (i = 0; i < p->nphases; i++) {
			for (j = 0; j < p->phases[i].nsteps; j++) {
				const struct step *st = &p->phases[i].steps[j];

				if (st->script == NULL)
					continue;
				v = expand(&env, st->non ? st->on[0] : "local",
				    i, st->script, NULL);
				if (v == NULL)
					abort();
				free(v);
			}
		}
		plan_free(p);
	}
	diag_sort(&d);
	diag_free(&d);
	return 0;
}
