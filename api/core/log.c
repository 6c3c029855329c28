/* JSON log lines. */
#include "log.h"
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 8192

void jf_log_timestamp(char *out, size_t outlen)
{
    struct timespec ts;
    struct tm tm;
    char base[24];

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, outlen, "%s.%03ldZ", base, ts.tv_nsec / 1000000);
}

void jf_log_line(const char *json, size_t len)
{
    jf_buf b;

    jf_buf_init(&b, LOG_LINE_MAX);
    if (jf_buf_append(&b, json, len) == 0 && jf_buf_append(&b, "\n", 1) == 0) {
        size_t off = 0;
        while (off < b.len) {
            ssize_t w = write(STDOUT_FILENO, b.data + off, b.len - off);
            if (w <= 0)
                break;
            off += (size_t)w;
        }
    }
    jf_buf_free(&b);
}

void jf_log(const char *level, const char *event, const char *fmt, ...)
{
    char msg[1024], ts[40];
    va_list ap;
    jf_buf b;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    jf_log_timestamp(ts, sizeof(ts));
    jf_buf_init(&b, LOG_LINE_MAX);
    if (jf_buf_printf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"event\":", ts, level) == 0 &&
        jf_buf_json_str(&b, event) == 0 && jf_buf_puts(&b, ",\"msg\":") == 0 &&
        jf_buf_json_str(&b, msg) == 0 && jf_buf_puts(&b, "}") == 0)
        jf_log_line(b.data, b.len);
    jf_buf_free(&b);
}
