/* plot.h: figures through gnuplot (Debian's gnuplot-nox, cairo terminals).
 * A figure is a gnuplot script that plots to the terminal and output set by
 * rc_plot_render; each is rendered to PNG and SVG. */
#ifndef REPCOLLAPSE_PLOT_H
#define REPCOLLAPSE_PLOT_H

#include "repcollapse/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Whether a gnuplot with the pngcairo and svg terminals is on PATH. */
int rc_plot_available(void);

/** Render the gnuplot script `script` (which must not set terminal/output) to
 * `<stem>.png` (width x height pixels) and `<stem>.svg`; errors name the script. */
rc_status rc_plot_render(const char *script, const char *stem, int width, int height, rc_error *err);

#ifdef __cplusplus
}
#endif

#endif
