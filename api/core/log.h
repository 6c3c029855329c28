/* JSON log lines on stdout (access log and events), one write(2) each so
 * lines from many threads never interleave. */
#ifndef JF_LOG_H
#define JF_LOG_H

#include <stddef.h>

/* Write one already-formatted JSON object as a line. */
void jf_log_line(const char *json, size_t len);
/* {"ts":…,"level":level,"event":event,"msg":<formatted>} */
void jf_log(const char *level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* ISO 8601 UTC time with milliseconds into out (at least 32 bytes). */
void jf_log_timestamp(char *out, size_t outlen);

#define jf_log_info(ev, ...) jf_log("info", ev, __VA_ARGS__)
#define jf_log_warn(ev, ...) jf_log("warn", ev, __VA_ARGS__)
#define jf_log_error(ev, ...) jf_log("error", ev, __VA_ARGS__)

#endif
