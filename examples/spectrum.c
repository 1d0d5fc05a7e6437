/* spectrum.c: a C program using the installed repcollapse library.
 *
 *   spectrum name=value ...     e.g.  spectrum classes=2 per_class=50 frustration=0.1
 *
 * runs `spectrum` through the library's entry point (rc_command) with the
 * options given as name=value, prints the JSON the CLI would print, then the
 * slow rate once more from the library's own structs (rc_data_generate,
 * rc_spectrum_compute) for the same data set. On bad input it prints the
 * CLI's one-line error and exits with status 2, as `repcollapse spectrum` does.
 *
 * Build: cc spectrum.c $(pkg-config --cflags --libs repcollapse)   (or CMake: see CMakeLists.txt) */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <repcollapse/command.h>
#include <repcollapse/repcollapse.h>

static size_t to_stdout(const char *data, size_t n, void *ctx) {
  (void)ctx;
  return fwrite(data, 1, n, stdout);
}

int main(int argc, char **argv) {
  const char *keys[64], *values[64];
  char *copies[64];
  size_t n = 0;
  for (int k = 1; k < argc && n < 64; k++) {
    copies[n] = strdup(argv[k]);
    char *eq = strchr(copies[n], '=');
    if (eq) *eq = '\0';
    keys[n] = copies[n];
    values[n] = eq ? eq + 1 : "true";
    n++;
  }
  rc_command_io io = {to_stdout, NULL, NULL, NULL, NULL, NULL};
  rc_error err;
  rc_status st = rc_command("spectrum", n, keys, values, &io, &err);
  if (st) {
    fprintf(stderr, "%s\n", err.msg);
    return st == RC_EINVAL || st == RC_EUNSTABLE ? 2 : 1;
  }
  /* the same data set through the structs: --classes and --per-class (one size), --frustration */
  rc_data_spec spec = rc_run_config_default().data;
  size_t per_class = 0;
  for (size_t k = 0; k < n; k++) {
    if (!strcmp(keys[k], "classes")) spec.n_classes = strtoul(values[k], NULL, 10);
    if (!strcmp(keys[k], "per_class")) per_class = strtoul(values[k], NULL, 10);
    if (!strcmp(keys[k], "frustration")) {
      spec.frustration = strtod(values[k], NULL);
      spec.has_frustration = 1;
    }
  }
  spec.class_sizes = &per_class;
  spec.n_class_sizes = 1;
  rc_dataset *ds = NULL;
  rc_spectrum *sp = NULL;
  rc_minimal_params p = rc_minimal_params_default();
  if (rc_data_generate(&spec, &ds, &err) || rc_spectrum_compute(ds, &p, RC_SPECTRUM_AUTO, &sp, &err)) {
    fprintf(stderr, "spectrum: %s\n", err.msg);
    return 1;
  }
  printf("slow_rate %.17g\n", sp->slow_rate);
  rc_spectrum_free(sp);
  rc_dataset_free(ds);
  for (size_t k = 0; k < n; k++) free(copies[k]);
  return 0;
}
