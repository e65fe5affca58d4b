#include "lib/log.h"

static enum log_level current = LOG_LEVEL_INFO;

void log_set_level(enum log_level level)
{
	current = level;
}

bool log_enabled(enum log_level level)
{
	return current >= level;
}
