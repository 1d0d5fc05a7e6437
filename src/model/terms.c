/* terms.c: models as lists of terms (docs/model.md sections 3 and 6.2): the
 * presets minimal, head, siam, siam-sg, simsiam, proj, proj-sg, the `--terms`
 * grammar (squared, cosine, uniformity and InfoNCE terms), canonical names. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/number.h"
#include "repcollapse/head.h"

/* a term with its padding zeroed, so that equal terms compare equal byte for byte */
static rc_term make_term(rc_branch src, int sh, int th, int sg, rc_term_kind kind) {
  rc_term t;
  memset(&t, 0, sizeof t);
  t.weight = 1.0;
  t.source = src;
  t.source_head = sh;
  t.target_head = th;
  t.stop_gradient = sg;
  t.kind = kind;
  return t;
}

static rc_term term(rc_branch src, int sh, int th, int sg) { return make_term(src, sh, th, sg, RC_TERM_SQUARE); }

static rc_term cos_term(rc_branch src, int sh, int th, int sg) { return make_term(src, sh, th, sg, RC_TERM_COS); }

rc_status rc_model_preset(const char *name, rc_model *m, rc_error *err) {
  memset(m, 0, sizeof *m);
  if (!strcmp(name, "minimal")) {
    m->terms[m->n_terms++] = term(RC_BRANCH_X, 0, 0, 0);
  } else if (!strcmp(name, "head")) {
    m->terms[m->n_terms++] = term(RC_BRANCH_X, 1, 0, 0);
  } else if (!strcmp(name, "siam")) {
    m->terms[m->n_terms++] = term(RC_BRANCH_X, 1, 0, 0);
    m->terms[m->n_terms++] = term(RC_BRANCH_Y, 1, 0, 0);
  } else if (!strcmp(name, "siam-sg")) {
    m->terms[m->n_terms++] = term(RC_BRANCH_X, 1, 0, 1);
    m->terms[m->n_terms++] = term(RC_BRANCH_Y, 1, 0, 1);
  } else if (!strcmp(name, "simsiam")) { /* cos(Px,sg(y)) + cos(Py,sg(x)) (section 6.2) */
    m->terms[m->n_terms++] = cos_term(RC_BRANCH_X, 1, 0, 1);
    m->terms[m->n_terms++] = cos_term(RC_BRANCH_Y, 1, 0, 1);
  } else if (!strcmp(name, "proj")) { /* |Px - Py|^2 */
    m->terms[m->n_terms++] = term(RC_BRANCH_X, 1, 1, 0);
  } else if (!strcmp(name, "proj-sg")) { /* |Px - sg(Py)|^2 + |Py - sg(Px)|^2 */
    m->terms[m->n_terms++] = term(RC_BRANCH_X, 1, 1, 1);
    m->terms[m->n_terms++] = term(RC_BRANCH_Y, 1, 1, 1);
  } else {
    return rc_error_set(err, RC_EINVAL,
                        "unknown model '%s' (expected minimal, head, siam, siam-sg, simsiam, proj or proj-sg)", name);
  }
  snprintf(m->name, sizeof m->name, "%s", name);
  return RC_OK;
}

/* parse ['P'] ('x'|'y') */
static int parse_branch(const char **s, rc_branch *b, int *head);

/* parse BRANCH SEP TARGET into t (source, heads, sg) and the target's branch */
static int parse_target_pair(const char **s, rc_term *t, rc_branch *tb, char sep) {
  if (!parse_branch(s, &t->source, &t->source_head) || *(*s)++ != sep) return 0;
  if (!strncmp(*s, "sg(", 3)) {
    *s += 3;
    t->stop_gradient = 1;
    return parse_branch(s, tb, &t->target_head) && *(*s)++ == ')';
  }
  return parse_branch(s, tb, &t->target_head);
}

/* parse ['P'] ('x'|'y') */
static int parse_branch(const char **s, rc_branch *b, int *head) {
  *head = 0;
  if (**s == 'P') {
    *head = 1;
    (*s)++;
  }
  if (**s == 'x') *b = RC_BRANCH_X;
  else if (**s == 'y') *b = RC_BRANCH_Y;
  else return 0;
  (*s)++;
  return 1;
}

rc_status rc_model_parse_terms(const char *text, rc_model *m, rc_error *err) {
  memset(m, 0, sizeof *m);
  char buf[512];
  size_t n = 0;
  for (const char *p = text; *p; p++) {
    if (isspace((unsigned char)*p)) continue;
    if (n + 1 >= sizeof buf) return rc_error_set(err, RC_EINVAL, "--terms is too long");
    buf[n++] = *p;
  }
  buf[n] = '\0';
  if (n == 0) return rc_error_set(err, RC_EINVAL, "--terms is empty (expected e.g. 'Px-sg(y)+Py-sg(x)')");
  const char *s = buf;
  for (;;) {
    if (m->n_terms == RC_MAX_TERMS) return rc_error_set(err, RC_EINVAL, "--terms: at most %d terms", RC_MAX_TERMS);
    const char *start = s;
    if (*s == '-')
      return rc_error_set(err, RC_EINVAL,
                          "--terms: negative weights are refused at '%.40s' (repulsion comes from the uniformity(x|y) "
                          "and infonce(x,y) terms)",
                          start);
    rc_term t = make_term(RC_BRANCH_X, 0, 0, 0, RC_TERM_SQUARE);
    if (isdigit((unsigned char)*s) || *s == '.') {
      size_t k = rc_number_scan(s, &t.weight); /* the one number parser: decimal only */
      const char *end = s + k;
      if (!k || *end != '*' || !(t.weight > 0))
        return rc_error_set(err, RC_EINVAL, "--terms: bad weight in '%.40s' (expected a positive number then '*')",
                            start);
      s = end + 1;
    }
    rc_branch tb = RC_BRANCH_X;
    int ok, pair = 1; /* pair: the term compares a sample with a label */
    if (!strncmp(s, "cos(", 4)) {
      s += 4;
      t.kind = RC_TERM_COS;
      ok = parse_target_pair(&s, &t, &tb, ',') && *s++ == ')';
    } else if (!strncmp(s, "uniformity(", 11)) {
      s += 11;
      t.kind = RC_TERM_UNIFORMITY;
      pair = 0;
      ok = (*s == 'x' || *s == 'y') && s[1] == ')';
      if (ok) t.source = *s == 'x' ? RC_BRANCH_X : RC_BRANCH_Y;
      s += ok ? 2 : 0;
    } else if (!strncmp(s, "infonce(", 8)) {
      s += 8;
      t.kind = RC_TERM_INFONCE;
      pair = 0;
      ok = !strncmp(s, "x,y)", 4);
      s += ok ? 4 : 0;
    } else {
      ok = parse_target_pair(&s, &t, &tb, '-');
    }
    if (!ok || (*s != '+' && *s != '\0'))
      return rc_error_set(err, RC_EINVAL,
                          "--terms: malformed term at '%.40s' (expected e.g. Px-sg(y), x-y, 0.5*Py-x, cos(Px,sg(y)), "
                          "uniformity(y), infonce(x,y))",
                          start);
    if (pair && tb == t.source)
      return rc_error_set(err, RC_EINVAL, "--terms: a term compares a sample with a label, not '%.*s'",
                          (int)(s - start), start);
    m->terms[m->n_terms++] = t;
    if (*s == '\0') break;
    s++;
  }
  snprintf(m->name, sizeof m->name, "custom");
  return RC_OK;
}

void rc_model_format(const rc_model *m, char *buf, size_t n) {
  size_t w = 0;
  buf[0] = '\0';
  for (size_t k = 0; k < m->n_terms && w < n; k++) {
    const rc_term *t = &m->terms[k];
    char weight[32] = "";
    if (t->weight != 1.0) snprintf(weight, sizeof weight, "%.17g*", t->weight);
    char src = t->source == RC_BRANCH_X ? 'x' : 'y', tgt = t->source == RC_BRANCH_X ? 'y' : 'x';
    if (t->kind == RC_TERM_UNIFORMITY)
      w += (size_t)snprintf(buf + w, n - w, "%s%suniformity(%c)", k ? "+" : "", weight, src);
    else if (t->kind == RC_TERM_INFONCE)
      w += (size_t)snprintf(buf + w, n - w, "%s%sinfonce(x,y)", k ? "+" : "", weight);
    else
      w += (size_t)snprintf(buf + w, n - w, "%s%s%s%s%c%c%s%s%c%s%s", k ? "+" : "", weight,
                            t->kind == RC_TERM_COS ? "cos(" : "", t->source_head ? "P" : "", src,
                            t->kind == RC_TERM_COS ? ',' : '-', t->stop_gradient ? "sg(" : "",
                            t->target_head ? "P" : "", tgt, t->stop_gradient ? ")" : "",
                            t->kind == RC_TERM_COS ? ")" : "");
  }
}

int rc_model_has_head(const rc_model *m) {
  for (size_t k = 0; k < m->n_terms; k++)
    if (m->terms[k].source_head || m->terms[k].target_head) return 1;
  return 0; /* uniformity and infonce never carry P */
}

int rc_model_has_sg(const rc_model *m) {
  for (size_t k = 0; k < m->n_terms; k++)
    if (m->terms[k].stop_gradient) return 1;
  return 0;
}

int rc_model_is_minimal(const rc_model *m) {
  if (m->n_terms != 1) return 0;
  const rc_term *t = &m->terms[0];
  return t->weight == 1.0 && !t->source_head && !t->target_head && !t->stop_gradient && t->kind == RC_TERM_SQUARE &&
         !m->sphere;
}

double rc_model_uniformity_t(const rc_model *m) {
  return m->uniformity_t > 0 ? m->uniformity_t : RC_DEFAULT_UNIFORMITY_T;
}

double rc_model_temperature(const rc_model *m) {
  return m->temperature > 0 ? m->temperature : RC_DEFAULT_TEMPERATURE;
}

int rc_model_has_kind(const rc_model *m, rc_term_kind kind) {
  for (size_t k = 0; k < m->n_terms; k++)
    if (m->terms[k].kind == kind) return 1;
  return 0;
}

int rc_model_is_classic(const rc_model *m) {
  for (size_t k = 0; k < m->n_terms; k++)
    if (m->terms[k].kind != RC_TERM_SQUARE) return 0;
  return !m->sphere;
}

int rc_model_reduction_exact(const rc_model *m, char *why, size_t n) {
  const char *w = NULL;
  if (m->sphere) w = "--sphere normalises each sample";
  for (size_t k = 0; k < m->n_terms && !w; k++) {
    const rc_term *t = &m->terms[k];
    if (t->kind == RC_TERM_COS) w = "a cosine term is nonlinear in each sample";
    else if (t->kind == RC_TERM_INFONCE) w = "infonce is nonlinear in each sample";
    else if (t->kind == RC_TERM_UNIFORMITY && t->source == RC_BRANCH_X) w = "uniformity(x) is nonlinear in each sample";
  }
  if (w && why && n) snprintf(why, n, "%s", w);
  return w == NULL;
}

rc_status rc_parse_head_init(const char *text, rc_head_init *out, rc_error *err) {
  if (!strcmp(text, "identity")) *out = RC_HEAD_IDENTITY;
  else if (!strcmp(text, "orthogonal")) *out = RC_HEAD_ORTHOGONAL;
  else if (!strcmp(text, "gaussian")) *out = RC_HEAD_GAUSSIAN;
  else return rc_error_set(err, RC_EINVAL, "unknown head init '%s' (expected identity, orthogonal or gaussian)", text);
  return RC_OK;
}

const char *rc_head_init_name(rc_head_init h) {
  return h == RC_HEAD_ORTHOGONAL ? "orthogonal" : h == RC_HEAD_GAUSSIAN ? "gaussian" : "identity";
}

rc_head_params rc_head_params_default(void) {
  rc_head_params hp;
  memset(&hp, 0, sizeof hp);
  hp.base = rc_minimal_params_default();
  rc_model_preset("minimal", &hp.model, NULL);
  hp.eta_head = 1.0;
  hp.head_init = RC_HEAD_IDENTITY;
  hp.head_scale = 1.0;
  return hp;
}
