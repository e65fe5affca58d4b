/* --plot: a Figure-11-style grouped bar chart of a run, drawn by gnuplot. */
#ifndef MMUSIM_PLOT_H
#define MMUSIM_PLOT_H

#include "report.h"

/* Draw r into path (PNG). 0, or a negative error with a message in err. */
int plot_png(const char *path, const struct report *r, char *err, size_t errlen);

#endif
