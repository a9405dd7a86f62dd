/*
 * retry_after.c: how long a provider asked us to wait. Reads `Retry-After`
 * (delay-seconds or HTTP-date in its three forms, RFC 9110 sections 5.6.7 and
 * 10.2.3), `retry-after-ms`, Gemini's RetryInfo durations ("43s"), and the Go
 * durations OpenAI writes in its messages ("1m30.5s").
 *
 * Borrows the value for the call; never reads past `len`; no allocation.
 */
#include "retry_after.h"

#include <string.h>

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static void trim(const char **value, size_t *len)
{
    while (*len > 0 && is_ows((*value)[0])) {
        (*value)++;
        (*len)--;
    }
    while (*len > 0 && is_ows((*value)[*len - 1]))
        (*len)--;
}

/* A non-negative decimal ("17", "1.5"), at most 12 integer digits; -1 otherwise. */
static double decimal(const char *s, size_t len)
{
    double value = 0, scale = 1;
    size_t i = 0, whole = 0;

    while (i < len && s[i] >= '0' && s[i] <= '9') {
        if (++whole > 12)
            return -1;
        value = value * 10 + (s[i] - '0');
        i++;
    }
    if (whole == 0)
        return -1;
    if (i < len && s[i] == '.') {
        size_t fraction = 0;
        i++;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (fraction < 9) {
                scale /= 10;
                value += (s[i] - '0') * scale;
            }
            fraction++;
            i++;
        }
        if (fraction == 0)
            return -1;
    }
    return i == len ? value : -1;
}

double acn_retry_after_ms_parse(const char *value, size_t len)
{
    double ms;

    if (value == NULL)
        return -1;
    trim(&value, &len);
    ms = decimal(value, len);
    return ms < 0 ? -1 : ms / 1000.0;
}

double acn_duration_parse(const char *value, size_t len)
{
    if (value == NULL)
        return -1;
    trim(&value, &len);
    if (len < 2 || value[len - 1] != 's')
        return -1;
    return decimal(value, len - 1);
}

double acn_go_duration_parse(const char *s, size_t len)
{
    double total = 0;
    size_t i = 0;
    int parts = 0;

    while (i < len && parts < 4) {
        double value = 0, scale = 1;
        size_t start = i;
        int fraction = 0;
        while (i < len && ((s[i] >= '0' && s[i] <= '9') || (s[i] == '.' && !fraction))) {
            if (s[i] == '.')
                fraction = 1;
            else if (fraction && scale > 1e-9)
                value += (s[i] - '0') * (scale /= 10);
            else if (!fraction && i - start < 9)
                value = value * 10 + (s[i] - '0');
            i++;
        }
        if (i == start)
            break;
        if (i + 1 < len && s[i] == 'm' && s[i + 1] == 's') {
            total += value / 1000.0;
            i += 2;
        } else if (i < len && (s[i] == 'h' || s[i] == 'm' || s[i] == 's')) {
            total += value * (s[i] == 'h' ? 3600.0 : s[i] == 'm' ? 60.0 : 1.0);
            i++;
        } else {
            break;
        }
        parts++;
    }
    return parts > 0 ? total : -1;
}

/* ---- HTTP-date ---- */

typedef struct cursor {
    const char *s;
    size_t len;
    size_t pos;
} cursor;

static int take(cursor *c, char expected)
{
    if (c->pos < c->len && c->s[c->pos] == expected) {
        c->pos++;
        return 1;
    }
    return 0;
}

/* Exactly `n` digits. */
static int digits(cursor *c, size_t n, int *out)
{
    size_t i;
    int value = 0;

    if (c->len - c->pos < n)
        return 0;
    for (i = 0; i < n; i++) {
        char ch = c->s[c->pos + i];
        if (ch < '0' || ch > '9')
            return 0;
        value = value * 10 + (ch - '0');
    }
    c->pos += n;
    *out = value;
    return 1;
}

static int word_in(cursor *c, const char *const *words, int count, int *out)
{
    int i;

    for (i = 0; i < count; i++) {
        size_t n = strlen(words[i]);
        if (c->len - c->pos >= n && memcmp(c->s + c->pos, words[i], n) == 0) {
            c->pos += n;
            *out = i;
            return 1;
        }
    }
    return 0;
}

static const char *const short_days[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
static const char *const long_days[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                        "Friday", "Saturday", "Sunday"};
static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* hour ":" minute ":" second */
static int time_of_day(cursor *c, int *hour, int *minute, int *second)
{
    return digits(c, 2, hour) && take(c, ':') && digits(c, 2, minute) && take(c, ':') && digits(c, 2, second);
}

static int gmt(cursor *c)
{
    static const char *const zones[] = {"GMT", "UTC"};
    int zone;

    return word_in(c, zones, 2, &zone);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static long days_from_civil(long y, int m, int d)
{
    long era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153L * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

    return month == 2 && leap ? 29 : days[month - 1];
}

static int civil_year_of(double now)
{
    long days = (long)(now / 86400.0);
    /* civil_from_days, year only */
    long z = days + 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    long month = mp < 10 ? mp + 3 : mp - 9;

    return (int)(yoe + era * 400 + (month <= 2));
}

int acn_http_date_parse(const char *value, size_t len, double now, double *out)
{
    cursor c;
    int wday, day = 0, month = 0, year = 0, hour = 0, minute = 0, second = 0;
    int ok = 0;

    if (value == NULL)
        return -1;
    trim(&value, &len);
    c.s = value;
    c.len = len;

    /* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
    c.pos = 0;
    if (word_in(&c, short_days, 7, &wday) && take(&c, ',') && take(&c, ' ') && digits(&c, 2, &day) &&
        take(&c, ' ') && word_in(&c, months, 12, &month) && take(&c, ' ') && digits(&c, 4, &year) &&
        take(&c, ' ') && time_of_day(&c, &hour, &minute, &second) && take(&c, ' ') && gmt(&c) && c.pos == len)
        ok = 1;

    /* RFC 850: Sunday, 06-Nov-94 08:49:37 GMT */
    if (!ok) {
        c.pos = 0;
        if (word_in(&c, long_days, 7, &wday) && take(&c, ',') && take(&c, ' ') && digits(&c, 2, &day) &&
            take(&c, '-') && word_in(&c, months, 12, &month) && take(&c, '-') && digits(&c, 2, &year) &&
            take(&c, ' ') && time_of_day(&c, &hour, &minute, &second) && take(&c, ' ') && gmt(&c) &&
            c.pos == len) {
            /* RFC 9110: a two-digit year more than 50 years in the future is in the past century. */
            int current = civil_year_of(now > 0 ? now : 0);
            year += (current / 100) * 100;
            if (year > current + 50)
                year -= 100;
            ok = 1;
        }
    }

    /* asctime: Sun Nov  6 08:49:37 1994 */
    if (!ok) {
        c.pos = 0;
        if (word_in(&c, short_days, 7, &wday) && take(&c, ' ') && word_in(&c, months, 12, &month) &&
            take(&c, ' ')) {
            int day_ok = take(&c, ' ') ? digits(&c, 1, &day) : digits(&c, 2, &day);
            if (day_ok && take(&c, ' ') && time_of_day(&c, &hour, &minute, &second) && take(&c, ' ') &&
                digits(&c, 4, &year) && c.pos == len)
                ok = 1;
        }
    }

    if (!ok)
        return -1;
    month += 1;
    if (day < 1 || day > days_in_month(year, month) || hour > 23 || minute > 59 || second > 60)
        return -1;
    *out = (double)days_from_civil(year, month, day) * 86400.0 + hour * 3600.0 + minute * 60.0 + second;
    return 0;
}

double acn_retry_after_parse(const char *value, size_t len, double now)
{
    double seconds, when;

    if (value == NULL)
        return -1;
    trim(&value, &len);
    seconds = decimal(value, len);
    if (seconds >= 0)
        return seconds;
    if (acn_http_date_parse(value, len, now, &when) != 0)
        return -1;
    return when > now ? when - now : 0;
}
