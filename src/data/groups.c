/* groups.c: the group reduction's grouping (samples with identical rows of A,
 * docs/model.md section 2) and the class graph's connected components. */
#define _GNU_SOURCE /* qsort_r */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "repcollapse/data.h"

/* Rows are compared by (length, labels, counts); sorting sample indices by row
 * puts identical rows next to each other. glibc's qsort_r carries the data set
 * (no global state: data sets may be grouped in several threads at once). */
static int cmp_rows(const void *pa, const void *pb, void *ctx) {
  size_t i = *(const size_t *)pa, j = *(const size_t *)pb;
  const rc_dataset *ds = ctx;
  size_t ai = ds->row_ptr[i], li = ds->row_ptr[i + 1] - ai;
  size_t aj = ds->row_ptr[j], lj = ds->row_ptr[j + 1] - aj;
  if (li != lj) return li < lj ? -1 : 1;
  for (size_t k = 0; k < li; k++) {
    if (ds->labels[ai + k] != ds->labels[aj + k]) return ds->labels[ai + k] < ds->labels[aj + k] ? -1 : 1;
    if (ds->counts[ai + k] != ds->counts[aj + k]) return ds->counts[ai + k] < ds->counts[aj + k] ? -1 : 1;
  }
  return (i > j) - (i < j); /* stable: order within a group by index */
}

static int same_row(const rc_dataset *ds, size_t i, size_t j) {
  size_t ai = ds->row_ptr[i], li = ds->row_ptr[i + 1] - ai;
  size_t aj = ds->row_ptr[j], lj = ds->row_ptr[j + 1] - aj;
  if (li != lj) return 0;
  return memcmp(ds->labels + ai, ds->labels + aj, li * sizeof *ds->labels) == 0 &&
         memcmp(ds->counts + ai, ds->counts + aj, li * sizeof *ds->counts) == 0;
}

void rc_groups_free(rc_groups *g) {
  if (!g) return;
  free(g->group_of_sample);
  free(g->group_size);
  free(g->group_rep);
  free(g);
}

rc_status rc_groups_compute(const rc_dataset *ds, rc_groups **out, rc_error *err) {
  *out = NULL;
  size_t N = ds->n_samples;
  rc_groups *g = rc_calloc(1, sizeof *g, "groups", err);
  size_t *order = rc_calloc(N, sizeof *order, "groups", err);
  if (g) g->group_of_sample = rc_calloc(N, sizeof(size_t), "groups", err);
  if (!g || !order || !g->group_of_sample) {
    free(order);
    rc_groups_free(g);
    return RC_ENOMEM;
  }
  for (size_t i = 0; i < N; i++) order[i] = i;
  qsort_r(order, N, sizeof *order, cmp_rows, (void *)ds);
  size_t G = 0;
  for (size_t k = 0; k < N; k++)
    if (k == 0 || !same_row(ds, order[k], order[k - 1])) G++;
  g->n_groups = G;
  g->group_size = rc_calloc(G, sizeof(size_t), "groups", err);
  g->group_rep = rc_calloc(G, sizeof(size_t), "groups", err);
  if (!g->group_size || !g->group_rep) {
    free(order);
    rc_groups_free(g);
    return RC_ENOMEM;
  }
  size_t gi = 0;
  for (size_t k = 0; k < N; k++) {
    if (k > 0 && !same_row(ds, order[k], order[k - 1])) gi++;
    if (g->group_size[gi] == 0) g->group_rep[gi] = order[k];
    g->group_size[gi]++;
    g->group_of_sample[order[k]] = gi;
  }
  free(order);
  *out = g;
  return RC_OK;
}

/* ---- class graph components: union-find over classes ---- */

static size_t uf_find(size_t *parent, size_t a) {
  while (parent[a] != a) {
    parent[a] = parent[parent[a]];
    a = parent[a];
  }
  return a;
}

void rc_components_free(rc_components *c) {
  if (!c) return;
  free(c->component_of_class);
  free(c);
}

rc_status rc_components_compute(const rc_dataset *ds, rc_components **out, rc_error *err) {
  *out = NULL;
  size_t K = ds->n_classes;
  rc_components *c = rc_calloc(1, sizeof *c, "components", err);
  size_t *parent = rc_calloc(K, sizeof *parent, "components", err);
  size_t *id = rc_calloc(K, sizeof *id, "components", err);
  if (c) c->component_of_class = rc_calloc(K, sizeof(size_t), "components", err);
  if (!c || !parent || !id || !c->component_of_class) {
    free(parent);
    free(id);
    rc_components_free(c);
    return RC_ENOMEM;
  }
  for (size_t k = 0; k < K; k++) parent[k] = k;
  for (size_t i = 0; i < ds->n_samples; i++) {
    size_t a = ds->row_ptr[i], b = ds->row_ptr[i + 1];
    for (size_t j = a + 1; j < b; j++) {
      size_t r1 = uf_find(parent, ds->labels[a]), r2 = uf_find(parent, ds->labels[j]);
      if (r1 != r2) parent[r1 > r2 ? r1 : r2] = r1 < r2 ? r1 : r2;
    }
  }
  /* number components by their smallest class */
  size_t n = 0;
  for (size_t k = 0; k < K; k++) id[k] = (size_t)-1;
  for (size_t k = 0; k < K; k++) {
    size_t r = uf_find(parent, k);
    if (id[r] == (size_t)-1) id[r] = n++;
    c->component_of_class[k] = id[r];
  }
  c->n_components = n;
  c->n_classes = K;
  free(parent);
  free(id);
  *out = c;
  return RC_OK;
}
