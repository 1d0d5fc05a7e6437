/* spectrum.c: the distinct rates of the minimal model's dynamics with their
 * multiplicities (MODEL.md section 2), from the K x K reduction (degree) or
 * the group reduction (any scheme), merged within 1e-9 * fast_rate. */
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

typedef struct {
  double r;
  long m;
} raw_rate;

static int cmp_raw(const void *a, const void *b) {
  double x = ((const raw_rate *)a)->r, y = ((const raw_rate *)b)->r;
  return (x > y) - (x < y);
}

rc_status rc_spectrum_from_raw(const double *rates, const long *mult, size_t n, rc_spectrum **out, rc_error *err) {
  *out = NULL;
  raw_rate *raw = rc_calloc(n, sizeof *raw, "spectrum", err);
  rc_spectrum *s = rc_calloc(1, sizeof *s, "spectrum", err);
  if (s) {
    s->rate = rc_calloc(n, sizeof(double), "spectrum", err);
    s->multiplicity = rc_calloc(n, sizeof(long), "spectrum", err);
  }
  if (!raw || !s || !s->rate || !s->multiplicity) {
    free(raw);
    rc_spectrum_free(s);
    return RC_ENOMEM;
  }
  size_t m = 0;
  for (size_t k = 0; k < n; k++)
    if (mult[k] != 0) raw[m++] = (raw_rate){rates[k], mult[k]};
  qsort(raw, m, sizeof *raw, cmp_raw);
  double fast = 0.0;
  for (size_t k = 0; k < m; k++)
    if (raw[k].r > fast) fast = raw[k].r;
  double tol = 1e-9 * fast;
  s->tolerance = tol;
  /* clusters: a new one starts when the gap to the previous value exceeds tol */
  size_t k = 0;
  while (k < m) {
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
    } while (k < m && raw[k].r - raw[k - 1].r <= tol);
    double value = wsum > 0 ? wr / wsum : raw[start].r;
    if (total <= 0) continue;
    if (raw[start].r <= tol) {
      s->zero_modes += (size_t)total;
    } else {
      s->rate[s->n_rates] = value;
      s->multiplicity[s->n_rates] = total;
      s->n_rates++;
    }
  }
  free(raw);
  s->fast_rate = s->n_rates ? s->rate[s->n_rates - 1] : 0.0;
  s->slow_rate = s->n_rates ? s->rate[0] : 0.0;
  s->next_rate = s->n_rates > 1 ? s->rate[1] : s->slow_rate;
  *out = s;
  return RC_OK;
}

static rc_status spectrum_kk(const rc_dataset *ds, const rc_minimal_params *p, rc_spectrum **out, rc_error *err) {
  size_t K = ds->n_classes;
  double *nu;
  rc_status st = rc_kk_eigen(ds, 0, &nu, NULL, err);
  if (st) return st;
  double *r = rc_calloc(2 * K + 1, sizeof *r, "spectrum", err);
  long *m = rc_calloc(2 * K + 1, sizeof *m, "spectrum", err);
  if (!r || !m) {
    free(nu);
    free(r);
    free(m);
    return RC_ENOMEM;
  }
  for (size_t k = 0; k < K; k++) {
    rc_kk_rates(nu[k], p->eta_x, p->eta_y, &r[2 * k], &r[2 * k + 1]);
    m[2 * k] = m[2 * k + 1] = 1;
  }
  /* eta_x carries the remaining N - K (negative when N < K: it then cancels
   * the eta_x rates that mu = 0 produced, docs/theory.md) */
  r[2 * K] = p->eta_x;
  m[2 * K] = (long)ds->n_samples - (long)K;
  st = rc_spectrum_from_raw(r, m, 2 * K + 1, out, err);
  free(nu);
  free(r);
  free(m);
  return st;
}

static rc_status spectrum_group(const rc_dataset *ds, const rc_minimal_params *p, rc_spectrum **out,
                                rc_error *err) {
  rc_groups *g;
  rc_status st = rc_groups_compute(ds, &g, err);
  if (st) return st;
  double *lam;
  st = rc_group_eigen(ds, p, g, 0, &lam, NULL, NULL, err);
  if (st) {
    rc_groups_free(g);
    return st;
  }
  size_t G = g->n_groups, n = G + ds->n_classes;
  double *r = rc_calloc(n + G, sizeof *r, "spectrum", err);
  long *m = rc_calloc(n + G, sizeof *m, "spectrum", err);
  if (r && m) {
    for (size_t k = 0; k < n; k++) {
      r[k] = lam[k];
      m[k] = 1;
    }
    for (size_t gi = 0; gi < G; gi++) { /* within-group differences */
      size_t i = g->group_rep[gi];
      r[n + gi] = rc_sample_rate(ds, p, i) * ds->sample_weight[i];
      m[n + gi] = (long)g->group_size[gi] - 1;
    }
    st = rc_spectrum_from_raw(r, m, n + G, out, err);
  } else {
    st = RC_ENOMEM;
  }
  free(r);
  free(m);
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
