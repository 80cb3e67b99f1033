/*
 * expr.h — the arithmetic and comparison expressions of scripts (`if`).
 *
 * Grammar, C precedence, left to right:
 *   or  := and ('||' and)*         and := cmp ('&&' cmp)*
 *   cmp := sum (('=='|'!='|'<'|'<='|'>'|'>=') sum)?
 *   sum := prod (('+'|'-') prod)*  prod := unary (('*'|'/'|'%') unary)*
 *   unary := ('-'|'!') unary | number | $name | '(' or ')'
 * Values are doubles; comparisons and logic give 0 or 1.  Variables are
 * looked up through the caller's function, so this file knows nothing of
 * the plug and can be fuzzed alone.  Nesting is bounded (EXPR_DEPTH_MAX),
 * evaluation is a single pass, and every error names what went wrong.
 */
#ifndef OPENPLUG_EXPR_H
#define OPENPLUG_EXPR_H

#include <stdbool.h>
#include <stddef.h>

#define EXPR_DEPTH_MAX 16
#define EXPR_NAME_MAX 24 /* longest variable name, without the '$' */

/* Return true and set *value if `name` (no '$') is a known variable. */
typedef bool (*expr_lookup_fn)(const char *name, double *value, void *arg);

struct expr_result {
    bool ok;
    double value;
    char error[64]; /* when !ok: "unknown variable $foo", "division by zero", … */
};

/* Evaluate the whole text (surrounding blanks allowed). */
struct expr_result expr_eval(const char *text, expr_lookup_fn lookup, void *arg);

#endif
