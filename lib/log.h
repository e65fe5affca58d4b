/* Console verbosity (the log= key): errors and results always print with
 * kprintf; kinfo is the boot report, kdebug the details behind it. */
#ifndef LIB_LOG_H
#define LIB_LOG_H

#include "lib/printf.h"

enum log_level { LOG_LEVEL_QUIET = 0, LOG_LEVEL_INFO = 1, LOG_LEVEL_DEBUG = 2 };

void log_set_level(enum log_level level);
bool log_enabled(enum log_level level);

#define kinfo(...)  (log_enabled(LOG_LEVEL_INFO) ? kprintf(__VA_ARGS__) : 0)
#define kdebug(...) (log_enabled(LOG_LEVEL_DEBUG) ? kprintf(__VA_ARGS__) : 0)

#endif
