/* spectrum.c: the distinct rates of the minimal model's dynamics with their
 * multiplicities (docs/model.md section 2), from the K x K reduction (degree) or
 * the group reduction (any scheme). Zero modes are counted from the class
 * graph (one per component), and rates merge within 1e-9 of their own size,
 * so learning rates of very different sizes keep their slow rates. */
#include <math.h>
#include <stdlib.h>

#include "analysis/reduction.h"
#include "core/alloc.h"
#include "repcollapse/spectrum.h"

void rc_spectrum_free(rc_spectrum *s) {
  if (!s) return;
  free(s->rate);
  free(s->multiplicity);
  free(s);
}

/* One raw rate: value, multiplicity, its absolute uncertainty (from how it
 * was computed) and whether it is known to be a zero mode. */
typedef struct {
  double r;
  long m;
  double u;
  int zero;
} raw_rate;

static int cmp_raw(const void *a, const void *b) {
  double x = ((const raw_rate *)a)->r, y = ((const raw_rate *)b)->r;
  return (x > y) - (x < y);
}

/* Relative merge tolerance: two rates merge when they differ by less than
 * RC_MERGE_REL of their size (plus the uncertainties of both), so the rule
 * follows the scale of each rate, not of the fastest one: a slow rate 1e-10
 * times the fast one is still resolved. */
#define RC_MERGE_REL 1e-9

/* Merge raw rates into distinct rates (raw is sorted in place). */
static rc_status merge_raw(raw_rate *raw, size_t m, rc_spectrum **out, rc_error *err) {
  *out = NULL;
  rc_spectrum *s = rc_calloc(1, sizeof *s, "spectrum", err);
  if (s) {
    s->rate = rc_calloc(m + 1, sizeof(double), "spectrum", err);
    s->multiplicity = rc_calloc(m + 1, sizeof(long), "spectrum", err);
  }
  if (!s || !s->rate || !s->multiplicity) {
    rc_spectrum_free(s);
    return RC_ENOMEM;
  }
  s->tolerance = RC_MERGE_REL;
  size_t n = 0;
  for (size_t k = 0; k < m; k++) {
    if (raw[k].zero) s->zero_modes += (size_t)raw[k].m;
    else raw[n++] = raw[k];
  }
  qsort(raw, n, sizeof *raw, cmp_raw);
  /* clusters: a new one starts when the gap to the previous value exceeds the tolerance of both */
  size_t k = 0;
  while (k < n) {
    size_t start = k;
    long total = 0;
    double wsum = 0.0, wr = 0.0;
    do {
      total += raw[k].m;
      if (raw[k].m > 0) {
        wsum += (double)raw[k].m;
        wr += (double)raw[k].m * raw[k].r;
      }
      k++;
    } while (k < n && raw[k].r - raw[k - 1].r <= RC_MERGE_REL * fabs(raw[k].r) + raw[k].u + raw[k - 1].u);
    double value = wsum > 0 ? wr / wsum : raw[start].r;
    if (total <= 0) continue; /* signed counts that cancel (docs/theory.md 4.2) */
    s->rate[s->n_rates] = value;
    s->multiplicity[s->n_rates] = total;
    s->n_rates++;
  }
  s->fast_rate = s->n_rates ? s->rate[s->n_rates - 1] : 0.0;
  s->slow_rate = s->n_rates ? s->rate[0] : 0.0;
  s->next_rate = s->n_rates > 1 ? s->rate[1] : s->slow_rate;
  *out = s;
  return RC_OK;
}

rc_status rc_spectrum_from_raw(const double *rates, const long *mult, size_t n, rc_spectrum **out, rc_error *err) {
  *out = NULL;
  raw_rate *raw = rc_calloc(n + 1, sizeof *raw, "spectrum", err);
  if (!raw) return RC_ENOMEM;
  double fast = 0.0;
  for (size_t k = 0; k < n; k++)
    if (mult[k] != 0 && rates[k] > fast) fast = rates[k];
  size_t m = 0;
  for (size_t k = 0; k < n; k++) /* without the structure, a zero mode is a rate below RC_MERGE_REL * fast */
    if (mult[k] != 0) raw[m++] = (raw_rate){rates[k], mult[k], 0.0, rates[k] <= RC_MERGE_REL * fast};
  rc_status st = merge_raw(raw, m, out, err);
  free(raw);
  return st;
}

/* number of connected components of the class graph: the number of zero modes per coordinate */
static rc_status count_components(const rc_dataset *ds, size_t *n, rc_error *err) {
  rc_components *c = NULL;
  rc_status st = rc_components_compute(ds, &c, err);
  *n = st ? 0 : c->n_components;
  rc_components_free(c);
  return st;
}

/* The smallest nonzero eigenvalue must stand clear of round-off: an
 * eigenvalue of a matrix of norm `scale` is known to about 1e-16 scale. */
static rc_status check_resolved(double slow, double scale, const rc_minimal_params *p, const char *what,
                                double limit, rc_error *err) {
  if (slow > limit * scale) return RC_OK;
  return rc_error_set(err, RC_EINVAL,
                      "the slowest rate (about %.3g) is below %g times the fastest (%.3g) in the %s: double "
                      "precision cannot resolve it, so the spectrum would be wrong (eta_x = %g, eta_y = %g, ratio %.3g%s)",
                      slow, limit, scale, what, p->eta_x, p->eta_y, p->eta_x / p->eta_y,
                      p->rates == RC_RATES_DEGREE ? "" : "; under --rates degree the K x K reduction resolves it");
}

/* Under degree: each eigenvalue nu of the K x K matrix I - S (in [0, 1],
 * known to about 1e-16 whatever the learning rates) gives two rates; the
 * zero modes are the n_components smallest nu (nu = 0 exactly in theory),
 * counted from the class graph, not guessed with a tolerance. */
static rc_status spectrum_kk(const rc_dataset *ds, const rc_minimal_params *p, rc_spectrum **out, rc_error *err) {
  size_t K = ds->n_classes, n_comp = 0;
  double *nu;
  rc_status st = count_components(ds, &n_comp, err);
  if (st) return st;
  st = rc_kk_eigen(ds, 0, &nu, NULL, err);
  if (st) return st;
  if (n_comp < K && !(nu[n_comp] > 1e-13)) {
    free(nu);
    return rc_error_set(err, RC_EINVAL,
                        "the slowest mode of the class graph (nu = %.3g) is below what double precision resolves", nu[n_comp]);
  }
  raw_rate *raw = rc_calloc(2 * K + 1, sizeof *raw, "spectrum", err);
  if (!raw) {
    free(nu);
    return RC_ENOMEM;
  }
  const double ex = p->eta_x, ey = p->eta_y, dnu = 1e-13; /* nu's uncertainty */
  for (size_t k = 0; k < K; k++) {
    double lm, lp;
    rc_kk_rates(k < n_comp ? 0.0 : nu[k], ex, ey, &lm, &lp);
    double root = sqrt((ex - ey) * (ex - ey) + 4.0 * ex * ey * (1.0 - nu[k]));
    /* uncertainties: |d lambda / d nu| * dnu (lambda_- ~ nu for small nu) */
    raw[2 * k] = (raw_rate){lm, 1, k < n_comp ? 0.0 : dnu * lm / nu[k], k < n_comp};
    raw[2 * k + 1] = (raw_rate){lp, 1, dnu * ex * ey / root, 0};
  }
  /* eta_x carries the remaining N - K (negative when N < K: it then cancels
   * the eta_x rates that mu = 0 produced, docs/theory.md) */
  raw[2 * K] = (raw_rate){ex, (long)ds->n_samples - (long)K, 0.0, 0};
  st = merge_raw(raw, 2 * K + 1, out, err);
  free(nu);
  free(raw);
  return st;
}

/* Any scheme: the (G + K) symmetric matrix's eigenvalues (absolute error
 * about 1e-16 of the largest; the n_components smallest are the zero modes)
 * and the within-group rates (exact). */
static rc_status spectrum_group(const rc_dataset *ds, const rc_minimal_params *p, rc_spectrum **out,
                                rc_error *err) {
  size_t n_comp = 0;
  rc_status st = count_components(ds, &n_comp, err);
  if (st) return st;
  rc_groups *g;
  st = rc_groups_compute(ds, &g, err);
  if (st) return st;
  double *lam;
  st = rc_group_eigen(ds, p, g, 0, &lam, NULL, NULL, err);
  if (st) {
    rc_groups_free(g);
    return st;
  }
  size_t G = g->n_groups, n = G + ds->n_classes;
  raw_rate *raw = rc_calloc(n + G, sizeof *raw, "spectrum", err);
  if (raw) {
    double big = 0.0;
    for (size_t k = 0; k < n; k++) big = fmax(big, fabs(lam[k]));
    /* lam ascending (dsyevd): a slow rate must stand 1e-10 clear of the
     * largest, so that it carries a relative error below about 1e-6 */
    if (n_comp < n) st = check_resolved(lam[n_comp], big, p, "group reduction", 1e-10, err);
    for (size_t k = 0; k < n; k++) raw[k] = (raw_rate){lam[k], 1, 1e-12 * big, k < n_comp};
    for (size_t gi = 0; gi < G; gi++) { /* within-group differences */
      size_t i = g->group_rep[gi];
      raw[n + gi] = (raw_rate){rc_sample_rate(ds, p, i) * ds->sample_weight[i], (long)g->group_size[gi] - 1, 0.0, 0};
    }
    if (!st) st = merge_raw(raw, n + G, out, err);
  } else {
    st = RC_ENOMEM;
  }
  free(raw);
  free(lam);
  rc_groups_free(g);
  return st;
}

rc_status rc_spectrum_compute(const rc_dataset *ds, const rc_minimal_params *p, rc_spectrum_method method,
                              rc_spectrum **out, rc_error *err) {
  *out = NULL;
  if (!(p->eta_x > 0) || !(p->eta_y > 0) || !isfinite(p->eta_x) || !isfinite(p->eta_y))
    return rc_error_set(err, RC_EINVAL, "learning rates must be positive (eta_x = %g, eta_y = %g)", p->eta_x,
                        p->eta_y);
  if (method == RC_SPECTRUM_AUTO) method = p->rates == RC_RATES_DEGREE ? RC_SPECTRUM_KK : RC_SPECTRUM_GROUP;
  if (method == RC_SPECTRUM_KK && p->rates != RC_RATES_DEGREE)
    return rc_error_set(err, RC_EINVAL, "the K x K reduction holds only under the degree rate scheme");
  rc_status st = method == RC_SPECTRUM_KK ? spectrum_kk(ds, p, out, err) : spectrum_group(ds, p, out, err);
  if (st == RC_OK) (*out)->method = method;
  return st;
}

double rc_two_class_slow_rate(rc_rate_scheme rates, double ex, double ey, double n, double F) {
  if (rates == RC_RATES_DEGREE) {
    double lm, lp;
    rc_kk_rates(F / (n + F), ex, ey, &lm, &lp);
    return lm;
  }
  /* uniform: antisymmetric sector (1/M) [[ex, -ex], [-ey n, ey (n + F)]], M = 2n + 2F */
  double M = 2.0 * n + 2.0 * F;
  double tr = (ex + ey * (n + F)) / M, det = ex * ey * F / (M * M);
  return 2.0 * det / (tr + sqrt(tr * tr - 4.0 * det));
}
