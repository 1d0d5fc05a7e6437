/* cmd_data.c: `repcollapse data`: build a data set, print its description
 * (JSON), optionally write its observations as CSV. */
#include <stdio.h>

#include "cli/cli.h"
#include "repcollapse/report.h"

int cmd_data(int argc, char **argv) {
  cli_options o;
  int rc = cli_parse(argc, argv, 2, OPT_DATA | OPT_OUTFILE, "data", &o);
  if (rc) {
    cli_options_free(&o);
    return rc < 0 ? 0 : rc;
  }
  rc_error err;
  rc_error_clear(&err);
  rc_dataset *ds = NULL;
  rc_components *comp = NULL;
  rc_groups *g = NULL;
  rc_status st = rc_data_generate(&o.cfg.data, &ds, &err);
  if (!st) st = rc_components_compute(ds, &comp, &err);
  if (!st) st = rc_groups_compute(ds, &g, &err);
  if (!st && o.out) st = rc_dataset_write_csv(ds, o.out, &err);
  if (!st) {
    json_t *j = rc_dataset_json(ds, comp);
    json_object_set_new(j, "n_groups", json_integer((json_int_t)g->n_groups));
    json_dumpf(j, cli_stdout(), JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    fputc('\n', cli_stdout());
    json_decref(j);
  }
  rc_groups_free(g);
  rc_components_free(comp);
  rc_dataset_free(ds);
  cli_options_free(&o);
  return st ? cli_fail(&err) : 0;
}
