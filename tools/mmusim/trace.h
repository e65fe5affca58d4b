/* Traces of real programs as access sources, streamed (never stored): the
 * text of valgrind's lackey tool (--trace-mem=yes) or qtrace's binary
 * records, told apart by qtrace's magic header. */
#ifndef MMUSIM_TRACE_H
#define MMUSIM_TRACE_H

#include <dimvisor/types.h>
#include "access.h"
#include "reader.h"

enum trace_format {
	TRACE_LACKEY,
	TRACE_QTRACE,
};

/* What a trace contained so far. Data accesses are what both tracers see
 * alike: lackey's L and S count one each and M (modify) two, a load and a
 * store, as QEMU reports a read-modify-write instruction. */
struct trace_stats {
	u64 loads;    /* lackey L, qtrace loads */
	u64 stores;   /* lackey S, qtrace stores */
	u64 modifies; /* lackey M (each is also one load and one store above) */
	u64 ifetches; /* lackey I, qtrace fetch records */
	u64 ignored;  /* lackey: valgrind's own ==pid== / --pid-- / **pid** lines */
	u64 lines;    /* lackey: lines read */
};

static inline u64 trace_data_accesses(const struct trace_stats *s)
{
	return s->loads + s->stores;
}

struct trace {
	enum trace_format format;
	bool feed_ifetch; /* pass instruction fetches on as ACCESS_IFETCH */
	struct reader rd;
	struct trace_stats stats;
	char err[200];
};

/* Open path ("-" is stdin) and detect its format. 0, or a negative error
 * with a message in err. */
int trace_open(struct trace *t, const char *path, bool feed_ifetch, char *err, size_t errlen);
/* Up to max (>= 1) accesses into buf: their count, 0 at the end of the
 * trace, or a negative error with a message in t->err. The trace's counts
 * (stats) describe exactly the accesses returned so far. */
long trace_next(struct trace *t, struct access *buf, size_t max);
void trace_close(struct trace *t);
const char *trace_format_name(enum trace_format f);

/* The parsers, for trace_next and the unit tests. */
long trace_lackey_next(struct trace *t, struct access *buf, size_t max);
long trace_qtrace_next(struct trace *t, struct access *buf, size_t max);
/* Check and consume qtrace's header. 0 or -DV_EINVAL with t->err set. */
int trace_qtrace_header(struct trace *t);

#endif
