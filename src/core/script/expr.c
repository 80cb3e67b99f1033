/* expr.c — recursive-descent evaluator of script expressions; see expr.h. */
#include "expr.h"

#include <ctype.h>
#include <math.h> /* isfinite(): a macro, no libm */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parser {
    const char *p;
    unsigned depth;
    expr_lookup_fn lookup;
    void *arg;
    struct expr_result *result;
};

static void fail(struct parser *ps, const char *fmt, const char *detail)
{
    if (ps->result->ok) {
        ps->result->ok = false;
        snprintf(ps->result->error, sizeof ps->result->error, fmt, detail);
    }
}

static void skip_blanks(struct parser *ps)
{
    while (isspace((unsigned char)*ps->p))
        ps->p++;
}

/* Consume `op` if it is next (and not the start of a longer operator). */
static bool take(struct parser *ps, const char *op)
{
    skip_blanks(ps);
    size_t n = strlen(op);
    if (strncmp(ps->p, op, n) != 0)
        return false;
    if (n == 1 && (*op == '<' || *op == '>' || *op == '!' || *op == '=') && ps->p[1] == '=')
        return false;
    ps->p += n;
    return true;
}

static double parse_or(struct parser *ps);

static double parse_variable(struct parser *ps)
{
    char name[EXPR_NAME_MAX + 1];
    size_t len = 0;
    while (isalnum((unsigned char)*ps->p) || *ps->p == '_') {
        if (len == EXPR_NAME_MAX) {
            fail(ps, "variable name longer than %s characters", "24");
            return 0;
        }
        name[len++] = *ps->p++;
    }
    name[len] = '\0';
    if (!len) {
        fail(ps, "'$' without a variable name%s", "");
        return 0;
    }
    double value = 0;
    if (!ps->lookup || !ps->lookup(name, &value, ps->arg))
        fail(ps, "unknown variable $%s", name);
    return value;
}

static double parse_primary(struct parser *ps)
{
    skip_blanks(ps);
    if (*ps->p == '(') {
        ps->p++;
        double value = parse_or(ps);
        if (!take(ps, ")"))
            fail(ps, "missing ')'%s", "");
        return value;
    }
    if (*ps->p == '$') {
        ps->p++;
        return parse_variable(ps);
    }
    if (isdigit((unsigned char)*ps->p) || *ps->p == '.') {
        char *end;
        double value = strtod(ps->p, &end);
        if (end == ps->p || isalpha((unsigned char)*end) || !isfinite(value)) {
            fail(ps, "bad number near '%.12s'", ps->p);
            return 0;
        }
        ps->p = end;
        return value;
    }
    fail(ps, *ps->p ? "unexpected '%.12s'" : "expression ends too early%s", ps->p);
    return 0;
}

static double parse_unary(struct parser *ps)
{
    if (++ps->depth > EXPR_DEPTH_MAX) {
        fail(ps, "expression nested too deeply%s", "");
        return 0;
    }
    double value;
    if (take(ps, "-"))
        value = -parse_unary(ps);
    else if (take(ps, "!"))
        value = parse_unary(ps) == 0;
    else
        value = parse_primary(ps);
    ps->depth--;
    return value;
}

/* a % b with the sign of a, as C's fmod (without libm, which the unit
 * tests and the target leave out). */
static double remainder_of(struct parser *ps, double a, double b)
{
    double q = a / b;
    if (!(q > -9e15 && q < 9e15)) {
        fail(ps, "%% operand out of range%s", "");
        return 0;
    }
    return a - b * (double)(long long)q;
}

static double parse_product(struct parser *ps)
{
    double value = parse_unary(ps);
    for (;;) {
        if (take(ps, "*")) {
            value *= parse_unary(ps);
        } else if (take(ps, "/") || take(ps, "%")) {
            bool modulo = ps->p[-1] == '%';
            double divisor = parse_unary(ps);
            if (divisor == 0) {
                fail(ps, "division by zero%s", "");
                return 0;
            }
            value = modulo ? remainder_of(ps, value, divisor) : value / divisor;
        } else {
            return value;
        }
    }
}

static double parse_sum(struct parser *ps)
{
    double value = parse_product(ps);
    for (;;) {
        if (take(ps, "+"))
            value += parse_product(ps);
        else if (take(ps, "-"))
            value -= parse_product(ps);
        else
            return value;
    }
}

static double parse_comparison(struct parser *ps)
{
    double left = parse_sum(ps);
    static const char *const ops[] = {"==", "!=", "<=", ">=", "<", ">"};
    for (unsigned i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        if (!take(ps, ops[i]))
            continue;
        double right = parse_sum(ps);
        switch (i) {
        case 0: left = left == right; break;
        case 1: left = left != right; break;
        case 2: left = left <= right; break;
        case 3: left = left >= right; break;
        case 4: left = left < right; break;
        default: left = left > right; break;
        }
        i = (unsigned)-1; /* C chains them left to right: 1 < 2 == 1 */
    }
    return left;
}

static double parse_and(struct parser *ps)
{
    double value = parse_comparison(ps);
    while (take(ps, "&&")) {
        double right = parse_comparison(ps); /* always parsed: errors are found */
        value = value != 0 && right != 0;
    }
    return value;
}

static double parse_or(struct parser *ps)
{
    if (++ps->depth > EXPR_DEPTH_MAX) {
        fail(ps, "expression nested too deeply%s", "");
        return 0;
    }
    double value = parse_and(ps);
    while (take(ps, "||")) {
        double right = parse_and(ps);
        value = value != 0 || right != 0;
    }
    ps->depth--;
    return value;
}

struct expr_result expr_eval(const char *text, expr_lookup_fn lookup, void *arg)
{
    struct expr_result result = {.ok = true};
    struct parser ps = {.p = text, .lookup = lookup, .arg = arg, .result = &result};
    result.value = parse_or(&ps);
    skip_blanks(&ps);
    if (result.ok && *ps.p)
        fail(&ps, "unexpected '%.12s'", ps.p);
    if (result.ok && !isfinite(result.value))
        fail(&ps, "result is not a finite number%s", "");
    if (!result.ok)
        result.value = 0;
    return result;
}
