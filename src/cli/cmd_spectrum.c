/* cmd_spectrum.c: `repcollapse spectrum`: the exact rates of the minimal
 * model (one JSON object on stdout); with --dim, also the exact t -> infinity
 * min_label_distance for the initial state `run` would draw; with
 * --weight-decay w, weight_decay_shift = w (every rate shifts by w). */
#include <math.h>
#include <stdio.h>

#include "cli/cli.h"
#include "repcollapse/report.h"

int cmd_spectrum(int argc, char **argv) {
  cli_options o;
  int rc = cli_parse(argc, argv, 2, OPT_DATA | OPT_MODEL | OPT_INIT | OPT_SPECTRUM | OPT_OUTFILE, "spectrum", &o);
  if (rc) {
    cli_options_free(&o);
    return rc < 0 ? 0 : rc;
  }
  rc_error err;
  rc_error_clear(&err);
  rc_dataset *ds = NULL;
  rc_components *comp = NULL;
  rc_spectrum *sp = NULL;
  rc_state *init = NULL, *fixed = NULL;
  rc_status st = rc_data_generate(&o.cfg.data, &ds, &err);
  if (!st) st = rc_components_compute(ds, &comp, &err);
  if (!st) st = rc_spectrum_compute(ds, &o.cfg.model, o.method, &sp, &err);
  if (!st && o.dim_given) {
    st = rc_state_init(ds, &o.cfg.init, o.cfg.dim, &init, &err);
    if (!st) st = rc_fixed_point_state(ds, &o.cfg.model, init, &fixed, &err);
  }
  if (!st) {
    json_t *j = rc_spectrum_json(sp, comp);
    json_object_set_new(j, "rates_scheme", json_string(rc_rate_scheme_name(o.cfg.model.rates)));
    json_object_set_new(j, "n_samples", json_integer((json_int_t)ds->n_samples));
    json_object_set_new(j, "n_classes", json_integer((json_int_t)ds->n_classes));
    json_object_set_new(j, "frustration", json_real(rc_dataset_frustration(ds)));
    if (json_object_get(o.settings, "weight-decay")) {
      /* docs/model.md 6.1: weight decay w on every parameter adds w to every rate,
       * zero modes included; the rates above stay the decay-free ones */
      json_object_set_new(j, "weight_decay_shift", json_real(o.cfg.train.opt.weight_decay));
      json_object_set_new(j, "weight_decay_note",
                          json_string("rates, zero modes and slow_rate are those of the decay-free field; with weight "
                                      "decay w on every parameter each rate (zero modes included) is rate + "
                                      "weight_decay_shift, in flow and in a gd step's dt (rate + w)"));
    }
    if (fixed) {
      json_object_set_new(j, "dim", json_integer((json_int_t)o.cfg.dim));
      json_object_set_new(j, "init_seed", json_integer((json_int_t)o.cfg.init.seed));
      json_object_set_new(j, "initial_min_label_distance", rc_json_number(rc_min_label_distance(init)));
      json_object_set_new(j, "final_min_label_distance", rc_json_number(rc_min_label_distance(fixed)));
    }
    if (o.out) st = rc_json_write_file(j, o.out, &err);
    else {
      json_dumpf(j, cli_stdout(), JSON_INDENT(2) | JSON_REAL_PRECISION(17));
      fputc('\n', cli_stdout());
    }
    json_decref(j);
  }
  rc_state_free(init);
  rc_state_free(fixed);
  rc_spectrum_free(sp);
  rc_components_free(comp);
  rc_dataset_free(ds);
  cli_options_free(&o);
  return st ? cli_fail(&err) : 0;
}
