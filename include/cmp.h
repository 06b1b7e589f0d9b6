/*
 * cmp.h: a comparison of two counts, as pop3's expect_messages writes it
 * (">= 1", "0", "< 5"): the plan reads it, the check applies it.
 */
#ifndef HOSTSWAP_CMP_H
#define HOSTSWAP_CMP_H

enum cmp_op {
	CMP_EQ,
	CMP_NE,
	CMP_LT,
	CMP_LE,
	CMP_GT,
	CMP_GE,
};

#endif
