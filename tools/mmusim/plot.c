/* The chart: one group of bars per configuration, one bar per cost method
 * (per-reference model, Table IV linear model), height = page-walk cycles
 * relative to native 4 KiB, like the paper's Figure 11 compares designs
 * against their baseline. gnuplot (Debian gnuplot-nox) reads the script and
 * the data from a pipe. */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include <dimvisor/errno.h>
#include "plot.h"

/* gnuplot string literal: single quotes doubled. */
static void gp_str(FILE *p, const char *s)
{
	fputc('\'', p);
	for (; *s; s++) {
		if (*s == '\'')
			fputc('\'', p);
		fputc(*s, p);
	}
	fputc('\'', p);
}

int plot_png(const char *path, const struct report *r, char *err, size_t errlen)
{
	FILE *p = popen("gnuplot", "w");
	char title[200];
	double top = 1;
	int st;

	if (!p) {
		snprintf(err, errlen, "--plot: cannot run gnuplot (Debian package gnuplot-nox)");
		return -DV_ENOENT;
	}
	for (size_t i = 0; i < r->nres; i++)
		top = MAX(top, MAX(r->res[i].overhead_vs_native_4k,
				   r->res[i].overhead_linear_vs_native_4k));
	snprintf(title, sizeof(title), "%s: page-walk cycles relative to native 4 KiB (TLB %s)",
		 r->o->workload ? r->o->workload : r->o->trace, r->o->sim.tlb);
	fprintf(p, "set terminal pngcairo size 1100,500 noenhanced font ',10'\nset output ");
	gp_str(p, path);
	fprintf(p, "\nset title ");
	gp_str(p, title);
	fprintf(p,
		"\nset style data histograms\n"
		"set style histogram clustered gap 1\n"
		"set style fill solid 0.8 border -1\n"
		"set boxwidth 0.9\n"
		"set ylabel 'walk cycles / native-4k walk cycles'\n"
		"set yrange [0:%g]\n"
		"set grid ytics\n"
		"set xtics rotate by -30\n"
		"set key outside top center horizontal\n"
		"set arrow from graph 0, first 1 to graph 1, first 1 nohead dashtype 2\n"
		"$data << EOD\n",
		top * 1.1);
	for (size_t i = 0; i < r->nres; i++) {
		if (r->o->configs[i].hidden)
			continue;
		fprintf(p, "\"%s\" %.6f %.6f\n", r->res[i].name, r->res[i].overhead_vs_native_4k,
			r->res[i].overhead_linear_vs_native_4k);
	}
	fprintf(p, "EOD\n"
		   "plot $data using 2:xtic(1) title 'per-reference model', "
		   "'' using 3 title 'linear model (Table IV)'\n");
	st = pclose(p);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		snprintf(err, errlen, "--plot: gnuplot failed drawing %s", path);
		return -DV_EIO;
	}
	return 0;
}
