/* sweep_grid.c: the grid of a parameter sweep (sweep.h): parsing
 * `name=values; ...` into axes of value strings, row-major point numbering,
 * and the summary values of one run that make a row of sweep.csv. */
#include <limits.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/number.h"
#include "repcollapse/fixedpoint.h"
#include "repcollapse/sweep.h"

void rc_sweep_grid_free(rc_sweep_grid *g) {
  if (!g) return;
  for (size_t a = 0; a < g->n_axes; a++) {
    for (size_t k = 0; k < g->axes[a].n_values; k++) free(g->axes[a].values[k]);
    free(g->axes[a].values);
    free(g->axes[a].name);
  }
  free(g->axes);
  memset(g, 0, sizeof *g);
}

/* a copy of s[0..n) without leading and trailing blanks */
static char *trimmed(const char *s, size_t n) {
  while (n && isspace((unsigned char)*s)) s++, n--;
  while (n && isspace((unsigned char)s[n - 1])) n--;
  char *t = malloc(n + 1);
  if (t) {
    memcpy(t, s, n);
    t[n] = '\0';
  }
  return t;
}

/* capacity doubles at each power of two, so a long range costs O(n), not
 * O(n^2) copies (found by fuzzing: a 255551-value range timed out) */
static int append_value(rc_sweep_axis *ax, char *v) {
  size_t n = ax->n_values;
  if (!v) return 0;
  if ((n & (n - 1)) == 0) { /* n is 0 or a power of two: the array is full */
    char **nv = realloc(ax->values, (n ? 2 * n : 1) * sizeof *nv);
    if (!nv) {
      free(v);
      return 0;
    }
    ax->values = nv;
  }
  ax->values[ax->n_values++] = v;
  return 1;
}

/* numbers: the project's one parser (core/number.h), decimal only */
static int parse_ll(const char *s, long long *v) {
  const int neg = *s == '-';
  unsigned long long x;
  if (!rc_count_parse(s + neg, &x) || x > (unsigned long long)LLONG_MAX) return 0;
  *v = neg ? -(long long)x : (long long)x;
  return 1;
}

static int parse_dbl(const char *s, double *v) { return rc_number_parse(s, v); }

/* Split s on sep into trimmed items; every item must be non-empty. */
static rc_status split_list(rc_sweep_axis *ax, const char *s, char sep, rc_error *err) {
  for (const char *p = s;;) {
    const char *q = strchr(p, sep);
    size_t n = q ? (size_t)(q - p) : strlen(p);
    char *v = trimmed(p, n);
    if (v && !*v) {
      free(v);
      return rc_error_set(err, RC_EINVAL, "axis '%s': empty value in '%s'", ax->name, s);
    }
    if (!append_value(ax, v)) return rc_error_set(err, RC_ENOMEM, "axis '%s': out of memory", ax->name);
    if (!q) return RC_OK;
    p = q + 1;
  }
}

/* a (b/a)^u for a, b > 0 and 0 < u < 1; through logarithms when b/a
 * overflows or underflows (1e-300:1e300), so the value stays between a and b */
static double log_spaced(double a, double b, double u) {
  const double r = b / a;
  if (isfinite(r) && r > 0 && isnormal(r)) return a * pow(r, u);
  return exp(log(a) + (log(b) - log(a)) * u);
}

/* i:j (integers), a:b:n (n evenly spaced numbers, ends included) or
 * a:b:n:log (n numbers a (b/a)^(k/(n-1)), k = 0..n-1, with a, b > 0) */
static rc_status expand_range(rc_sweep_axis *ax, const char *s, rc_error *err) {
  /* up to 5 parts, so that a fifth one makes the range malformed rather than being dropped */
  char *parts[5] = {NULL, NULL, NULL, NULL, NULL};
  size_t np = 0;
  rc_status st = RC_OK;
  for (const char *p = s; np < 5;) {
    const char *q = strchr(p, ':');
    parts[np++] = trimmed(p, q ? (size_t)(q - p) : strlen(p));
    if (!q) break;
    p = q + 1;
  }
  for (size_t k = 0; k < np; k++)
    if (!parts[k]) st = rc_error_set(err, RC_ENOMEM, "axis '%s': out of memory", ax->name);
  char buf[64];
  if (st) {
  } else if (np == 2) {
    long long i = 0, j = -1;
    if (!parse_ll(parts[0], &i) || !parse_ll(parts[1], &j))
      st = rc_error_set(err, RC_EINVAL, "axis '%s': malformed range '%s' (i:j takes integers; values that contain ':' go in a | list)",
                        ax->name, s);
    else if (j < i)
      st = rc_error_set(err, RC_EINVAL, "axis '%s': empty range '%s'", ax->name, s);
    else if ((unsigned long long)(j - i) >= RC_SWEEP_MAX_AXIS_VALUES)
      st = rc_error_set(err, RC_EINVAL, "axis '%s': range '%s' is too long", ax->name, s);
    for (long long v = i; !st && v <= j; v++) { /* i, j are set when st is RC_OK */
      snprintf(buf, sizeof buf, "%lld", v);
      if (!append_value(ax, strdup(buf))) st = rc_error_set(err, RC_ENOMEM, "axis '%s': out of memory", ax->name);
    }
  } else if (np == 3 || (np == 4 && !strcmp(parts[3], "log"))) {
    const int geometric = np == 4;
    double a = 0, b = 0;
    long long n = 0;
    if (!parse_dbl(parts[0], &a) || !parse_dbl(parts[1], &b) || !parse_ll(parts[2], &n) || n < 0)
      st = rc_error_set(err, RC_EINVAL, "axis '%s': malformed range '%s' (expected %s)", ax->name, s,
                        geometric ? "a:b:n:log, n log-spaced values from a to b" : "a:b:n, n values from a to b");
    else if (geometric && !(a > 0 && b > 0))
      st = rc_error_set(err, RC_EINVAL, "axis '%s': log range '%s' needs a > 0 and b > 0", ax->name, s);
    else if (n == 0)
      st = rc_error_set(err, RC_EINVAL, "axis '%s': empty range '%s' (n = 0)", ax->name, s);
    else if (n == 1 && a != b)
      st = rc_error_set(err, RC_EINVAL, "axis '%s': range '%s' has one value but two different ends", ax->name, s);
    else if ((unsigned long long)n > RC_SWEEP_MAX_AXIS_VALUES)
      st = rc_error_set(err, RC_EINVAL, "axis '%s': range '%s' is too long", ax->name, s);
    for (long long k = 0; !st && k < n; k++) {
      /* ends exact; %.15g prints 0:0.2:21 as 0, 0.01, ..., 0.2, not 0.030000000000000002,
       * and 1:1000:4:log as 1, 10, 100, 1000 */
      double v = k == 0 ? a
                 : k == n - 1 ? b
                 : geometric  ? log_spaced(a, b, (double)k / (double)(n - 1))
                              : a + (b - a) * (double)k / (double)(n - 1);
      snprintf(buf, sizeof buf, "%.15g", v);
      if (!append_value(ax, strdup(buf))) st = rc_error_set(err, RC_ENOMEM, "axis '%s': out of memory", ax->name);
    }
  } else {
    st = rc_error_set(err, RC_EINVAL, "axis '%s': malformed range '%s' (expected i:j, a:b:n or a:b:n:log; values with ':' go in a | list)",
                      ax->name, s);
  }
  for (size_t k = 0; k < np; k++) free(parts[k]);
  return st;
}

static int valid_name(const char *s) {
  if (!*s) return 0;
  for (const char *p = s; *p; p++)
    if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-' || *p == '_')) return 0;
  return 1;
}

/* One `name=values` item into g's next axis. */
static rc_status parse_axis(rc_sweep_grid *g, const char *item, rc_error *err) {
  const char *eq = strchr(item, '=');
  if (!eq) return rc_error_set(err, RC_EINVAL, "axis '%s': expected NAME=VALUES", item);
  char *name = trimmed(item, (size_t)(eq - item));
  char *vals = trimmed(eq + 1, strlen(eq + 1));
  rc_status st = RC_OK;
  if (!name || !vals) st = rc_error_set(err, RC_ENOMEM, "out of memory");
  else if (!strncmp(name, "--", 2)) memmove(name, name + 2, strlen(name + 2) + 1);
  if (!st && !valid_name(name)) st = rc_error_set(err, RC_EINVAL, "axis '%s': malformed name (expected an option of run, such as frustration)", name);
  for (size_t a = 0; !st && a < g->n_axes; a++)
    if (!strcmp(g->axes[a].name, name)) st = rc_error_set(err, RC_EINVAL, "axis '%s' is given twice", name);
  if (!st && !*vals) st = rc_error_set(err, RC_EINVAL, "axis '%s': no values", name);
  if (!st) {
    rc_sweep_axis *na = realloc(g->axes, (g->n_axes + 1) * sizeof *na);
    if (!na) st = rc_error_set(err, RC_ENOMEM, "out of memory");
    else {
      g->axes = na;
      memset(&g->axes[g->n_axes], 0, sizeof *na);
      g->axes[g->n_axes].name = name;
      name = NULL;
      rc_sweep_axis *ax = &g->axes[g->n_axes++];
      if (strchr(vals, '|')) st = split_list(ax, vals, '|', err);
      else if (strchr(vals, ':')) st = expand_range(ax, vals, err);
      else st = split_list(ax, vals, ',', err);
    }
  }
  free(name);
  free(vals);
  return st;
}

rc_status rc_sweep_grid_parse(const char *spec, rc_sweep_grid *g, rc_error *err) {
  memset(g, 0, sizeof *g);
  rc_status st = RC_OK;
  size_t n_items = 0;
  const char *p0 = spec;
  while (isspace((unsigned char)*p0)) p0++;
  if (!*p0) return rc_error_set(err, RC_EINVAL, "no axes (expected NAME=VALUES;NAME=VALUES...)");
  for (const char *p = spec; !st;) {
    const char *q = strchr(p, ';');
    char *item = trimmed(p, q ? (size_t)(q - p) : strlen(p));
    if (!item) st = rc_error_set(err, RC_ENOMEM, "out of memory");
    else if (!*item) st = q || n_items == 0 ? rc_error_set(err, RC_EINVAL, "empty axis in '%s' (axes are NAME=VALUES separated by ';')", spec) : RC_OK;
    else st = parse_axis(g, item, err);
    free(item);
    n_items++;
    if (!q) break;
    p = q + 1;
  }
  if (!st) {
    g->n_points = 1;
    for (size_t a = 0; a < g->n_axes && !st; a++) {
      if (g->axes[a].n_values > RC_SWEEP_MAX_POINTS / g->n_points)
        st = rc_error_set(err, RC_EINVAL, "more than %u points", RC_SWEEP_MAX_POINTS);
      else g->n_points *= g->axes[a].n_values;
    }
  }
  if (st) rc_sweep_grid_free(g);
  return st;
}

const char *rc_sweep_point_value(const rc_sweep_grid *g, size_t p, size_t axis) {
  for (size_t a = g->n_axes; a-- > axis + 1;) p /= g->axes[a].n_values;
  return g->axes[axis].values[p % g->axes[axis].n_values];
}

void rc_sweep_point_describe(const rc_sweep_grid *g, size_t p, char *buf, size_t n) {
  size_t used = 0;
  if (n) buf[0] = '\0';
  for (size_t a = 0; a < g->n_axes && used < n; a++) {
    int w = snprintf(buf + used, n - used, "%s%s=%s", a ? ", " : "", g->axes[a].name, rc_sweep_point_value(g, p, a));
    if (w < 0) break;
    used += (size_t)w;
  }
}

int rc_sweep_in_shard(size_t p, size_t shard_i, size_t shard_n) {
  return shard_n == 0 || p % shard_n == shard_i - 1;
}

/* ---- summary columns ---- */

/* Columns before and after the final metrics (which are final_<metric name>). */
static const char *const COLS_BEFORE[] = {"n_samples", "n_frustrated", "data_frustration", "head_rate_ratio", "t_end",
                                          "initial_min_label_distance"};
static const char *const COLS_AFTER[] = {"collapse_time", "fitted_slow_rate", "slow_rate", "next_rate",
                                         "predicted_final_min_label_distance", "final_separation_gain"};
#define N_BEFORE (sizeof COLS_BEFORE / sizeof COLS_BEFORE[0])
#define N_AFTER (sizeof COLS_AFTER / sizeof COLS_AFTER[0])

/* the paper's final metrics, the columns after them, then the metrics added
 * since (section 6.0), so that every earlier column keeps its place */
#define N_BASE RC_N_METRICS_BASE
#define N_EXTRA (RC_N_METRICS - RC_N_METRICS_BASE)
size_t rc_sweep_n_columns(void) { return N_BEFORE + N_BASE + N_AFTER + N_EXTRA; }

const char *rc_sweep_column_name(size_t k, char *buf, size_t n) {
  if (k < N_BEFORE) snprintf(buf, n, "%s", COLS_BEFORE[k]);
  else if (k < N_BEFORE + N_BASE) snprintf(buf, n, "final_%s", rc_metric_names[k - N_BEFORE]);
  else if (k < N_BEFORE + N_BASE + N_AFTER) snprintf(buf, n, "%s", COLS_AFTER[k - N_BEFORE - N_BASE]);
  else if (k < N_BEFORE + N_BASE + N_AFTER + N_EXTRA)
    snprintf(buf, n, "final_%s", rc_metric_names[N_BASE + (k - N_BEFORE - N_BASE - N_AFTER)]);
  else snprintf(buf, n, "?");
  return buf;
}

/* The head's gain |P v|/|v| on the separation v = y_a - y_b of the closest
 * pair of labels (the pair that sets min_label_distance); NAN without a head
 * or when the labels coincide. */
static double closest_pair_gain_of(const double *Y, const double *P, size_t K, size_t d) {
  if (!P || !Y || K < 2) return NAN;
  double *gain = malloc(K * (K - 1) / 2 * sizeof *gain);
  if (!gain) return NAN;
  rc_separation_gains(Y, P, K, d, 1e-9, gain);
  double best = INFINITY, g = NAN;
  size_t k = 0;
  for (size_t a = 0; a < K; a++)
    for (size_t b = a + 1; b < K; b++, k++) {
      double q = 0;
      for (size_t c = 0; c < d; c++) q += (Y[a * d + c] - Y[b * d + c]) * (Y[a * d + c] - Y[b * d + c]);
      if (q < best) {
        best = q;
        g = gain[k];
      }
    }
  free(gain);
  return g;
}

static double closest_pair_gain(const rc_run_result *r) {
  if (!r->has_head || !r->final_head || !r->final_labels) return NAN;
  return closest_pair_gain_of(r->final_labels, r->final_head, r->ds->n_classes, r->dim);
}

void rc_sweep_result_values(const rc_run_config *cfg, const rc_run_result *r, double *v) {
  const rc_metrics_row *first = &r->rows[0], *last = &r->rows[r->n_rows - 1];
  size_t k = 0;
  v[k++] = (double)r->ds->n_samples;
  v[k++] = (double)r->ds->n_frustrated;
  v[k++] = rc_dataset_frustration(r->ds);
  /* docs/model.md section 3: outcomes depend on eta_head sigma^2 / eta_x (eta_W in its place for an encoder) */
  const double eta_enc = cfg->encoder == RC_ENCODER_TABLE ? cfg->model.eta_x : cfg->eta_w;
  v[k++] = r->has_head ? cfg->eta_head * cfg->init.sigma * cfg->init.sigma / eta_enc : NAN;
  v[k++] = r->t_end;
  v[k++] = first->t == 0.0 && first->valid[RC_M_MIN_LABEL_DISTANCE] ? first->value[RC_M_MIN_LABEL_DISTANCE] : NAN;
  for (int m = 0; m < RC_N_METRICS_BASE; m++) v[k++] = last->valid[m] ? last->value[m] : NAN;
  v[k++] = r->has_collapse_time ? r->collapse_time : NAN;
  v[k++] = r->has_fitted_slow_rate ? r->fitted_slow_rate : NAN;
  v[k++] = r->spec->n_rates ? r->spec->slow_rate : NAN;
  v[k++] = r->spec->n_rates ? r->spec->next_rate : NAN;
  v[k++] = r->predicted_final_min_label_distance;
  v[k++] = closest_pair_gain(r);
  for (int m = RC_N_METRICS_BASE; m < RC_N_METRICS; m++) v[k++] = last->valid[m] ? last->value[m] : NAN;
}
